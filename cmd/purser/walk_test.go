package main

import (
	"bufio"
	"context"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReadmeAndDemoWalk does what a newcomer does after `make run`: it
// builds ./bin/purser as the Makefile does, starts it, runs every command
// the README shows and the server prints, exactly as written (through sh,
// from the directory holding bin/), then restarts it with --demo on the
// same data and runs every command the demo banner prints. The commands are
// read from README.md and from the banner, so neither can drift from what
// works. Only placeholders a person fills in are replaced: the URL and token
// the README writes as http://127.0.0.1:8080 and pst_..., and <id>, which
// the banner asks for after listing the requests waiting for review.
func TestReadmeAndDemoWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "bin", "purser")
	build := osexec.Command("go", "build", "-o", bin, "./cmd/purser")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(work, "purser-data")
	execRunAs(t, data)
	env := walkEnv(home, data)

	// The README: the first start, the commands it prints, then the README's own.
	first := startWalkServer(t, work, env, "server")
	url := first.match(t, `is running at (http://\S+)`)
	token := first.match(t, `shown only now:\s+(pst_\S+)`)
	runPrinted(t, work, env, first.block(t, "Log the CLI in with:"))
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(string(readme))
	if len(cmds) == 0 {
		t.Fatal("README.md shows no ./bin/purser command")
	}
	for _, c := range cmds {
		c = strings.ReplaceAll(c, "http://127.0.0.1:8080", url)
		c = strings.ReplaceAll(c, "pst_...", token)
		if strings.Contains(c, "<") {
			t.Fatalf("README command has a placeholder a newcomer cannot fill: %s", c)
		}
		walkRun(t, work, env, c)
	}
	first.stop(t)

	// The demo, on the same data: bbb exists, so the banner says how to get
	// a token for bbb on this host; a newcomer runs that and uses the token.
	demo := startWalkServer(t, work, env, "server", "--demo")
	steps := demo.block(t, "Try, as bbb (a developer) then jjj (DevOps):")
	if len(steps) < 5 {
		t.Fatalf("demo banner lists %d steps:\n%s", len(steps), demo.output())
	}
	tokens := map[string]string{}
	for _, u := range []string{"bbb", "jjj", "ccc"} {
		re := regexp.MustCompile(`To get a new token for ` + u + `, run on this host:\s+(.+)`)
		if m := re.FindStringSubmatch(demo.output()); m != nil {
			out := walkRun(t, work, env, strings.TrimSpace(m[1]))
			tok := regexp.MustCompile(`pst_\S+`).FindString(out)
			if tok == "" {
				t.Fatalf("%s printed no token:\n%s", m[1], out)
			}
			tokens["<"+u+"'s token>"] = tok
		}
	}
	if _, ok := tokens["<bbb's token>"]; !ok {
		t.Fatalf("the demo on a database where bbb exists does not say how to get bbb a token:\n%s", demo.output())
	}
	var last string
	for _, s := range steps {
		for k, v := range tokens {
			s = strings.ReplaceAll(s, k, v)
		}
		if strings.Contains(s, "<id>") {
			id := regexp.MustCompile(`\b[0-9a-f]{24}\b`).FindString(last)
			if id == "" {
				t.Fatalf("the step before %q listed no request id:\n%s", s, last)
			}
			s = strings.ReplaceAll(s, "<id>", id)
		}
		last = walkRun(t, work, env, s)
	}
	demo.stop(t)
}

// walkEnv is the environment a newcomer's shell has: this process's, with
// a home of its own and the server's data directory and a free port.
func walkEnv(home, data string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PURSER_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "PURSER_DATA_DIR="+data, "PURSER_LISTEN=127.0.0.1:0",
		"PURSER_LOG_LEVEL=warn", "PURSER_EXEC_RUN_AS="+os.Getenv("PURSER_EXEC_RUN_AS"))
}

