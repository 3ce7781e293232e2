package main

import (
	"context"
	"io"
	"os"
	"os/exec"
)

// serverProcess is a purser server the benchmarks run as a process of its
// own, as people run it: its URL, the admin token its first start printed,
// and its pid for RSS and CPU.
type serverProcess struct {
	cmd        *exec.Cmd
	url, token string
}

// startServer starts bin as `purser server` on SQLite in dataDir,
// listening on a free loopback port with warnings only, env added to the
// environment, and waits for its banner. Stop it with stop.
func startServer(ctx context.Context, bin, dataDir string, env ...string) (*serverProcess, error) {
	cmd := exec.CommandContext(ctx, bin, "server")
	cmd.Env = append(append(os.Environ(), "PURSER_DATA_DIR="+dataDir, "PURSER_LISTEN=127.0.0.1:0",
		"PURSER_LOG_LEVEL=warn", "PURSER_LOG_FORMAT=json"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProcess{cmd: cmd}
	if p.url, p.token, err = readBanner(stdout); err != nil {
		p.stop()
		return nil, err
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return p, nil
}

// pid is the server process's id.
func (p *serverProcess) pid() int { return p.cmd.Process.Pid }

// stop kills the server and waits for it.
func (p *serverProcess) stop() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() }
