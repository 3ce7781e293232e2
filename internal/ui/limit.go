package ui

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// signInKeys are the keys a sign-in's failures count against: the
// client's address and the username it tried (purser.SignInLimiter), so
// that neither one address nor many addresses can guess a password fast.
func signInKeys(r *http.Request, username string) []string {
	keys := []string{"addr:" + clientAddr(r)}
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" {
		keys = append(keys, "user:"+u)
	}
	return keys
}

// signInWait is how long the sign-in must wait; a limiter that fails does
// not stop sign-ins (it is logged).
func (s *Server) signInWait(r *http.Request, keys []string) time.Duration {
	wait, err := s.Limiter.SignInWait(r.Context(), keys...)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "sign-in limiter", "error", err)
	}
	return wait
}

// signInFailed counts a failed sign-in against keys.
func (s *Server) signInFailed(r *http.Request, keys []string) {
	if err := s.Limiter.FailSignIn(r.Context(), keys...); err != nil {
		s.Logger.ErrorContext(r.Context(), "sign-in limiter", "error", err)
	}
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

// tooManyFailures answers a sign-in for an address or a username that
// failed too often.
func (s *Server) tooManyFailures(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(wait.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.renderPublic(w, r, http.StatusTooManyRequests, "signin", "Sign in", signInData{Action: "/signin",
		Next: r.PostFormValue("next"), Error: "Too many failed sign-ins from your address or for this username; try again in " + strconv.Itoa(secs) + " seconds."})
}