// readmeCommands are the lines of README.md's sh blocks that run ./bin/purser.
func readmeCommands(readme string) []string {
	var cmds []string
	in := false
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			in = !in && strings.TrimPrefix(line, "```") == "sh"
		case in && strings.HasPrefix(line, "./bin/purser "):
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// walkRun runs one printed command line through sh from dir and fails the
// test unless it exits 0. It returns its output.
func walkRun(t *testing.T, dir string, env []string, line string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := osexec.CommandContext(ctx, "sh", "-c", line)
	c.Dir, c.Env = dir, env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("$ %s\n%s\nfailed: %v", line, out, err)
	}
	t.Logf("$ %s\n%s", line, out)
	return string(out)
}

// runPrinted runs each printed command.
func runPrinted(t *testing.T, dir string, env []string, lines []string) {
	t.Helper()
	for _, l := range lines {
		walkRun(t, dir, env, l)
	}
}

// walkServer is ./bin/purser server running as a process, with what it printed.
type walkServer struct {
	cmd   *osexec.Cmd
	mu    sync.Mutex
	out   strings.Builder
	lines chan struct{} // a line was printed (at most one pending)
	done  chan error
}

// startWalkServer starts the binary from dir and waits until it has
// printed everything it prints at start (the demo's banner last).
func startWalkServer(t *testing.T, dir string, env []string, args ...string) *walkServer {
	t.Helper()
	s := &walkServer{cmd: osexec.Command("./bin/purser", args...), lines: make(chan struct{}, 1), done: make(chan error, 1)}
	s.cmd.Dir, s.cmd.Env = dir, env
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = &lockedWriter{mu: &s.mu, w: &s.out}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			s.mu.Lock()
			s.out.WriteString(line)
			s.mu.Unlock()
			select {
			case s.lines <- struct{}{}:
			default:
			}
			if err != nil {
				break
			}
		}
		s.done <- s.cmd.Wait()
	}()
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	heading := "Log the CLI in with:"
	if len(args) > 1 && args[1] == "--demo" {
		heading = "Try, as bbb"
	} else if _, err := os.Stat(filepath.Join(dir, "purser-data", "purser.db")); err == nil {
		heading = "API reference:"
	}
	deadline := time.After(time.Minute)
	for !s.printed(heading) {
		select {
		case <-s.lines:
		case err := <-s.done:
			t.Fatalf("the server exited (%v):\n%s", err, s.output())
		case <-deadline:
			t.Fatalf("the server printed no %q within a minute:\n%s", heading, s.output())
		}
	}
	return s
}

// printed reports whether the server printed heading and, when commands
// follow it, all of them (a blank line ends them).
func (s *walkServer) printed(heading string) bool {
	out := s.output()
	i := strings.Index(out, heading)
	if i < 0 {
		return false
	}
	if heading == "API reference:" {
		return true
	}
	rest := out[i+len(heading):]
	j := strings.Index(rest, "\n    ")
	return j >= 0 && strings.Contains(rest[j:], "\n\n")
}

func (s *walkServer) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// match is the first group of re in what the server printed.
func (s *walkServer) match(t *testing.T, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s.output())
	if m == nil {
		t.Fatalf("the server did not print %s:\n%s", re, s.output())
	}
	return m[1]
}

// block is the indented lines after heading, up to the first blank line
// after them: the commands printed under it.
func (s *walkServer) block(t *testing.T, heading string) []string {
	t.Helper()
	out := s.output()
	i := strings.Index(out, heading)
	if i < 0 {
		t.Fatalf("the server did not print %q:\n%s", heading, out)
	}
	var lines []string
	for _, l := range strings.Split(out[i+len(heading):], "\n") {
		if strings.HasPrefix(l, "    ") {
			lines = append(lines, strings.TrimSpace(l))
		} else if len(lines) > 0 {
			break
		}
	}
	return lines
}

// stop interrupts the server and waits for it to exit cleanly.
func (s *walkServer) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("server exited: %v\n%s", err, s.output())
		}
	case <-time.After(time.Minute):
		t.Fatalf("server did not stop within a minute:\n%s", s.output())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
