// Package awstest runs moto's server, an AWS emulator, as a real peer for
// tests: S3 and the other services it emulates, on 127.0.0.1.
package awstest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds moto_server's start.
const StartTimeout = 60 * time.Second

// Start runs `moto_server -H 127.0.0.1 -p PORT` on a free port until the
// test ends and returns its endpoint (http://127.0.0.1:PORT) once it
// answers. It skips the test when moto_server is not on PATH (pip install
// 'moto[server]').
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not on PATH (pip install 'moto[server]'): skipping the test against emulated AWS")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	var out lockedBuffer
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group: the shim and the Python process it starts
	// end together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	endpoint := "http://127.0.0.1:" + port
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/moto-api/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return endpoint
			}
		}
		select {
		case <-exited:
			t.Fatalf("moto_server exited at start:\n%s", out.String())
		case <-ctx.Done():
			t.Fatalf("moto_server did not answer on %s within %s:\n%s", endpoint, StartTimeout, out.String())
		case <-tick.C:
		}
	}
}

// lockedBuffer collects the server's output, written by the process
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
