package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/storetest"
)

// testKey is the secret_key of the PostgreSQL stores in these tests.
const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// apiAnswers is what a user sees of the store through the API: users,
// requests, a request's sealed outputs, stacks, clusters' secrets.
func apiAnswers(t *testing.T, url, token, requestID string) map[string]string {
	t.Helper()
	ctx := context.Background()
	c := client.New(url, token)
	out := map[string]string{}
	for _, p := range []string{"/api/v1/users?sort=username", "/api/v1/roles", "/api/v1/templates", "/api/v1/provisionRequests",
		"/api/v1/quotas", "/api/v1/clusters", "/api/v1/clusters/demo-sim/revisions", "/api/v1/clusters/demo-sim/secrets",
		"/api/v1/provisionRequests/" + requestID + "/outputs", "/api/v1/events?sort=_created&max_results=100"} {
		body, err := c.DoRaw(ctx, "GET", p, "", nil, "application/json")
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		out[p] = string(body)
	}
	return out
}

// TestBackupMovesSQLiteToPostgreSQL is the move a team makes when it
// outgrows the embedded store: `purser backup` of a running SQLite server,
// `purser restore` into a new PostgreSQL database, and the API answers the
// same (users and their tokens, requests and their sealed outputs, stacks).
func TestBackupMovesSQLiteToPostgreSQL(t *testing.T) {
	pg := storetest.PostgresURL(t)
	if pg == "" {
		t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
	}
	archive := filepath.Join(t.TempDir(), "purser.tar.gz")
	var token, requestID, key string
	var before map[string]string
	t.Run("BackupSQLite", func(t *testing.T) {
		url, admin := serverWith(t, []string{"server", "--demo"}, "PURSER_SIM_ROLLOUT_TIME", "-1s")
		token, requestID, before = seedForBackup(t, url, admin)
		// Online: the server is running.
		code, out, errOut := cli(t, "backup", archive)
		if code != 0 || !strings.Contains(out, "Backed up") || !strings.Contains(out, "secret_key") {
			t.Fatalf("backup: %d %q %q", code, out, errOut)
		}
		t.Log(strings.TrimSpace(out))
		data, err := os.ReadFile(filepath.Join(os.Getenv("PURSER_DATA_DIR"), "secret.key"))
		if err != nil {
			t.Fatal(err)
		}
		key = strings.TrimSpace(string(data))
	})
	if t.Failed() {
		return
	}
	t.Run("RestorePostgreSQL", func(t *testing.T) {
		t.Setenv("PURSER_DATA_DIR", t.TempDir())
		t.Setenv("PURSER_DATABASE", pg)
		t.Setenv("PURSER_SECRET_KEY", testKey)
		if code, _, errOut := cli(t, "restore", archive); code == 0 || !strings.Contains(errOut, "another secret_key") {
			t.Fatalf("restore with another key: %d %q; want refused", code, errOut)
		}
		t.Setenv("PURSER_SECRET_KEY", key)
		code, out, errOut := cli(t, "restore", archive)
		if code != 0 || !strings.Contains(out, "Restored") || !strings.Contains(out, "users") {
			t.Fatalf("restore: %d %q %q", code, out, errOut)
		}
		t.Log(strings.TrimSpace(out))
		if code, _, errOut := cli(t, "restore", archive); code == 0 || !strings.Contains(errOut, "already holds Purser data") {
			t.Fatalf("restore into a store with data: %d %q; want refused", code, errOut)
		}
		url, again := server(t, "PURSER_DATABASE", pg, "PURSER_SECRET_KEY", key)
		if again != "" {
			t.Fatal("the restored server made a new admin: the users were not restored")
		}
		after := apiAnswers(t, url, token, requestID)
		for p := range before {
			if d := cmp.Diff(before[p], after[p]); d != "" {
				t.Errorf("GET %s differs after the move (-SQLite +PostgreSQL):\n%s", p, d)
			}
		}
	})
}

// seedForBackup gives a demo server a deployed request (with sealed
// outputs), an applied stack and a cluster secret, and returns the admin
// token, the request's id and the API's answers.
func seedForBackup(t *testing.T, url, admin string) (string, string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	c := client.New(url, admin)
	r, err := c.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "dev-namespace", TTLHours: 24,
		ResourceParameters: map[string]any{"cpu": 1, "memory_gib": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = c.WaitRequest(ctx, r.ID, nil, "DEPLOYED", "FAILED"); err != nil || r.Status != "DEPLOYED" {
		t.Fatalf("provisioning ended %+v: %v", r, err)
	}
	if _, err := c.SetClusterSecret(ctx, "demo-sim", "DB_PASSWORD", "hunter2"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the demo stack's revision applied", func() bool {
		return revisionStatus(t, url, admin, "demo-sim", 1) == "applied"
	})
	return admin, r.ID, apiAnswers(t, url, admin, r.ID)
}
