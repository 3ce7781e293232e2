// Package storetest is the conformance suite every Purser store must pass:
// internal/sqlite always, internal/postgres whenever PURSER_TEST_POSTGRES_URL
// is set. It drives the services black-box through the purser interfaces.
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/footprint"
	"github.com/purserhq/purser/internal/sqldb"
)

// Opener opens a fresh, empty, migrated store for one test.
type Opener func(t *testing.T) *sqldb.DB

// Run runs the whole suite against stores made by open. Tests that open
// a store of their own run in parallel.
func Run(t *testing.T, open Opener) {
	t.Run("Users", func(t *testing.T) { t.Parallel(); testUsers(t, open) })
	t.Run("Roles", func(t *testing.T) { t.Parallel(); testRoles(t, open) })
	t.Run("Tokens", func(t *testing.T) { t.Parallel(); testTokens(t, open) })
	t.Run("Sessions", func(t *testing.T) { t.Parallel(); testSessions(t, open) })
	t.Run("Identities", func(t *testing.T) { t.Parallel(); testIdentities(t, open) })
	t.Run("SignInLimiter", func(t *testing.T) { t.Parallel(); testSignInLimiter(t, open) })
	t.Run("Query", func(t *testing.T) { t.Parallel(); testQuery(t, open) })
	t.Run("Jobs", func(t *testing.T) { t.Parallel(); testJobs(t, open) })
	t.Run("Bootstrap", func(t *testing.T) { t.Parallel(); testBootstrap(t, open) })
	t.Run("Provisioning", func(t *testing.T) { t.Parallel(); testProvisioning(t, open) })
	t.Run("Templates", func(t *testing.T) { t.Parallel(); testTemplates(t, open) })
	t.Run("TxPanic", func(t *testing.T) { t.Parallel(); testTxPanic(t, open) })
	t.Run("JobLogs", func(t *testing.T) { t.Parallel(); testJobLogs(t, open) })
	t.Run("Leases", func(t *testing.T) { t.Parallel(); testLeases(t, open) })
	t.Run("AuditNames", func(t *testing.T) { t.Parallel(); testAuditNames(t, open) })
	t.Run("CursorPages", func(t *testing.T) { t.Parallel(); testCursorPages(t, open) })
	t.Run("ListPlans", func(t *testing.T) { t.Parallel(); testListPlans(t, open) })
	t.Run("Stacks", func(t *testing.T) { t.Parallel(); testStacks(t, open) })
	t.Run("ClusterKinds", func(t *testing.T) { t.Parallel(); testClusterKinds(t, open) })
	t.Run("ClusterECSUpdate", func(t *testing.T) { t.Parallel(); testClusterECSUpdate(t, open) })
	t.Run("StackDeployers", func(t *testing.T) { t.Parallel(); testStackDeployers(t, open) })
	t.Run("Pools", func(t *testing.T) { t.Parallel(); testPools(t, open) })
	t.Run("PoolScaling", func(t *testing.T) { t.Parallel(); testPoolScaling(t, open) })
	t.Run("PoolAgentRestart", func(t *testing.T) { t.Parallel(); testPoolAgentRestart(t, open) })
}

// PostgresURL returns a connection URL to a schema of its own on the server
// named by PURSER_TEST_POSTGRES_URL, dropped when the test ends, or "" when
// the variable is unset.
func PostgresURL(t testing.TB) string {
	base := os.Getenv("PURSER_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PURSER_TEST_POSTGRES_URL is not set under CI (.ci/run sets it)")
		}
		return ""
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PURSER_TEST_POSTGRES_URL: %v", err)
	}
	schema := fmt.Sprintf("purser_test_%d", rand.Uint64()>>1)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("PURSER_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// admin returns a context acting as a fresh admin user of db.
func admin(t *testing.T, db *sqldb.DB) (context.Context, *purser.User) {
	t.Helper()
	return as(t, db, "root", purser.RoleAdmin)
}

// as creates a user with the roles and returns a context acting as it.
func as(t *testing.T, db *sqldb.DB, username string, roles ...string) (context.Context, *purser.User) {
	t.Helper()
	u := &purser.User{Username: username, Name: username, Roles: roles, IsActive: true}
	if err := sqldb.NewUserService(db).CreateUser(purser.SystemContext(context.Background()), u); err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return purser.NewContextWithActor(context.Background(), &purser.Actor{User: u}), u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := purser.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// Equip gives db what the server gives it: a sealing key, the footprint
// evaluator and the sim driver's resource types.
func Equip(t testing.TB, db *sqldb.DB) *sqldb.DB {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(rand.Uint32())
	}
	s, err := sqldb.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	db.Sealer, db.Evaluator = s, &footprint.Evaluator{}
	db.Drivers = map[string][]string{"sim": {"KUBERNETES", "INSTANCE", "S3BUCKET"}, "kubernetes-namespace": {"KUBERNETES"}}
	return db
}
