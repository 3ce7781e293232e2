package ui

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// signInFailuresPerMinute is how many failed sign-ins one client address
// may make in a minute before its sign-ins are refused until the minute
// ends: enough for typos, too few to guess passwords.
const signInFailuresPerMinute = 10

// failures counts failed sign-ins per client address in fixed windows.
type failures struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// blocked returns how long addr must wait, or 0.
func (f *failures) blocked(addr string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.windows[addr]
	if w == nil || now.Sub(w.start) >= time.Minute || w.n < signInFailuresPerMinute {
		return 0
	}
	return time.Minute - now.Sub(w.start)
}

// fail counts a failure of addr, and forgets windows that ended.
func (f *failures) fail(addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.windows == nil {
		f.windows = map[string]*window{}
	}
	for a, w := range f.windows {
		if now.Sub(w.start) >= time.Minute {
			delete(f.windows, a)
		}
	}
	w := f.windows[addr]
	if w == nil {
		w = &window{start: now}
		f.windows[addr] = w
	}
	w.n++
}

// clientAddr is the connection's peer address (X-Forwarded-For is not
// trusted: any client can write it).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// tooManyFailures answers a sign-in from an address that failed too often.
func (s *Server) tooManyFailures(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(wait.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.renderPublic(w, r, http.StatusTooManyRequests, "signin", "Sign in", signInData{Action: "/signin",
		Next: r.PostFormValue("next"), Error: "Too many failed sign-ins from your address; try again in " + strconv.Itoa(secs) + " seconds."})
}
