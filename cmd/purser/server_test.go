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
	onListen = func(string, string) { cancel() }
	t.Cleanup(func() { onListen = nil })
	var stderr bytes.Buffer
	code := Main(ctx, []string{"server"}, nil, &bytes.Buffer{}, &stderr)
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
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v (%v), want %v", name, st.Mode().Perm(), err, mode)
		}
	}
}
