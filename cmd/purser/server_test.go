package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
)

// TestIdleConnectionIsClosed: a kept-alive connection with no request is
// closed after http.idle_timeout.
func TestIdleConnectionIsClosed(t *testing.T) {
	u, _ := server(t, "PURSER_HTTP_IDLE_TIMEOUT", "200ms")
	pu, _ := url.Parse(u)
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: purser\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("healthz: %d, close %v", resp.StatusCode, resp.Close)
	}
	// Far past the idle timeout, well short of any other server timeout.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := br.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: read %d bytes, %v; want the server to close it", n, err)
	}
}

// startServer runs `purser server` through Main until it listens (then
// stops it) or exits, and returns its exit code and stderr.
func startServer(t *testing.T, env ...string) (int, string) {
	t.Helper()
	t.Setenv("PURSER_LISTEN", "127.0.0.1:0")
	t.Setenv("PURSER_LOG_LEVEL", "warn")
	for i := 0; i+1 < len(env); i += 2 {
		t.Setenv(env[i], env[i+1])
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	code := run(ctx, []string{"server"}, nil, &bytes.Buffer{}, &stderr, hooks{OnListen: func(string, string) { cancel() }})
	return code, stderr.String()
}

// TestEmptyDatabaseBesideKeyIsRefused: an empty purser.db beside the
// secret.key of an instance that ran is a lost database, not a new
// instance.
func TestEmptyDatabaseBesideKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	if code, errOut := startServer(t, "PURSER_DATA_DIR", dir); code != 0 {
		t.Fatalf("first start: %d %s", code, errOut)
	}
	if err := os.Truncate(filepath.Join(dir, "purser.db"), 0); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"purser.db-wal", "purser.db-shm"} {
		_ = os.Remove(filepath.Join(dir, f))
	}
	code, errOut := startServer(t, "PURSER_DATA_DIR", dir)
	if code == 0 || !strings.Contains(errOut, "purser.db is empty") || !strings.Contains(errOut, "secret.key exists") || !strings.Contains(errOut, "backup") {
		t.Fatalf("start on an empty database beside a key: exit %d, %q", code, errOut)
	}
}

// TestDataIsPrivate: the data directory is 0700 (tightened if it was
// not), the key and the database files 0600.
func TestDataIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if code, errOut := startServer(t, "PURSER_DATA_DIR", dir); code != 0 {
		t.Fatalf("start: %d %s", code, errOut)
	}
	want := map[string]os.FileMode{".": 0o700, "secret.key": 0o600, "purser.db": 0o600, "purser.db-wal": 0o600, "purser.db-shm": 0o600}
	for name, mode := range want {
		st, err := os.Stat(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) && strings.HasPrefix(name, "purser.db-") {
			continue // checkpointed away at close
		}
		if name == "." && err == nil && st.Mode().Perm() == 0o711 && os.Geteuid() == 0 {
			continue // the exec run-as user passes through to its work directory
		}
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v (%v), want %v", name, st.Mode().Perm(), err, mode)
		}
	}
}

// TestNULIsRefused: a NUL character in any input is a 4xx naming where it
// is, on both stores (PostgreSQL cannot store one, and answered 500).
func TestNULIsRefused(t *testing.T) { eachStore(t, testNULIsRefused) }

func testNULIsRefused(t *testing.T, env ...string) {
	u, token := server(t, env...)
	c := client.New(u, token)
	ctx := context.Background()
	_, err := c.CreateUser(ctx, client.UserCreate{Username: "nul", Name: "a\x00b", Roles: []string{"dev"}})
	var pe *client.Error
	if !errors.As(err, &pe) || pe.Status != 422 || len(pe.Errors) != 1 || pe.Errors[0].Location != "body.name" {
		t.Fatalf("user with a NUL in its name: %v", err)
	}
	_, err = c.ListUsers(ctx, client.ListOptions{Where: `{"name":"a\u0000b"}`})
	if !errors.As(err, &pe) || pe.Status != 400 || !strings.Contains(err.Error(), "where") {
		t.Fatalf("where with a NUL: %v", err)
	}
	if _, err := c.CreateUser(ctx, client.UserCreate{Username: "nul", Name: "ab", Roles: []string{"dev"}}); err != nil {
		t.Fatalf("the same user without the NUL: %v", err)
	}
}

// TestDamagedDatabaseIsNotReady: a SQLite file with damaged pages starts,
// but /readyz reports the database DOWN with the reason.
func TestDamagedDatabaseIsNotReady(t *testing.T) {
	dir := t.TempDir()
	if code, errOut := startServer(t, "PURSER_DATA_DIR", dir); code != 0 {
		t.Fatalf("first start: %d %s", code, errOut)
	}
	path := filepath.Join(dir, "purser.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.WithTx(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "CREATE TABLE filler (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) INSERT INTO filler SELECT randomblob(900) FROM n")
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || len(data) < 1<<20 {
		t.Fatalf("database file: %d bytes, %v", len(data), err)
	}
	for i := len(data) * 6 / 10; i < len(data)*7/10; i++ {
		data[i] = byte(i*7 + 13)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	u, _ := server(t, "PURSER_DATA_DIR", dir)
	resp, err := http.Get(u + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || !strings.Contains(string(body), `"name":"database","status":"DOWN","error":"database file damaged`) {
		t.Fatalf("readyz on a damaged database: %d %s", resp.StatusCode, body)
	}
}
