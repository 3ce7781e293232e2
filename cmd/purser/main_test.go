package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/storetest"
)

// server runs the real binary's Main with `server` on port 0 and returns
// its URL and the bootstrap token. It stops when the test ends, and the
// test fails if Main did not exit cleanly.
func server(t *testing.T, env ...string) (url, token string) {
	t.Helper()
	return serverWith(t, []string{"server"}, env...)
}

// serverWith is server with the server command's arguments.
func serverWith(t *testing.T, args []string, env ...string) (url, token string) {
	t.Helper()
	return serverHooked(t, hooks{}, args, env...)
}

// serverHooked is serverWith with hooks (h.OnListen is its own).
func serverHooked(t *testing.T, h hooks, args []string, env ...string) (url, token string) {
	t.Helper()
	dir := t.TempDir()
	execRunAs(t, dir)
	t.Setenv("PURSER_DATA_DIR", dir)
	t.Setenv("PURSER_LISTEN", "127.0.0.1:0")
	t.Setenv("PURSER_LOG_LEVEL", "warn")
	t.Setenv("PURSER_CLI_CONFIG", filepath.Join(dir, "cli.yaml"))
	for i := 0; i+1 < len(env); i += 2 {
		t.Setenv(env[i], env[i+1])
	}
	type ready struct{ url, token string }
	started := make(chan ready, 1)
	var once sync.Once
	h.OnListen = func(u, tok string) { once.Do(func() { started <- ready{u, tok} }) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() { done <- run(ctx, args, nil, &bytes.Buffer{}, &stderr, h) }()
	select {
	case r := <-started:
		t.Cleanup(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("server exited %d: %s", code, stderr.String())
			}
		})
		return r.url, r.token
	case code := <-done:
		cancel()
		t.Fatalf("server exited %d before listening: %s", code, stderr.String())
	}
	return "", ""
}

