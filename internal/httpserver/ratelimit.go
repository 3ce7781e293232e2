package httpserver

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// failureLimiter counts failed authentications per client address in
// fixed windows: after max failures in one window, the address is blocked
// until the window ends. A fixed window is coarse (a guesser gets at most
// 2×max tries across a boundary) but needs one counter per address.
type failureLimiter struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	addrs map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	n     int
}

// maxTrackedAddrs bounds the table; past it, expired windows are swept.
const maxTrackedAddrs = 10_000

func newFailureLimiter(max int, window time.Duration) *failureLimiter {
	return &failureLimiter{max: max, window: window, addrs: map[string]*failureWindow{}}
}

// blocked returns how long addr stays blocked, or 0 when it is not.
func (l *failureLimiter) blocked(addr string, now time.Time) time.Duration {
	if l == nil || l.max <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.addrs[addr]
	if w == nil || w.n < l.max {
		return 0
	}
	if left := w.start.Add(l.window).Sub(now); left > 0 {
		return left
	}
	delete(l.addrs, addr)
	return 0
}

// fail records a failed authentication from addr.
func (l *failureLimiter) fail(addr string, now time.Time) {
	if l == nil || l.max <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.addrs[addr]
	if w == nil || now.Sub(w.start) >= l.window {
		if w == nil && len(l.addrs) >= maxTrackedAddrs {
			l.sweep(now)
		}
		w = &failureWindow{start: now}
		l.addrs[addr] = w
	}
	w.n++
}

// sweep drops expired windows; l.mu is held.
func (l *failureLimiter) sweep(now time.Time) {
	for a, w := range l.addrs {
		if now.Sub(w.start) >= l.window {
			delete(l.addrs, a)
		}
	}
}

// writeTooManyFailures answers 429 to an address blocked for wait more.
func writeTooManyFailures(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	writeProblem(w, http.StatusTooManyRequests, "too many failed authentications from this address; retry later")
}
