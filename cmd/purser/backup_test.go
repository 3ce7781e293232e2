package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/awstest"
	"github.com/purserhq/purser/internal/export"
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

// TestScheduledBackups: with backup.schedule, the leader writes an archive
// on schedule to backup.url (a directory on SQLite, an S3 bucket on the AWS
// emulator on PostgreSQL), keeps the newest backup.retention of them, and
// the newest restores into a new store.
func TestScheduledBackups(t *testing.T) { eachStore(t, testScheduledBackups) }

func testScheduledBackups(t *testing.T, env ...string) {
	ctx := context.Background()
	url := "file://" + t.TempDir()
	var opts export.Options
	if len(env) > 0 { // PostgreSQL: to S3
		endpoint := awstest.Start(t)
		client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("backups")}); err != nil {
			t.Fatalf("create bucket: %v", err)
		}
		url = "s3://backups/purser?endpoint=" + endpoint + "&use_path_style=true"
		opts = export.Options{AccessKeyID: "test", SecretAccessKey: "test"}
		env = append(env, "PURSER_BACKUP_ACCESS_KEY_ID", "test", "PURSER_BACKUP_SECRET_ACCESS_KEY", "test")
	}
	bucket, err := export.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	server(t, append(env, "PURSER_BACKUP_SCHEDULE", "@every 1s", "PURSER_BACKUP_URL", url, "PURSER_BACKUP_RETENTION", "2")...)
	list := func() []string {
		keys, err := bucket.ListObjects(ctx, purser.BackupPrefix)
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	var first string
	eventually(t, "a first scheduled backup", func() bool {
		if keys := list(); len(keys) > 0 {
			first = keys[0]
			return true
		}
		return false
	})
	var keys []string
	eventually(t, "the first backup deleted, two newer kept", func() bool {
		keys = list()
		return len(keys) == 2 && !slices.Contains(keys, first)
	})
	if len(keys) != 2 {
		t.Fatalf("backups kept: %v, want the newest 2", keys)
	}
	t.Logf("kept %v (first %s deleted)", keys, first)

	body, _, err := bucket.ReadObject(ctx, keys[1])
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), keys[1])
	if err := os.WriteFile(archive, body, 0o600); err != nil {
		t.Fatal(err)
	}
	key := testKey
	if len(env) == 0 {
		data, err := os.ReadFile(filepath.Join(os.Getenv("PURSER_DATA_DIR"), "secret.key"))
		if err != nil {
			t.Fatal(err)
		}
		key = strings.TrimSpace(string(data))
	}
	t.Setenv("PURSER_DATABASE", "")
	t.Setenv("PURSER_DATA_DIR", t.TempDir())
	t.Setenv("PURSER_SECRET_KEY", key)
	if code, out, errOut := cli(t, "restore", archive); code != 0 || !strings.Contains(out, "users") {
		t.Fatalf("restore of a scheduled backup: %d %q %q", code, out, errOut)
	}
}

// TestBackupMovesPostgreSQLToSQLite is the move back: an archive of a
// running PostgreSQL server restores into SQLite with the same answers.
func TestBackupMovesPostgreSQLToSQLite(t *testing.T) {
	pg := storetest.PostgresURL(t)
	if pg == "" {
		t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
	}
	archive := filepath.Join(t.TempDir(), "purser.tar.gz")
	var token, requestID string
	var before map[string]string
	t.Run("BackupPostgreSQL", func(t *testing.T) {
		url, admin := serverWith(t, []string{"server", "--demo"}, "PURSER_DATABASE", pg, "PURSER_SECRET_KEY", testKey, "PURSER_SIM_ROLLOUT_TIME", "-1s")
		token, requestID, before = seedForBackup(t, url, admin)
		if code, out, errOut := cli(t, "backup", archive); code != 0 {
			t.Fatalf("backup: %d %q %q", code, out, errOut)
		}
	})
	if t.Failed() {
		return
	}
	t.Run("RestoreSQLite", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("PURSER_DATABASE", "")
		t.Setenv("PURSER_DATA_DIR", dir)
		t.Setenv("PURSER_SECRET_KEY", testKey)
		if code, out, errOut := cli(t, "restore", archive); code != 0 {
			t.Fatalf("restore: %d %q %q", code, out, errOut)
		}
		url, _ := server(t, "PURSER_DATA_DIR", dir, "PURSER_SECRET_KEY", testKey)
		after := apiAnswers(t, url, token, requestID)
		for p := range before {
			if d := cmp.Diff(before[p], after[p]); d != "" {
				t.Errorf("GET %s differs after the move (-PostgreSQL +SQLite):\n%s", p, d)
			}
		}
	})
}
