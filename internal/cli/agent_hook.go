package cli

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/driver/exec"
)

// hookRunner runs the hook runs the agent claimed, one after the other,
// in its own goroutine, so that heartbeats go on while a long join runs.
type hookRunner struct {
	a     *Agent
	cred  *syscall.Credential
	queue chan claimed
}

// claimed is a run handed to the agent, with when it must be done.
type claimed struct {
	client.HookRun
	deadline time.Time
}

// claim takes the host's pending runs and queues them (they are RUNNING
// on the server from now on).
func (r *hookRunner) claim(ctx context.Context) {
	got, err := r.a.Client.ClaimHookRuns(ctx, r.a.Host.Name)
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(r.a.Log, "claim hook runs failed (will retry): %v\n", err)
		}
		return
	}
	for _, run := range got.Items {
		select {
		case r.queue <- claimed{run, run.Created.Add(time.Duration(got.TimeoutSeconds) * time.Second)}:
		case <-ctx.Done():
			return
		}
	}
}

// loop runs queued runs until ctx ends.
func (r *hookRunner) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case run := <-r.queue:
			r.run(ctx, run)
		}
	}
}

// run runs one hook under the exec rules, streams its output and reports
// its exit.
func (r *hookRunner) run(ctx context.Context, run claimed) {
	log := newHookLog(r.a.Client, r.a.Host.Name, run.ID)
	timeout := time.Until(run.deadline)
	exit, err := -1, error(nil)
	if timeout <= 0 {
		err = fmt.Errorf("its time ran out before it could start")
	} else {
		exit, err = exec.RunHook(ctx, exec.Hook{Argv: run.Argv, Dir: r.a.WorkDir, Timeout: timeout, Env: map[string]string{
			"PURSER_HOOK": run.Kind, "PURSER_HOOK_RUN": run.ID, "PURSER_POOL": run.Pool, "PURSER_HOST": run.Host,
		}}, r.cred, log)
	}
	log.close(ctx)
	if ctx.Err() != nil {
		return // the agent stops: the server fails the run when it registers again, or at its timeout
	}
	in := client.HookRunFinish{ExitCode: exit}
	if err != nil {
		in.Error = err.Error()
	}
	fmt.Fprintf(r.a.Log, "%s hook %s for pool %s: exit %d %s\n", run.Kind, run.ID, run.Pool, exit, in.Error)
	for attempt := 0; attempt < 5; attempt++ {
		_, ferr := r.a.Client.FinishHookRun(ctx, r.a.Host.Name, run.ID, in)
		if ferr == nil || client.StatusCode(ferr) >= 400 && client.StatusCode(ferr) < 500 {
			if ferr != nil {
				fmt.Fprintf(r.a.Log, "report of hook run %s refused: %v\n", run.ID, ferr)
			}
			return
		}
		fmt.Fprintf(r.a.Log, "report of hook run %s failed (will retry): %v\n", run.ID, ferr)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second << attempt):
		}
	}
}

// hookLog streams a run's output to the server in batches, every
// hookLogEvery or hookLogLines lines, so that its log is live.
type hookLog struct {
	c        *client.Client
	host, id string
	mu       sync.Mutex
	pending  []client.HookLogLine
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

const (
	hookLogEvery = 250 * time.Millisecond
	hookLogLines = 500
	hookLineMax  = 16 << 10
)

func newHookLog(c *client.Client, host, id string) *hookLog {
	l := &hookLog{c: c, host: host, id: id, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

// WriteLine implements purser.LogWriter.
func (l *hookLog) WriteLine(stream, line string) {
	if len(line) > hookLineMax {
		line = line[:hookLineMax]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, client.HookLogLine{Time: time.Now().UTC(), Stream: stream, Line: line})
	if len(l.pending) >= hookLogLines {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

var _ purser.LogWriter = (*hookLog)(nil)

func (l *hookLog) loop() {
	defer close(l.done)
	t := time.NewTicker(hookLogEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-l.wake:
		case <-l.stop:
			l.flush(context.Background())
			return
		}
		l.flush(context.Background())
	}
}

// flush sends what is pending, in batches the API takes; a batch that
// fails is dropped (the run goes on: its exit matters more than its log).
func (l *hookLog) flush(ctx context.Context) {
	l.mu.Lock()
	batch := l.pending
	l.pending = nil
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for len(batch) > 0 {
		n := min(len(batch), 1000)
		_ = l.c.AppendHookLog(ctx, l.host, l.id, batch[:n])
		batch = batch[n:]
	}
}

func (l *hookLog) close(context.Context) {
	close(l.stop)
	<-l.done
}
