package worker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/purserhq/purser"
)

// fakeStore is an in-memory purser.ProvisionStore for unit tests of the
// workers' own logic (retries, clean-up, purge during provisioning). It is
// a fake on purpose: it runs the domain's real decisions on one request
// held in memory, and the store behind them is tested black-box against
// real databases in internal/storetest. beforeFinish, when set, runs just
// before a provision result is recorded (e.g. a purge arriving meanwhile).
type fakeStore struct {
	mu           sync.Mutex
	r            *purser.Request
	driver       string
	results      []purser.ProvisionResult
	purges       []purser.PurgeResult
	beforeFinish func(r *purser.Request)
}

func (s *fakeStore) StartProvision(ctx context.Context, id string) (*purser.Request, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, proceed, err := s.r.StartProvision(time.Now())
	cp := *s.r
	return &cp, proceed, err
}

func (s *fakeStore) Environment(ctx context.Context, r *purser.Request) (purser.Environment, *purser.Template, error) {
	return purser.Environment{RequestID: r.ID}, &purser.Template{Driver: s.driver}, nil
}

func (s *fakeStore) FinishProvision(ctx context.Context, res purser.ProvisionResult) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.beforeFinish != nil {
		s.beforeFinish(s.r)
	}
	s.results = append(s.results, res)
	_, superseded, err := s.r.FinishProvision(time.Now(), res)
	return superseded, err
}

func (s *fakeStore) PurgeTarget(ctx context.Context, id string) (*purser.Request, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := *s.r
	return &cp, s.r.Status == purser.StatusPurgeInitiated, nil
}

func (s *fakeStore) FinishPurge(ctx context.Context, res purser.PurgeResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purges = append(s.purges, res)
	_, err := s.r.FinishPurge(time.Now(), res)
	return err
}

// fakeDriver counts calls and fails as told; it stands for any driver.
type fakeDriver struct {
	provisionErr, destroyErr error
	provisions, destroys     int
}

func (d *fakeDriver) Name() string            { return "fake" }
func (d *fakeDriver) ResourceTypes() []string { return []string{"FAKE"} }
func (d *fakeDriver) Provision(ctx context.Context, env purser.Environment) (map[string]string, error) {
	d.provisions++
	env.Log.WriteLine("stdout", "provisioning")
	if d.provisionErr != nil {
		return nil, d.provisionErr
	}
	return map[string]string{"endpoint": "https://x"}, nil
}
func (d *fakeDriver) Destroy(ctx context.Context, env purser.Environment) error {
	d.destroys++
	return d.destroyErr
}

// memLogs keeps every job's lines in memory; closeErr is what Close reports.
type memLogs struct {
	mu       sync.Mutex
	lines    []string
	closeErr error
}

func (l *memLogs) OpenJobLog(string) purser.JobLog { return l }
func (l *memLogs) WriteLine(stream, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}
func (l *memLogs) Close() error { return l.closeErr }

type harness struct {
	store  *fakeStore
	driver *fakeDriver
	logs   *memLogs
	out    *bytes.Buffer
	dj     driverJob
}

func newHarness(status purser.Status) *harness {
	h := &harness{
		store:  &fakeStore{r: &purser.Request{Meta: purser.Meta{ID: "r1"}, RequestedBy: "dev", Status: status}, driver: "fake"},
		driver: &fakeDriver{}, logs: &memLogs{}, out: &bytes.Buffer{},
	}
	h.dj = driverJob{Requests: h.store, Logs: h.logs, Drivers: map[string]purser.Driver{"fake": h.driver},
		Logger: slog.New(slog.NewTextHandler(h.out, nil))}
	return h
}

func (h *harness) provision(attempt int) error {
	w := &ProvisionWorker{driverJob: h.dj}
	return w.Work(context.Background(), &river.Job[purser.ProvisionArgs]{
		JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 5}, Args: purser.ProvisionArgs{RequestID: "r1"}})
}

func (h *harness) purge(attempt int) error {
	w := &PurgeWorker{driverJob: h.dj}
	return w.Work(context.Background(), &river.Job[purser.PurgeArgs]{
		JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 5}, Args: purser.PurgeArgs{RequestID: "r1"}})
}

