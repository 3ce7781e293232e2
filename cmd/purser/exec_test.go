package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/purserhq/purser/client"
)

// TestExecTemplateEndToEnd drives a template whose commands are shell
// scripts from REQUESTED to DEPLOYED to PURGED through the real server and
// CLI, following its logs live and reading its outputs as the owner.
func TestExecTemplateEndToEnd(t *testing.T) {
	buckets := t.TempDir()
	t.Setenv("PURSER_BUCKET_ROOT", buckets)
	url, token := server(t)
	ctx := context.Background()
	admin := client.New(url, token)
	dev, _ := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	other, _ := admin.CreateUser(ctx, client.UserCreate{Username: "other", Roles: []string{"dev"}})
	otherTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "other", User: other.ID})

	as := func(tok string, args ...string) (int, string, string) {
		return cli(t, append(args, "--server", url, "--token", tok)...)
	}
	must := func(tok string, args ...string) string {
		t.Helper()
		code, out, errOut := as(tok, args...)
		if code != 0 {
			t.Fatalf("purser %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	must(token, "templates", "create", "-f", filepath.Join("..", "..", "examples", "templates", "local-bucket.yaml"))
	out := must(devTok.Token, "request", "create", "--template", "local-bucket", "--param", "bucket=team-data")
	id := regexp.MustCompile(`\b[0-9a-f]{24}\b`).FindString(out)
	must(token, "request", "approve", id)

	// Follow the logs live while the script runs, until it is DEPLOYED.
	code, logs, errOut := as(devTok.Token, "request", "logs", id, "-f")
	if code != 0 || !strings.Contains(errOut, "request is DEPLOYED") {
		t.Fatalf("logs -f: %d\n%s%s", code, logs, errOut)
	}
	for _, want := range []string{"creating bucket team-data", `"bucket": "team-data"`, "bucket ready", "access key is [redacted]"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("followed logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "local-access-key-do-not-log") {
		t.Fatalf("the secret parameter reached the log:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(buckets, "team-data", ".policy.json")); err != nil {
		t.Fatalf("the script made no bucket: %v", err)
	}
	outs := must(devTok.Token, "request", "get", id, "--outputs")
	if !strings.Contains(outs, "file://"+buckets+"/team-data") || !strings.Contains(outs, "local-access-key-do-not-log") {
		t.Fatalf("outputs for the owner:\n%s", outs)
	}
	if code, _, errOut := as(otherTok.Token, "request", "get", id, "--outputs"); code == 0 || !strings.Contains(errOut, "403") {
		t.Fatalf("another developer read the outputs: %d %s", code, errOut)
	}

	must(devTok.Token, "request", "purge", id)
	code, logs, errOut = as(devTok.Token, "request", "logs", id, "-f")
	if code != 0 || !strings.Contains(errOut, "request is PURGED") || !strings.Contains(logs, "bucket deleted") {
		t.Fatalf("purge logs: %d\n%s%s", code, logs, errOut)
	}
	if _, err := os.Stat(filepath.Join(buckets, "team-data")); !os.IsNotExist(err) {
		t.Fatalf("the bucket is still there after the purge: %v", err)
	}
}
