package exec

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/purserhq/purser"
)

// TestMain lets the test binary play a server running the driver in a
// child process (PURSER_EXEC_TEST_SERVER=work dir), so that a test can
// kill -9 it.
func TestMain(m *testing.M) {
	if dir := os.Getenv("PURSER_EXEC_TEST_SERVER"); dir != "" {
		serve(dir)
		return
	}
	os.Exit(m.Run())
}

// serve provisions one request whose command starts a child and a
// grandchild, records their pids, says "started" on stdout and hangs.
func serve(dir string) {
	d := New(Config{WorkDir: dir, RunAs: os.Getenv("PURSER_EXEC_TEST_RUN_AS")})
	cfg := map[string]any{"shell": true, "provision": []any{grandchildren + "; echo started; sleep 300"}}
	_, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Config: cfg, Log: stdoutLog{}})
	fmt.Println("provision returned:", err)
	os.Exit(1)
}

type stdoutLog struct{}

func (stdoutLog) WriteLine(stream, line string) { fmt.Println(line) }

// grandchildren starts a child and a grandchild that would outlive their
// parents, and records their pids and the shell's in the file pids; it
// returns once all three are written.
const grandchildren = `sleep 300 & echo $! > pids; mkfifo ready; (sleep 300 & echo $! >> pids; echo > ready; wait) & read x < ready; echo $$ >> pids`

// recordedPids reads the pids the command recorded.
func recordedPids(t *testing.T, dir string) []int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, _ := strconv.Atoi(f)
		pids = append(pids, pid)
	}
	if len(pids) != 3 {
		t.Fatalf("the command recorded %v, want 3 pids", pids)
	}
	return pids
}

func TestTimeoutKillsTheWholeGroup(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	// Long enough for the script to record its pids on a busy machine; the
	// test checks it did ("started").
	cfg := prepared(t, d, nil, map[string]any{"provision": []any{grandchildren + "; echo started; sleep 300"}, "shell": true, "timeout": "4s"})
	log := &lines{}
	_, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Config: cfg, Log: log})
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(log.all(), "stdout: started") {
		t.Fatalf("hang: %v\n%s", err, log.all())
	}
	// Provision returns once the group is gone: no waiting here.
	for _, pid := range recordedPids(t, filepath.Join(d.WorkDir, "r")) {
		if alive(pid) {
			t.Errorf("process %d outlived the command", pid)
		}
	}
}

func TestCancelKillsTheWholeGroup(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	cfg := prepared(t, d, nil, map[string]any{"provision": []any{grandchildren + "; echo started; sleep 300"}, "shell": true})
	ctx, cancel := context.WithCancel(context.Background())
	log := &lines{}
	done := make(chan error, 1)
	go func() {
		_, err := d.Provision(ctx, purser.Environment{RequestID: "r", Config: cfg, Log: log})
		done <- err
	}()
	log.waitFor(t, "stdout: started")
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled command succeeded")
	}
	for _, pid := range recordedPids(t, filepath.Join(d.WorkDir, "r")) {
		if alive(pid) {
			t.Errorf("process %d survived the cancel", pid)
		}
	}
	if _, err := os.Stat(d.pidFile("r")); !os.IsNotExist(err) {
		t.Errorf("the pid file is left after the run: %v", err)
	}
}