// cli runs one CLI command through Main and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// eachStore runs f as the subtests SQLite and PostgreSQL (skipped when
// PURSER_TEST_POSTGRES_URL is unset); env is what f passes to server to
// use that store. They run one after the other: server sets the process
// environment.
func eachStore(t *testing.T, f func(t *testing.T, env ...string)) {
	t.Run("SQLite", func(t *testing.T) { f(t) })
	t.Run("PostgreSQL", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		if u == "" {
			t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
		}
		f(t, "PURSER_DATABASE", u, "PURSER_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	})
}

func TestEndToEnd(t *testing.T) { eachStore(t, testEndToEnd) }

func testEndToEnd(t *testing.T, env ...string) {
	url, token := server(t, env...)
	if !strings.HasPrefix(token, "pst_") {
		t.Fatalf("first start printed no admin token (%q)", token)
	}
	ctx := context.Background()
	c := client.New(url, token)
	me, err := c.Me(ctx)
	if err != nil || me.Username != "admin" {
		t.Fatalf("me: %+v, %v", me, err)
	}

	// The seed's set-up calls, through the client.
	for _, r := range []string{"admin", "dev", "devops"} {
		if _, err := c.CreateRole(ctx, r, r); err != nil {
			t.Fatalf("role %s: %v", r, err)
		}
	}
	dev, err := c.CreateUser(ctx, client.UserCreate{Username: "bbb", Name: "BBB", Email: "bbb@xyz.com", Roles: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateToken(ctx, client.TokenCreate{Name: "bbb laptop", User: dev.ID})
	if err != nil || tok.Token == "" {
		t.Fatalf("token for bbb: %+v, %v", tok, err)
	}
	devClient := client.New(url, tok.Token)
	if _, err := devClient.ListUsers(ctx, client.ListOptions{}); client.StatusCode(err) != 403 {
		t.Fatalf("dev listing users: %v, want 403", err)
	}

	// The CLI: login, whoami, lists in every format, a clear error.
	if code, out, errOut := cli(t, "login", "--server", url, "--token", token); code != 0 || !strings.Contains(out, "as admin") {
		t.Fatalf("login: %d %q %q", code, out, errOut)
	}
	st, err := os.Stat(os.Getenv("PURSER_CLI_CONFIG"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved login: %v, mode %v", err, st.Mode())
	}
	if code, out, _ := cli(t, "whoami"); code != 0 || !strings.Contains(out, "admin") || !strings.Contains(out, "USERNAME") {
		t.Fatalf("whoami: %d %q", code, out)
	}
	code, out, _ := cli(t, "users", "list", "-o", "json", "--where", `{"roles":"dev"}`)
	var l client.List[client.User]
	if code != 0 || json.Unmarshal([]byte(out), &l) != nil || l.Meta.Total == nil || *l.Meta.Total != 1 || l.Items[0].Username != "bbb" {
		t.Fatalf("users list -o json: %d %q", code, out)
	}
	if code, out, _ := cli(t, "users", "list", "-o", "yaml"); code != 0 || !strings.Contains(out, "username: bbb") {
		t.Fatalf("users list -o yaml: %d %q", code, out)
	}
	if code, out, _ := cli(t, "users", "create", "ccc", "--role", "dev", "--email", "ccc@xyz.com"); code != 0 || !strings.Contains(out, "ccc@xyz.com") {
		t.Fatalf("users create: %d %q", code, out)
	}
	code, _, errOut := cli(t, "users", "create", "ccc")
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "409") {
		t.Fatalf("duplicate user: exit %d, stderr %q; want one line with 409", code, errOut)
	}
	if code, out, _ := cli(t, "users", "update", dev.ID, "--name", "Bob"); code != 0 || !strings.Contains(out, "Bob") {
		t.Fatalf("users update: %d %q", code, out)
	}
	if code, out, _ := cli(t, "roles", "create", "qa", "--description", "Quality"); code != 0 || !strings.Contains(out, "qa") {
		t.Fatalf("roles create: %d %q", code, out)
	}
	if code, out, _ := cli(t, "roles", "list"); code != 0 || !strings.Contains(out, "devops") {
		t.Fatalf("roles list: %d %q", code, out)
	}
	code, out, _ = cli(t, "tokens", "create", "ci", "-o", "json")
	var nt client.Token
	if code != 0 || json.Unmarshal([]byte(out), &nt) != nil || nt.Token == "" {
		t.Fatalf("tokens create: %d %q", code, out)
	}
	if code, out, _ := cli(t, "tokens", "list"); code != 0 || !strings.Contains(out, "ci") {
		t.Fatalf("tokens list: %d %q", code, out)
	}
	if code, _, _ := cli(t, "tokens", "revoke", nt.ID); code != 0 {
		t.Fatalf("tokens revoke: %d", code)
	}
	if _, err := client.New(url, nt.Token).Me(ctx); client.StatusCode(err) != 401 {
		t.Fatalf("revoked token still works: %v", err)
	}
	if code, _, _ := cli(t, "users", "deactivate", dev.ID); code != 0 {
		t.Fatalf("deactivate: %d", code)
	}
	if _, err := devClient.Me(ctx); client.StatusCode(err) != 401 {
		t.Fatalf("deactivated user's token still works: %v", err)
	}
	if code, _, errOut := cli(t, "users", "list", "-o", "xml"); code != 2 || !strings.Contains(errOut, "--output") {
		t.Fatalf("bad -o: %d %q", code, errOut)
	}
}

func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	var token string
	func() {
		t.Run("First", func(t *testing.T) {
			_, token = server(t, "PURSER_DATA_DIR", dir)
		})
	}()
	t.Run("Second", func(t *testing.T) {
		url, again := server(t, "PURSER_DATA_DIR", dir)
		if again != "" {
			t.Fatal("second start made another admin token")
		}
		if _, err := client.New(url, token).Me(context.Background()); err != nil {
			t.Fatalf("first start's token after restart: %v", err)
		}
	})
}

func TestBootstrapTokenFromEnvironment(t *testing.T) {
	given := "pst_given-by-the-operator-0123456789"
	url, token := server(t, "PURSER_BOOTSTRAP_TOKEN", given)
	if token != given {
		t.Fatalf("bootstrap token %q, want the given one", token)
	}
	if _, err := client.New(url, given).Me(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPrintConfigRedactsSecrets(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "purser.yaml")
	os.WriteFile(cfgPath, []byte("listen: 127.0.0.1:9999\ndatabase: postgres://purser:${DB_PASSWORD}@db:5432/purser\nbootstrap_token: ${BOOT}\n"), 0o600)
	t.Setenv("DB_PASSWORD", "hunter2")
	t.Setenv("BOOT", "pst_secret-secret-secret-secret-secret")
	t.Setenv("PURSER_WORKERS_MAX", "3")
	t.Setenv("PURSER_METRICS_TOKEN", "scrape-me-hunter3")
	code, out, errOut := cli(t, "server", "--config", cfgPath, "--print-config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"listen: 127.0.0.1:9999", "max: 3", "postgres://purser:redacted@db:5432/purser", "bootstrap_token: '[redacted]'",
		"token: '[redacted]'", "max_connections: 1024"} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter") || strings.Contains(out, "pst_secret") {
		t.Fatalf("--print-config shows a secret:\n%s", out)
	}
	// A password may also sit in the URL's query.
	t.Setenv("PURSER_DATABASE", "postgres://db:5432/purser?sslmode=require&password=hunter4&application_name=p")
	code, out, errOut = cli(t, "server", "--print-config")
	if code != 0 || strings.Contains(out, "hunter4") || !strings.Contains(out, "postgres://db:5432/purser?sslmode=require&password=redacted&application_name=p") {
		t.Fatalf("password in the query: exit %d %s:\n%s", code, errOut, out)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("database: ${NOT_SET_ANYWHERE}\n"), 0o600)
	if code, _, errOut := cli(t, "server", "--config", bad, "--print-config"); code == 0 || !strings.Contains(errOut, "NOT_SET_ANYWHERE") {
		t.Fatalf("unset variable: %d %q", code, errOut)
	}
	t.Setenv("PURSER_WORKERS_MAX", "0")
	if code, _, errOut := cli(t, "server", "--print-config"); code == 0 || !strings.Contains(errOut, "workers.max") {
		t.Fatalf("workers.max 0: %d %q", code, errOut)
	}
	t.Setenv("PURSER_WORKERS_MAX", "3")
	t.Setenv("PURSER_REQUESTS_MAX_PENDING", "0")
	if code, _, errOut := cli(t, "server", "--print-config"); code == 0 || !strings.Contains(errOut, "requests.max_pending") {
		t.Fatalf("requests.max_pending 0: %d %q", code, errOut)
	}
	t.Setenv("PURSER_REQUESTS_MAX_PENDING", "10")
	for _, c := range []struct{ env, value, key string }{
		{"PURSER_BOOTSTRAP_TOKEN", "pst_short-0123456789abcdef", "bootstrap_token"},
		{"PURSER_LISTEN", "8080", "listen"},
		{"PURSER_LISTEN", "127.0.0.1:http-alt", "listen"},
		{"PURSER_HTTP_MAX_CONNECTIONS", "0", "http.max_connections"},
		{"PURSER_HTTP_WRITE_TIMEOUT", "0s", "http.write_timeout"},
		{"PURSER_WORKERS_HEARTBEAT_EVERY", "0s", "workers.heartbeat_every"},
		{"PURSER_WORKERS_HEARTBEAT_EVERY", "5m", "workers.rescue_after"}, // a lease of 15m, as long as rescue_after
	} {
		t.Run(c.key, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			if code, _, errOut := cli(t, "server", "--print-config"); code == 0 || !strings.Contains(errOut, c.key) {
				t.Fatalf("%s=%s: %d %q", c.env, c.value, code, errOut)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	if code, out, _ := cli(t, "version"); code != 0 || !strings.HasPrefix(out, "purser ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// TestSecretKeyRotation rotates secret_key as the README says: new key,
// old one in secret_key_previous, restart (everything is resealed), then
// drop the old one.
func TestSecretKeyRotation(t *testing.T) {
	dir := t.TempDir()
	oldKey := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	newKey := "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	var token string
	t.Run("SealWithOld", func(t *testing.T) {
		url, tok := server(t, "PURSER_DATA_DIR", dir, "PURSER_SECRET_KEY", oldKey)
		token = tok
		c := client.New(url, tok)
		if err := c.Do(context.Background(), "PUT", "/api/v1/me/preferences", map[string]any{"channels": []string{"inbox", "webhook"},
			"webhook_url": "http://127.0.0.1:1/h", "webhook_secret": "whsec-rotate-me"}, nil); err != nil {
			t.Fatal(err)
		}
	})
	read := func(t *testing.T, env ...string) string {
		url, _ := server(t, append([]string{"PURSER_DATA_DIR", dir}, env...)...)
		var p map[string]any
		if err := client.New(url, token).Do(context.Background(), "GET", "/api/v1/me/preferences", nil, &p); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(p["webhook_secret"])
	}
	t.Run("RotateKeepingOld", func(t *testing.T) {
		if got := read(t, "PURSER_SECRET_KEY", newKey, "PURSER_SECRET_KEY_PREVIOUS", oldKey); got != "whsec-rotate-me" {
			t.Fatalf("secret after rotation: %q", got)
		}
	})
	t.Run("OldKeyDropped", func(t *testing.T) {
		if got := read(t, "PURSER_SECRET_KEY", newKey); got != "whsec-rotate-me" {
			t.Fatalf("secret with only the new key: %q", got)
		}
	})
}
