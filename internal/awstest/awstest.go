// Package awstest runs a real AWS emulator, moto_server, for tests: one
// process per test, on a free loopback port, stopped when the test ends.
// It knows nothing of Purser.
package awstest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Defaults of the emulator: the account moto answers for, and a region
// and access key any client may use (moto checks no signature).
const (
	Account         = "123456789012"
	Region          = "us-east-1"
	AccessKeyID     = "AKIAPURSERTESTKEY01"
	SecretAccessKey = "purser-test-secret"
)

// StartTimeout bounds how long moto_server may take to answer.
const StartTimeout = 60 * time.Second

// Start runs moto_server on a free port of 127.0.0.1 until t ends, and
// returns its endpoint (http://127.0.0.1:PORT), once it answers. The test
// is skipped only when moto_server is not on PATH.
func Start(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("moto_server is not on PATH, and CI must run the tests against the AWS emulator (pip install 'moto[server]')")
		}
		t.Skip("moto_server is not on PATH (pip install 'moto[server]'): skipping the test against the AWS emulator")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()

	var out syncBuffer
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", port)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers die with it
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
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.After(StartTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(endpoint + "/moto-api/data.json"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return endpoint
			}
		}
		select {
		case <-exited:
			t.Fatalf("moto_server exited before it answered:\n%s", out.String())
		case <-deadline:
			t.Fatalf("moto_server did not answer within %s:\n%s", StartTimeout, out.String())
		case <-tick.C:
		}
	}
}

// syncBuffer is a bytes.Buffer the process's two streams write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
