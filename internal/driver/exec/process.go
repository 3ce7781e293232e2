package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/purserhq/purser"
)

// DefaultPath is a command's PATH unless exec.env sets one.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// How long a killed process group may take to go, and how long output
// pipes held by an escaped process are waited for.
const (
	killWait = 10 * time.Second
	pipeWait = 5 * time.Second
)

// wrapper runs a command ("$@") as the leader of its process group. The
// driver sets the wrapper's parent-death signal to SIGTERM, which it traps
// to SIGKILL the whole group: a command and everything it started die
// with the server, even by kill -9. (A SIGKILL parent-death signal would
// kill the wrapper alone and leave its children running.)
const wrapper = `trap 'kill -KILL 0' TERM; "$@" & wait $!`

// environ is a command's whole environment: PATH, the operator's exec.env,
// and Purser's own variables; nothing else of the server's.
func (d *Driver) environ(env purser.Environment, dir string) []string {
	m := map[string]string{"PATH": DefaultPath}
	for k, v := range d.Env {
		m[k] = v
	}
	m["HOME"] = dir
	m["PURSER_WORKDIR"] = dir
	m["PURSER_OUTPUTS"] = filepath.Join(dir, "outputs.json")
	m["PURSER_REQUEST_ID"] = env.RequestID
	m["PURSER_OWNER"] = env.Owner
	for k, v := range env.Params {
		m["PURSER_PARAM_"+strings.ToUpper(k)] = fmt.Sprint(v)
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// run runs one command as the leader of its own process group, logging its
// output; when it ends, fails, times out or is cancelled, the whole group
// is killed, and run returns only once it is gone.
func (d *Driver) run(ctx context.Context, env purser.Environment, s *Spec, dir string, argv Command, log *tail) error {
	select {
	case d.sem <- struct{}{}:
		defer func() { <-d.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	timeout := DefaultTimeout
	if s.Timeout != "" {
		timeout, _ = time.ParseDuration(s.Timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd, args, err := d.command(ctx, env, s, dir, argv)
	if err != nil {
		return err
	}
	// Our own pipes, not cmd's copying goroutines: Wait returns when the
	// wrapper exits, and the group is killed before the pipes are drained.
	out, err := newOutput(cmd, log)
	if err != nil {
		return err
	}
	defer out.close()
	log.note("$ " + strings.Join(args, " "))

	// The parent-death signal fires when the thread that forked the child
	// exits (go.dev/issue/27505), and the runtime ends a thread whose
	// goroutine exits locked to it. Holding this goroutine on its thread
	// from Start to Wait keeps that thread alive, and only it, for as long
	// as the command runs.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err = cmd.Start()
	out.started()
	if err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	pgid := cmd.Process.Pid
	pidFile := d.pidFile(env.RequestID)
	if err := writePidFile(pidFile, pgid); err != nil {
		_ = killGroup(pgid)
		_ = cmd.Wait()
		return err
	}
	out.read()
	waitErr := cmd.Wait()
	// Whatever the outcome, nothing of the group may outlive the command.
	killErr := killGroup(pgid)
	if killErr == nil {
		_ = os.Remove(pidFile)
	}
	out.drain()
	switch {
	case killErr != nil:
		return killErr
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return log.failure(args[0], "timed out after "+timeout.String())
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", args[0], ctx.Err())
	case waitErr != nil:
		return log.failure(args[0], fmt.Sprintf("failed (%v)", waitErr))
	}
	return nil
}

// command returns the wrapped command for argv, and argv as rendered.
func (d *Driver) command(ctx context.Context, env purser.Environment, s *Spec, dir string, argv Command) (*osexec.Cmd, []string, error) {
	kind := Kind("")
	if s.Shell {
		// Refused at template creation; quoted here for templates stored before.
		kind = KindShell
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		r, err := Render(a, kind, env.Params)
		if err != nil {
			return nil, nil, fmt.Errorf("command: %w", err)
		}
		args[i] = r
	}
	if s.Shell {
		args = []string{"/bin/sh", "-c", args[0]}
	}
	cmd := osexec.CommandContext(ctx, "/bin/sh", append([]string{"-c", wrapper, "purser-exec"}, args...)...)
	cmd.Dir = dir
	cmd.Env = d.environ(env, dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM, Credential: d.cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = pipeWait
	return cmd, args, nil
}

// output reads a command's stdout and stderr into a tail.
type output struct {
	log      *tail
	r, w     [2]*os.File // stdout, stderr
	finished chan struct{}
}

func newOutput(cmd *osexec.Cmd, log *tail) (*output, error) {
	o := &output{log: log, finished: make(chan struct{})}
	for i := range 2 {
		r, w, err := os.Pipe()
		if err != nil {
			o.close()
			return nil, err
		}
		o.r[i], o.w[i] = r, w
	}
	cmd.Stdout, cmd.Stderr = o.w[0], o.w[1]
	return o, nil
}

// started closes the write ends the child now holds.
func (o *output) started() {
	for _, w := range o.w {
		w.Close()
	}
}

// read logs both streams until they end.
func (o *output) read() {
	var wg sync.WaitGroup
	for i, name := range []string{"stdout", "stderr"} {
		wg.Go(func() {
			w := &lineWriter{t: o.log, stream: name}
			_, _ = io.Copy(w, o.r[i])
			w.flush()
		})
	}
	go func() { wg.Wait(); close(o.finished) }()
}

// drain waits for the rest of the output, which ends when the group is
// dead, unless a process that left the group holds a pipe: then it stops
// reading after pipeWait.
func (o *output) drain() {
	select {
	case <-o.finished:
	case <-time.After(pipeWait):
		o.close()
		<-o.finished
	}
}

func (o *output) close() {
	for _, f := range append(o.r[:], o.w[:]...) {
		if f != nil {
			f.Close()
		}
	}
}

// killGroup kills process group pgid and returns once none of its
// processes runs (zombies left to a PID 1 that does not reap them run
// nothing), or an error after killWait.
func killGroup(pgid int) error {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	deadline := time.Now().Add(killWait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for groupRuns(pgid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d still runs %s after SIGKILL", pgid, killWait)
		}
		<-tick.C
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // one may have forked meanwhile
	}
	return nil
}

// groupRuns reports whether a process of group pgid runs.
func groupRuns(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && st.pgrp == pgid && st.state != "Z" {
			return true
		}
	}
	return false
}

// stat is what /proc/<pid>/stat tells of a process.
type stat struct {
	state     string
	pgrp      int
	startTime string // clock ticks after boot: with the pid, names one process
}

func readStat(pid int) (stat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, false
	}
	s := string(b)
	// Fields after the command name, which may hold spaces and parentheses:
	// state(3) ppid(4) pgrp(5) ... starttime(22).
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return stat{}, false
	}
	pgrp, _ := strconv.Atoi(f[2])
	return stat{state: f[0], pgrp: pgrp, startTime: f[19]}, true
}
