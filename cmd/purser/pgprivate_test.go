package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
)

// privatePostgres is a PostgreSQL server of one test's own, in a temporary
// directory on a free port, so that the test may stop and restart it
// without disturbing the machine's shared server and the tests using it.
type privatePostgres struct {
	bin, dir string
	port     int
	cred     *syscall.Credential // nil unless run as the postgres user
	URL      string
}

// startPrivatePostgres initialises and starts a private server (as the
// postgres user when the tests run as root: PostgreSQL refuses root), or
// skips the test saying why it cannot.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no /usr/lib/postgresql/*/bin/initdb: a private PostgreSQL server cannot be started here")
	}
	sort.Strings(bins)
	p := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "purser-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p.dir = filepath.Join(dir, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("the tests run as root and there is no postgres user to run a private PostgreSQL server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	p.run(t, "initdb", "-D", p.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	p.Start(t)
	t.Cleanup(func() { _ = p.ctl("stop", "-m", "immediate") })
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	return p
}

// Start starts the server and waits until it accepts connections.
func (p *privatePostgres) Start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.port, filepath.Dir(p.dir))
	if err := p.ctl("start", "-w", "-t", "60", "-l", filepath.Join(filepath.Dir(p.dir), "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(p.dir), "log"))
		t.Fatalf("start private PostgreSQL: %v\n%s", err, log)
	}
}

// Stop stops the server at once (fast shutdown: connections are cut).
func (p *privatePostgres) Stop(t *testing.T) {
	t.Helper()
	if err := p.ctl("stop", "-w", "-m", "fast"); err != nil {
		t.Fatalf("stop private PostgreSQL: %v", err)
	}
}

func (p *privatePostgres) ctl(args ...string) error {
	cmd := exec.Command(filepath.Join(p.bin, "pg_ctl"), append(args, "-D", p.dir)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %w: %s", args[0], err, out)
	}
	return nil
}

func (p *privatePostgres) run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", name, err, out)
	}
}
