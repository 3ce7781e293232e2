package worker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purserhq/purser"
)

// memLeases is Leases in memory: it records what the heartbeat and the
// rescuer ask of the store, whose SQL the store suite (internal/storetest)
// tests on both engines.
type memLeases struct {
	mu        sync.Mutex
	expires   map[string]time.Time
	rescued   []time.Time // the now of each rescue
	last      []purser.AbandonedJob
	discarded []int64
	err       error
}

func (m *memLeases) RenewLease(_ context.Context, replica string, now time.Time, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.expires[replica] = now.Add(ttl)
	return nil
}

func (m *memLeases) DeleteLease(_ context.Context, replica string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.expires, replica)
	return nil
}

func (m *memLeases) RescueAbandonedJobs(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rescued = append(m.rescued, now)
	return 1, m.err
}

func (m *memLeases) DatabaseTime(context.Context) (time.Time, error) { return time.Now(), nil }

func (m *memLeases) AbandonedLastAttempts(context.Context, time.Time) ([]purser.AbandonedJob, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var left []purser.AbandonedJob
	for _, j := range m.last {
		if !slices.Contains(m.discarded, j.ID) {
			left = append(left, j)
		}
	}
	return left, nil
}

func (m *memLeases) DiscardJob(_ context.Context, j purser.AbandonedJob, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.discarded = append(m.discarded, j.ID)
	return nil
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	m := &memLeases{expires: map[string]time.Time{}}
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	h := &Heartbeat{Leases: m, Replica: "r1", Every: time.Hour, TTL: 3 * time.Hour, NowFunc: func() time.Time { return at }}
	t.Run("OpenTakesTheLease", func(t *testing.T) {
		if err := h.Open(); err != nil {
			t.Fatal(err)
		}
		if err := h.Open(); err != nil {
			t.Fatalf("second Open: %v", err)
		}
		if got, want := m.expires["r1"], at.Add(3*time.Hour); !got.Equal(want) {
			t.Fatalf("lease expires at %v, want %v", got, want)
		}
	})
	t.Run("RunOnceRenews", func(t *testing.T) {
		at = at.Add(time.Hour)
		if err := h.runOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := m.expires["r1"], at.Add(3*time.Hour); !got.Equal(want) {
			t.Fatalf("lease expires at %v, want %v", got, want)
		}
	})
	t.Run("CloseDeletesTheLease", func(t *testing.T) {
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		if err := h.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, ok := m.expires["r1"]; ok {
			t.Fatal("lease still there after Close")
		}
	})
	t.Run("ErrOpenWithoutLease", func(t *testing.T) {
		m := &memLeases{expires: map[string]time.Time{}, err: errors.New("database down")}
		h := &Heartbeat{Leases: m, Replica: "r2", Every: time.Hour, TTL: 3 * time.Hour}
		if err := h.Open(); err == nil {
			t.Fatal("Open succeeded without a lease: jobs would run under an identity others take for dead")
		}
		if err := h.Close(); err != nil {
			t.Fatalf("Close of a heartbeat that never opened: %v", err)
		}
	})
}