func TestOneRunPerRequest(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	// A run holds the directory "running" until the test opens its gate.
	cfg := prepared(t, d, nil, map[string]any{"shell": true, "provision": []any{
		`mkdir running || { echo overlap; exit 1; }; [ -p gate ] || mkfifo gate; echo started; read x < gate; rmdir running`}})
	provision := func(log *lines) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Config: cfg, Log: log})
			done <- err
		}()
		return done
	}
	openGate := func() {
		t.Helper()
		opened := make(chan error, 1)
		go func() { opened <- os.WriteFile(filepath.Join(d.WorkDir, "r", "gate"), []byte("go\n"), 0) }()
		select {
		case err := <-opened:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatal("no run read the gate in a minute")
		}
	}
	first, second := &lines{}, &lines{}
	done1 := provision(first)
	first.waitFor(t, "stdout: started")
	done2 := provision(second)
	waiting := make(chan bool, 1)
	go func() { waiting <- second.wait("waiting for the previous run", time.Minute) }()
	select {
	case ok := <-waiting:
		if !ok {
			t.Fatalf("the second run neither waited nor ran in a minute:\n%s", second.all())
		}
	case err := <-done2:
		t.Fatalf("the second run did not wait for the first: %v\n%s", err, second.all())
	}
	openGate()
	if err := <-done1; err != nil {
		t.Fatalf("first run: %v", err)
	}
	second.waitFor(t, "stdout: started")
	openGate()
	if err := <-done2; err != nil {
		t.Fatalf("second run: %v\n%s", err, second.all())
	}
}

// sleeper starts sleep 1000 leading its own process group, as a run of a
// server that died would have left it.
func sleeper(t *testing.T) *osexec.Cmd {
	t.Helper()
	cmd := osexec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func TestStartKillsGroupsLeftRunning(t *testing.T) {
	t.Parallel()
	c := testConfig(t)
	d := New(c)
	left, stranger := sleeper(t), sleeper(t)
	if err := writePidFile(d.pidFile("r1"), left.Process.Pid); err != nil {
		t.Fatal(err)
	}
	// A pid file naming a process started at another time: the number was reused.
	if err := os.WriteFile(d.pidFile("r2"), fmt.Appendf(nil, "%d 1\n", stranger.Process.Pid), 0o600); err != nil {
		t.Fatal(err)
	}
	// A live run of another server sharing the work directory holds its lock.
	live := sleeper(t)
	if err := writePidFile(d.pidFile("r3"), live.Process.Pid); err != nil {
		t.Fatal(err)
	}
	unlock, err := d.lock(context.Background(), "r3", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(false)
	if err := New(c).Disabled(); err != nil {
		t.Fatal(err)
	}
	if alive(left.Process.Pid) {
		t.Error("the group a dead server left runs on after a start")
	}
	if !alive(stranger.Process.Pid) {
		t.Error("a start killed a process that took a recorded pid")
	}
	if !alive(live.Process.Pid) {
		t.Error("a start killed a live run of another server")
	}
	for _, id := range []string{"r1", "r2"} {
		if _, err := os.Stat(d.pidFile(id)); !os.IsNotExist(err) {
			t.Errorf("pid file %s left: %v", id, err)
		}
	}
}

// TestServerKilledKillsItsCommands kills -9 a process running the driver
// while its command runs: the command and its children die with it.
func TestServerKilledKillsItsCommands(t *testing.T) {
	t.Parallel()
	c := testConfig(t)
	cmd := osexec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "PURSER_EXEC_TEST_SERVER="+c.WorkDir, "PURSER_EXEC_TEST_RUN_AS="+c.RunAs)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "started" {
		if strings.HasPrefix(sc.Text(), "provision returned") {
			t.Fatal(sc.Text())
		}
	}
	pids := recordedPids(t, filepath.Join(c.WorkDir, "r"))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d outlived the server by a minute", pid)
			}
			<-tick.C
		}
	}
}

func TestDisabledAsRootWithoutRunAs(t *testing.T) {
	t.Parallel()
	d := newWithEUID(Config{WorkDir: filepath.Join(t.TempDir(), "exec")}, 0)
	env := purser.Environment{RequestID: "r", Config: map[string]any{"provision": "true"}}
	_, perr := d.Provision(context.Background(), env)
	for _, err := range []error{d.Disabled(), perr, d.Destroy(context.Background(), env),
		d.PrepareTemplate(context.Background(), &purser.Template{Config: env.Config})} {
		var pe *purser.Error
		if !errors.As(err, &pe) || !strings.HasPrefix(pe.Message, "the exec driver is disabled: the server runs as root and exec.run_as is not set") {
			t.Fatalf("err %v", err)
		}
	}
}