func TestProvisionWorker(t *testing.T) {
	t.Parallel()
	boom := errors.New("cloud down")
	t.Run("Deployed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusApproved)
		if err := h.provision(1); err != nil {
			t.Fatal(err)
		}
		if h.store.r.Status != purser.StatusDeployed || h.driver.destroys != 0 || h.store.results[0].Outputs["endpoint"] != "https://x" {
			t.Fatalf("status %s destroys %d results %+v", h.store.r.Status, h.driver.destroys, h.store.results)
		}
		if !strings.Contains(h.logs.lines[0], "provision: attempt 1 of 5, driver fake") {
			t.Fatalf("log %q", h.logs.lines)
		}
	})
	t.Run("FailureRetried", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusApproved)
		h.driver.provisionErr = boom
		if err := h.provision(2); !errors.Is(err, boom) {
			t.Fatalf("err %v, want the driver's, for River to retry", err)
		}
		if h.store.r.Status != purser.StatusInitiated || h.driver.destroys != 0 || h.store.results[0].Final {
			t.Fatalf("status %s destroys %d final %v", h.store.r.Status, h.driver.destroys, h.store.results[0].Final)
		}
		h.driver.provisionErr = nil
		if err := h.provision(3); err != nil || h.store.r.Status != purser.StatusDeployed {
			t.Fatalf("retry: %v, %s", err, h.store.r.Status)
		}
	})
	t.Run("LastAttemptDestroysWhatWasMade", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusInitiated)
		h.driver.provisionErr = boom
		if err := h.provision(5); err != nil {
			t.Fatalf("err %v: the last attempt is final, nothing to retry", err)
		}
		if h.store.r.Status != purser.StatusFailed || h.driver.destroys != 1 || !h.store.results[0].Final {
			t.Fatalf("status %s destroys %d", h.store.r.Status, h.driver.destroys)
		}
	})
	t.Run("PurgedWhileProvisioning", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusApproved)
		h.store.beforeFinish = func(r *purser.Request) {
			if _, err := r.Purge(&purser.Actor{System: true}, time.Now()); err != nil {
				t.Error(err)
			}
		}
		if err := h.provision(1); err != nil {
			t.Fatal(err)
		}
		if h.store.r.Status != purser.StatusPurgeInitiated || h.driver.destroys != 1 {
			t.Fatalf("status %s destroys %d: what was made after the purge must be destroyed", h.store.r.Status, h.driver.destroys)
		}
	})
	t.Run("NotToProvision", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusPurgeInitiated)
		if err := h.provision(1); err != nil || h.driver.provisions != 0 || len(h.logs.lines) != 0 {
			t.Fatalf("err %v provisions %d", err, h.driver.provisions)
		}
	})
	t.Run("NoSuchDriver", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusApproved)
		h.store.driver = "gone"
		if err := h.provision(1); err == nil || h.store.r.Status != purser.StatusInitiated {
			t.Fatalf("err %v status %s", err, h.store.r.Status)
		}
		if err := h.provision(5); err != nil || h.store.r.Status != purser.StatusFailed {
			t.Fatalf("last attempt: err %v status %s", err, h.store.r.Status)
		}
	})
	t.Run("LostLogLinesSurfaced", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusApproved)
		h.logs.closeErr = errors.New("append log: disk full")
		if err := h.provision(1); err != nil {
			t.Fatal(err)
		}
		if out := h.out.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "disk full") || !strings.Contains(out, "request_id=r1") {
			t.Fatalf("server log %q: a lost log line must be an error someone sees", out)
		}
	})
}

func TestPurgeWorker(t *testing.T) {
	t.Parallel()
	boom := errors.New("cloud down")
	t.Run("Purged", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusPurgeInitiated)
		if err := h.purge(1); err != nil || h.store.r.Status != purser.StatusPurged || h.driver.destroys != 1 {
			t.Fatalf("err %v status %s destroys %d", err, h.store.r.Status, h.driver.destroys)
		}
	})
	t.Run("FailureRetried", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusPurgeInitiated)
		h.driver.destroyErr = boom
		if err := h.purge(1); !errors.Is(err, boom) || h.store.r.Status != purser.StatusPurgeInitiated {
			t.Fatalf("err %v status %s", err, h.store.r.Status)
		}
	})
	t.Run("LastAttemptFails", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusPurgeInitiated)
		h.driver.destroyErr = boom
		if err := h.purge(5); err != nil || h.store.r.Status != purser.StatusPurgeFailed || !h.store.purges[0].Final {
			t.Fatalf("err %v status %s", err, h.store.r.Status)
		}
	})
	t.Run("NotToPurge", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusDeployed)
		if err := h.purge(1); err != nil || h.driver.destroys != 0 {
			t.Fatalf("err %v destroys %d", err, h.driver.destroys)
		}
	})
	t.Run("LostLogLinesSurfaced", func(t *testing.T) {
		t.Parallel()
		h := newHarness(purser.StatusPurgeInitiated)
		h.logs.closeErr = errors.New("append log: disk full")
		if err := h.purge(1); err != nil || !strings.Contains(h.out.String(), "disk full") {
			t.Fatalf("err %v server log %q", err, h.out.String())
		}
	})
}
