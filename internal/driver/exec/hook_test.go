package exec

import (
	"context"
	"os"
	"os/user"
	"strings"
	"testing"
	"time"
)

// TestRunHook: an agent's hook runs with a clean environment, as the
// run-as user, its output streamed line by line, and its exit code
// returned.
func TestRunHook(t *testing.T) {
	t.Setenv("PURSER_AGENT_SECRET", "must-not-leak")
	cred, err := HookCredential(testRunAs(t), false)
	if err != nil {
		t.Fatal(err)
	}
	var log lines
	exit, err := RunHook(context.Background(), Hook{Argv: []string{"/bin/sh", "-c", `echo "uid $(id -u)"; env | sort; echo oops >&2; exit 3`, "{{ host }}"},
		Env: map[string]string{"PURSER_HOST": "n1"}, Dir: os.TempDir(), Timeout: 10 * time.Second}, cred, &log)
	out := log.all()
	if err != nil || exit != 3 {
		t.Fatalf("exit %d %v\n%s", exit, err, out)
	}
	for _, want := range []string{"purser: $ /bin/sh -c", "stdout: PURSER_HOST=n1", "stdout: HOME=" + os.TempDir(), "stdout: PATH=" + DefaultPath, "stderr: oops"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "must-not-leak") {
		t.Fatalf("the agent's environment reached the hook:\n%s", out)
	}
	if u := testRunAs(t); u != "" {
		pu, _ := user.Lookup(u)
		if !strings.Contains(out, "stdout: uid "+pu.Uid) {
			t.Fatalf("not run as %s:\n%s", u, out)
		}
	}
}

// TestRunHookTimeout: at the deadline the whole process group is killed,
// children included, and the run fails saying so.
func TestRunHookTimeout(t *testing.T) {
	cred, err := HookCredential(testRunAs(t), false)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	exit, err := RunHook(context.Background(), Hook{Argv: []string{"/bin/sh", "-c", "sleep 60 & sleep 60; wait"}, Dir: os.TempDir(),
		Timeout: 300 * time.Millisecond}, cred, &lines{})
	if exit != -1 || err == nil || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Fatalf("exit %d %v", exit, err)
	}
	if d := time.Since(start); d > killWait {
		t.Fatalf("took %s: the group outlived its timeout", d)
	}
}

func TestHookCredentialRefusesRootByDefault(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only an agent running as root must name a run-as user")
	}
	if _, err := HookCredential("", false); err == nil || !strings.Contains(err.Error(), "--run-as") {
		t.Fatalf("root without --run-as: %v", err)
	}
	if c, err := HookCredential("", true); err != nil || c != nil {
		t.Fatalf("--run-as-root: %v %v", c, err)
	}
	if _, err := HookCredential("root", false); err == nil {
		t.Fatal("--run-as root accepted")
	}
}
