package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/driver/sim"
)

// TestMain lets the test binary play the real purser binary in a child
// process (PURSER_TEST_AS_BINARY=1), so that a test can kill -9 it.
func TestMain(m *testing.M) {
	if os.Getenv("PURSER_TEST_AS_BINARY") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

type child struct {
	cmd   *exec.Cmd
	url   string
	token string
}

var runningAt = regexp.MustCompile(`running at (http://\S+)`)
var tokenLine = regexp.MustCompile(`^\s+(pst_\S+)$`)

// startChild starts `purser server` in a child process on dataDir and
// waits until it listens (and, on a first start, printed the admin token).
func startChild(t *testing.T, dataDir string, firstStart bool) *child {
	t.Helper()
	execRunAs(t, dataDir)
	cmd := exec.Command(os.Args[0], "server")
	cmd.Env = append(os.Environ(), "PURSER_TEST_AS_BINARY=1", "PURSER_DATA_DIR="+dataDir, "PURSER_LISTEN=127.0.0.1:0",
		"PURSER_LOG_LEVEL=warn", "PURSER_WORKERS_JOB_TIMEOUT=4s", "PURSER_WORKERS_RESCUE_AFTER=5s", "PURSER_WORKERS_RETRY_BASE=200ms")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := bufio.NewReader(out)
	for c.url == "" || firstStart && c.token == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the child server stopped before listening: %v", err)
		}
		if m := runningAt.FindStringSubmatch(line); m != nil {
			c.url = m[1]
		}
		if m := tokenLine.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			c.token = m[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	return c
}

// kill9 kills the child with SIGKILL: no shutdown, no draining.
func (c *child) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// TestKill9DuringProvisionAndPurge kills the server while provisions and
// then purges are running, restarts it, and checks that every request ends
// right and that the sim driver created no environment twice and left none.
func TestKill9DuringProvisionAndPurge(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River's rescuer (about 40 s)")
	}
	dataDir := t.TempDir()
	first := startChild(t, dataDir, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	admin := client.New(first.url, first.token)
	dev, _ := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "slow", "name": "Slow", "driver": "sim",
		"config": map[string]any{"delay": "2s"}}); err != nil {
		t.Fatal(err)
	}
	devc := client.New(first.url, devTok.Token)
	const n = 6
	ids := make([]string, n)
	for i := range ids {
		r, err := devc.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "slow"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
		if _, err := admin.ActOnRequest(ctx, r.ID, "approve", ""); err != nil {
			t.Fatal(err)
		}
	}
	// Kill as soon as provisioning is under way.
	if _, err := admin.WaitRequest(ctx, ids[0], nil, "INITIATED", "DEPLOYED"); err != nil {
		t.Fatal(err)
	}
	first.kill9(t)

	second := startChild(t, dataDir, false)
	admin = client.New(second.url, first.token)
	for _, id := range ids {
		if r, err := admin.WaitRequest(ctx, id, nil, "DEPLOYED", "FAILED"); err != nil || r.Status != "DEPLOYED" {
			t.Fatalf("after the restart %s ended %v: %v", id, r, err)
		}
	}
	for _, id := range ids {
		if _, err := admin.ActOnRequest(ctx, id, "purge", ""); err != nil {
			t.Fatal(err)
		}
	}
	ledger := filepath.Join(dataDir, "sim", "ledger.jsonl")
	// Kill as soon as the first purge finished: others are mid-way.
	if _, err := admin.WaitRequest(ctx, ids[0], nil, "PURGED"); err != nil {
		t.Fatal(err)
	}
	second.kill9(t)

	third := startChild(t, dataDir, false)
	admin = client.New(third.url, first.token)
	for _, id := range ids {
		if r, err := admin.WaitRequest(ctx, id, nil, "PURGED", "PURGE_FAILED"); err != nil || r.Status != "PURGED" {
			t.Fatalf("after the second restart %s ended %v: %v", id, r, err)
		}
	}
	entries, err := sim.ReadLedger(ledger)
	if err != nil {
		t.Fatal(err)
	}
	created, destroyed := map[string]int{}, map[string]int{}
	for _, e := range entries {
		switch e.Result {
		case "created":
			created[e.Request]++
		case "destroyed":
			destroyed[e.Request]++
		}
	}
	for _, id := range ids {
		if created[id] != 1 || destroyed[id] != 1 {
			t.Errorf("%s: created %d times, destroyed %d times; want once each", id, created[id], destroyed[id])
		}
	}
	t.Logf("ledger: %d entries for %d requests", len(entries), n)
}
