package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
)

var tokenRE = regexp.MustCompile(`pst_[A-Za-z0-9_-]+`)

// startMain runs `purser ARGS` through Main on data directory dir and port
// 0 until stop is called; out is what it printed on stdout.
func startMain(t *testing.T, dir string, args ...string) (url string, out *syncBuffer, stop func()) {
	t.Helper()
	return startMainOn(t, dir, "127.0.0.1:0", args...)
}

// startMainOn is startMain listening on addr.
func startMainOn(t *testing.T, dir, addr string, args ...string) (url string, out *syncBuffer, stop func()) {
	t.Helper()
	t.Setenv("PURSER_DATA_DIR", dir)
	t.Setenv("PURSER_LISTEN", addr)
	t.Setenv("PURSER_LOG_LEVEL", "warn")
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	var errOut syncBuffer
	done := make(chan int, 1)
	h := hooks{OnListen: func(u, _ string) { ready <- u }}
	go func() { done <- run(ctx, args, nil, out, &errOut, h) }()
	select {
	case url = <-ready:
	case code := <-done:
		cancel()
		t.Fatalf("%v exited %d: %s", args, code, errOut.String())
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("%v exited %d: %s", args, code, errOut.String())
			}
		}
	}
	t.Cleanup(stop)
	return url, out, stop
}

// TestFirstStartThatCannotListenCreatesNothing: a first start whose port is
// taken fails before it makes a database and an admin whose token it
// would never print; the next start prints the token.
func TestFirstStartThatCannotListenCreatesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("PURSER_DATA_DIR", dir)
	t.Setenv("PURSER_LISTEN", taken.Addr().String())
	code, _, errOut := cli(t, "server")
	if code == 0 || !strings.Contains(errOut, "listen on "+taken.Addr().String()) {
		t.Fatalf("start on a taken port: %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "purser.db")); !os.IsNotExist(err) {
		t.Fatalf("a start that could not listen left a database behind: %v", err)
	}
	_, out, _ := startMain(t, dir, "server")
	if !strings.Contains(out.String(), "First start: created user \"admin\"") || !tokenRE.MatchString(out.String()) {
		t.Fatalf("the next start printed no admin token:\n%s", out.String())
	}
}

// TestLostAdminTokenIsReissued: a restart before any admin signed in says
// so and names the command; `purser admin token`, run beside the server,
// issues a token that works.
func TestLostAdminTokenIsReissued(t *testing.T) {
	dir := t.TempDir()
	_, _, stop := startMain(t, dir, "server")
	stop()
	url, out, _ := startMain(t, dir, "server")
	if !strings.Contains(out.String(), "No admin has signed in yet") || !strings.Contains(out.String(), "purser admin token") {
		t.Fatalf("restart with the admin token never used says nothing of it:\n%s", out.String())
	}
	code, stdout, errOut := cli(t, "admin", "token")
	tok := tokenRE.FindString(stdout)
	if code != 0 || tok == "" {
		t.Fatalf("purser admin token: %d %q %q", code, stdout, errOut)
	}
	me, err := client.New(url, tok).Me(context.Background())
	if err != nil || me.Username != "admin" {
		t.Fatalf("the re-issued token: %v %v", me, err)
	}
	if code, _, errOut := cli(t, "admin", "token", "--user", "nobody"); code == 0 || !strings.Contains(errOut, `no user "nobody"`) {
		t.Fatalf("admin token for an unknown user: %d %q", code, errOut)
	}
	t.Setenv("PURSER_DATA_DIR", t.TempDir())
	if code, _, errOut := cli(t, "admin", "token"); code == 0 || !strings.Contains(errOut, "no Purser database") {
		t.Fatalf("admin token without a database: %d %q", code, errOut)
	}
}

// TestDemoReusesWhatExists: the demo, started where the README's steps
// already made bbb (and again after a first demo), reuses what exists,
// says which tokens it cannot show, and `purser admin token --user bbb`
// gives bbb one.
func TestDemoReusesWhatExists(t *testing.T) {
	dir := t.TempDir()
	url, out, stop := startMain(t, dir, "server")
	admin := client.New(url, tokenRE.FindString(out.String()))
	if _, err := admin.CreateUser(context.Background(), client.UserCreate{Username: "bbb", Name: "BBB", Email: "bbb@xyz.com", Roles: []string{"dev"}}); err != nil {
		t.Fatal(err)
	}
	stop()
	for run := 1; run <= 2; run++ {
		url, out, stop = startMain(t, dir, "server", "--demo")
		banner := out.String()
		if !regexp.MustCompile(`(?m)^\s+bbb .*existed already`).MatchString(banner) || !strings.Contains(banner, " admin token --user bbb") {
			t.Fatalf("run %d: the banner does not say bbb's token cannot be shown:\n%s", run, banner)
		}
		if jjj := regexp.MustCompile(`(?m)^\s+jjj .*(pst_\S+)$`).MatchString(banner); jjj != (run == 1) {
			t.Fatalf("run %d: jjj's token shown %v:\n%s", run, jjj, banner)
		}
		if !strings.Contains(banner, "--token <bbb's token>") {
			t.Fatalf("run %d: the printed login for bbb has no placeholder:\n%s", run, banner)
		}
		if run == 1 {
			code, stdout, errOut := cli(t, "admin", "token", "--user", "bbb")
			me, err := client.New(url, tokenRE.FindString(stdout)).Me(context.Background())
			if code != 0 || err != nil || me.Username != "bbb" {
				t.Fatalf("admin token --user bbb: %d %q %q: %v %v", code, stdout, errOut, me, err)
			}
		}
		stop()
	}
}

// TestNoEmailWithoutSMTP: on a server with no SMTP configured (the embedded
// default), a developer with an address gets notifications in the inbox and
// no email delivery that could only fail, five times, filling the log.
func TestNoEmailWithoutSMTP(t *testing.T) {
	url, tokens := demoServer(t)
	bbb := client.New(url, tokens["bbb"])
	ctx := context.Background()
	r, err := bbb.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "dev-namespace"})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if r, err := bbb.WaitRequest(wctx, r.ID, nil, "DEPLOYED", "FAILED"); err != nil || r.Status != "DEPLOYED" {
		t.Fatalf("the demo's namespace request: %v %v", r, err)
	}
	for channel, want := range map[string]bool{"inbox": true, "email": false} {
		l, err := bbb.Inbox(ctx, false, client.ListOptions{Where: `{"channel":"` + channel + `"}`, MaxResults: 100})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(l.Items) > 0; got != want {
			t.Fatalf("%s notifications: %d, want some: %v", channel, len(l.Items), want)
		}
	}
}
