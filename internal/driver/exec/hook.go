package exec

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/purserhq/purser"
)

// Hook is a pool's hook as a host's agent runs it (purser agent): the
// argv already rendered by the server, the variables it adds to the
// clean environment, and the user it runs as.
type Hook struct {
	Argv []string
	// Env is added to PATH (DefaultPath) and HOME (Dir): nothing of the
	// agent's own environment reaches the command.
	Env map[string]string
	// RunAs is the user the command runs as: a name, or uid[:gid]; empty,
	// the agent's own (refused for root: see HookCredential).
	RunAs   string
	Dir     string
	Timeout time.Duration
}

// HookCredential checks the agent's --run-as: the user a hook runs as,
// nil for the agent's own. An agent running as root must name another
// user, or explicitly allow root (pools whose join hook is kubeadm join
// need it; the admin who writes the hook decides).
func HookCredential(runAs string, allowRoot bool) (*syscall.Credential, error) {
	if runAs == "" {
		if os.Geteuid() == 0 && !allowRoot {
			return nil, errors.New("the agent runs as root: pass --run-as USER for the hooks, or --run-as-root to run them as root")
		}
		return nil, nil
	}
	return credential(runAs)
}

// RunHook runs h as the leader of its own process group, with a clean
// environment, as cred (nil: the agent's user), streaming each output
// line to log as it comes; when it ends, fails, times out or ctx ends,
// the whole group is killed. It returns the command's exit code, or an
// error when it could not start, timed out (exit -1) or the group would
// not die.
func RunHook(ctx context.Context, h Hook, cred *syscall.Credential, log purser.LogWriter) (int, error) {
	if len(h.Argv) == 0 {
		return -1, errors.New("empty command")
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	env := map[string]string{"PATH": DefaultPath, "HOME": h.Dir}
	for k, v := range h.Env {
		env[k] = v
	}
	environ := make([]string, 0, len(env))
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	sort.Strings(environ)
	cmd := osexec.CommandContext(ctx, "/bin/sh", append([]string{"-c", wrapper, "purser-hook"}, h.Argv...)...)
	cmd.Dir, cmd.Env = h.Dir, environ
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM, Credential: cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = pipeWait
	t := newTail(purser.Environment{Log: log}, newRedactor(), 0)
	out, err := newOutput(cmd, t)
	if err != nil {
		return -1, err
	}
	defer out.close()
	t.note("$ " + strings.Join(h.Argv, " "))
	runtime.LockOSThread() // see run: the parent-death signal follows this thread
	defer runtime.UnlockOSThread()
	err = cmd.Start()
	out.started()
	if err != nil {
		return -1, fmt.Errorf("start %s: %w", h.Argv[0], err)
	}
	pgid := cmd.Process.Pid
	out.read()
	waitErr := cmd.Wait()
	killErr := killGroup(pgid)
	out.drain()
	var exit *osexec.ExitError
	switch {
	case killErr != nil:
		return -1, killErr
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return -1, fmt.Errorf("%s timed out after %s", h.Argv[0], h.Timeout)
	case ctx.Err() != nil:
		return -1, fmt.Errorf("%s: %w", h.Argv[0], ctx.Err())
	case errors.As(waitErr, &exit):
		return exit.ExitCode(), nil
	case waitErr != nil:
		return -1, waitErr
	}
	return 0, nil
}