func TestRescuer(t *testing.T) {
	t.Parallel()
	m := &memLeases{expires: map[string]time.Time{}}
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	r := &Rescuer{Leases: m, Every: time.Hour, NowFunc: func() time.Time { return at }}
	if err := r.runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Open(); err != nil { // rescues once at once
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if len(m.rescued) != 2 || !m.rescued[0].Equal(at) {
		t.Fatalf("rescues at %v; want two, at %v", m.rescued, at)
	}
}

// TestRescuerEndsAbandonedLastAttempts: a job whose replica died during its
// last attempt is retried by no one, so the rescuer fails its request for
// good (FAILED, PURGE_FAILED: DevOps are told) and only then discards it;
// a request that moved on meanwhile is left as it is.
func TestRescuerEndsAbandonedLastAttempts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		kind   string
		status purser.Status
		want   purser.Status
	}{
		{"ProvisionFails", purser.ProvisionArgs{}.Kind(), purser.StatusInitiated, purser.StatusFailed},
		{"PurgeFails", purser.PurgeArgs{}.Kind(), purser.StatusPurgeInitiated, purser.StatusPurgeFailed},
		{"MovedOnLeftAlone", purser.ProvisionArgs{}.Kind(), purser.StatusDeployed, purser.StatusDeployed},
		{"OtherKindDiscarded", purser.NotifyArgs{}.Kind(), purser.StatusInitiated, purser.StatusInitiated},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			store := &fakeStore{r: &purser.Request{Meta: purser.Meta{ID: "r1"}, RequestedBy: "dev", Status: c.status}}
			job := purser.AbandonedJob{ID: 7, Kind: c.kind, RequestID: "r1", Replica: "vm_dead"}
			if c.kind == (purser.NotifyArgs{}).Kind() {
				job.RequestID = ""
			}
			m := &memLeases{expires: map[string]time.Time{}, last: []purser.AbandonedJob{job}}
			r := &Rescuer{Leases: m, Requests: store, Every: time.Hour, NowFunc: time.Now}
			for range 2 { // a second pass finds nothing left to do
				if err := r.runOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if store.r.Status != c.want {
				t.Fatalf("request %s, want %s", store.r.Status, c.want)
			}
			if c.want != c.status && !strings.Contains(store.r.LastError, "vm_dead") {
				t.Fatalf("last error %q names no replica", store.r.LastError)
			}
			if len(m.discarded) != 1 || m.discarded[0] != 7 {
				t.Fatalf("discarded %v, want job 7 once", m.discarded)
			}
		})
	}
}

// TestRescuerWaitsForItsOwnLease: after a database outage every lease
// looks lapsed, so a rescuer takes over nothing until its own replica's
// renewals have succeeded for Grace without a break.
func TestRescuerWaitsForItsOwnLease(t *testing.T) {
	t.Parallel()
	m := &memLeases{expires: map[string]time.Time{}}
	h := &Heartbeat{Leases: m, Replica: "a", TTL: time.Minute}
	r := &Rescuer{Leases: m, Heartbeat: h, Grace: time.Hour}
	ctx := context.Background()
	rescues := func() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.rescued) }
	if err := r.runOnce(ctx); err != nil || rescues() != 0 {
		t.Fatalf("before any renewal: %v, %d rescues; want none", err, rescues())
	}
	if err := h.runOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.runOnce(ctx); err != nil || rescues() != 0 {
		t.Fatalf("renewed for less than the grace: %v, %d rescues; want none", err, rescues())
	}
	r.Grace = 0
	if err := r.runOnce(ctx); err != nil || rescues() != 1 {
		t.Fatalf("renewed without a break: %v, %d rescues; want one", err, rescues())
	}
	m.mu.Lock()
	m.err = errors.New("connection refused")
	m.mu.Unlock()
	if err := h.runOnce(ctx); err == nil {
		t.Fatal("a failed renewal reported no error")
	}
	m.mu.Lock()
	m.err = nil
	m.mu.Unlock()
	if err := r.runOnce(ctx); err != nil || rescues() != 1 {
		t.Fatalf("after a failed renewal: %v, %d rescues; want no new one", err, rescues())
	}
}

// TestWhileUnavailable: a driver's result is recorded through a database
// outage (EUNAVAILABLE is retried), any other error is returned at once.
func TestWhileUnavailable(t *testing.T) {
	t.Parallel()
	down := &purser.Error{Code: purser.EUNAVAILABLE, Message: "the database is unavailable"}
	calls := 0
	err := whileUnavailable(context.Background(), func() error {
		if calls++; calls < 3 {
			return down
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("recorded after %d calls: %v; want 3, nil", calls, err)
	}
	calls = 0
	conflict := purser.Errorf(purser.ECONFLICT, "moved on")
	if err := whileUnavailable(context.Background(), func() error { calls++; return conflict }); err != conflict || calls != 1 {
		t.Errorf("another error: %v after %d calls; want it at once", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := whileUnavailable(ctx, func() error { return down }); purser.ErrorCode(err) != purser.EUNAVAILABLE {
		t.Errorf("with its context done: %v; want the unavailable error", err)
	}
}
