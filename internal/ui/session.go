package ui

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/purserhq/purser"
)

// Cookie names: the session's secret, and the token that guards the
// sign-in forms before there is a session.
const (
	sessionCookie = "purser_session"
	preCSRFCookie = "purser_csrf"
)

type sessionKey struct{}

// sessionFrom returns the session of the request, or nil.
func sessionFrom(ctx context.Context) *purser.Session {
	s, _ := ctx.Value(sessionKey{}).(*purser.Session)
	return s
}

// user returns the signed-in user of the request, or nil.
func user(r *http.Request) *purser.User {
	if a := purser.ActorFromContext(r.Context()); a != nil {
		return a.User
	}
	return nil
}

// authenticate resolves the session cookie to the actor. A request the
// shared middleware already authenticated (a bearer token) keeps its
// actor; a stale cookie is cleared.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || purser.ActorFromContext(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		actor, sess, err := s.Sessions.AuthenticateSession(r.Context(), c.Value)
		if err != nil {
			if purser.ErrorCode(err) != purser.EUNAUTHORIZED {
				s.fail(w, r, err)
				return
			}
			s.setCookie(w, r, sessionCookie, "", -1)
			next.ServeHTTP(w, r)
			return
		}
		ctx := context.WithValue(purser.NewContextWithActor(r.Context(), actor), sessionKey{}, sess)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireUser sends a browser without a signed-in user to the sign-in
// page, to come back where it was going.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user(r) == nil {
			target := "/signin"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkCSRF refuses a POST whose form does not carry the session's CSRF
// token (or, before sign-in, the token of the pre-session cookie). A
// request authenticated by a bearer token carries no cookie a third party
// could ride on, and passes.
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		got := r.PostFormValue("csrf")
		want := ""
		if sess := sessionFrom(r.Context()); sess != nil {
			want = sess.CSRFToken
		} else if purser.ActorFromContext(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		} else if c, err := r.Cookie(preCSRFCookie); err == nil {
			want = c.Value
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			http.Error(w, "The form is stale or did not come from Purser (its CSRF token does not match). Reload the page and try again.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) an HttpOnly,
// SameSite cookie. It is Secure unless the browser reached the server at a
// loopback address (a laptop, a test) or Insecure is set.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
}

// secure reports whether the cookies of r's answer are Secure.
func (s *Server) secure(r *http.Request) bool { return !s.Insecure && !loopback(r.Host) }

// loopback reports whether host (with or without a port) names this machine.
func loopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// preCSRF returns the pre-session CSRF token, setting its cookie when the
// browser has none.
func (s *Server) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && c.Value != "" {
		return c.Value
	}
	v := purser.NewSecret("")
	s.setCookie(w, r, preCSRFCookie, v, 0)
	return v
}

// signInData is the sign-in page's.
type signInData struct {
	Username, Next, Error string
	Link                  bool
	Action                string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if user(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderPublic(w, r, http.StatusOK, "signin", "Sign in", signInData{Next: r.URL.Query().Get("next"), Action: "/signin"})
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	username, next := r.PostFormValue("username"), r.PostFormValue("next")
	keys := signInKeys(r, username)
	if wait := s.signInWait(r, keys); wait > 0 {
		s.tooManyFailures(w, r, wait)
		return
	}
	_, secret, err := s.Sessions.SignIn(r.Context(), username, r.PostFormValue("password"))
	if err != nil {
		if purser.ErrorCode(err) != purser.EUNAUTHORIZED {
			s.fail(w, r, err)
			return
		}
		s.signInFailed(r, keys)
		s.renderPublic(w, r, http.StatusUnauthorized, "signin", "Sign in",
			signInData{Username: username, Next: next, Error: purser.ErrorMessage(err), Action: "/signin"})
		return
	}
	s.setCookie(w, r, sessionCookie, secret, int(purser.SessionLifetime.Seconds()))
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (s *Server) linkPage(w http.ResponseWriter, r *http.Request) {
	s.renderPublic(w, r, http.StatusOK, "signin", "Set your password",
		signInData{Link: true, Action: "/signin/link/" + r.PathValue("secret")})
}

func (s *Server) linkSignIn(w http.ResponseWriter, r *http.Request) {
	data := signInData{Link: true, Action: "/signin/link/" + r.PathValue("secret")}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		data.Error = "The two passwords differ."
		s.renderPublic(w, r, http.StatusUnprocessableEntity, "signin", "Set your password", data)
		return
	}
	keys := signInKeys(r, "")
	if wait := s.signInWait(r, keys); wait > 0 {
		s.tooManyFailures(w, r, wait)
		return
	}
	_, secret, err := s.Sessions.SignInWithLink(r.Context(), r.PathValue("secret"), pw)
	if err != nil {
		code := purser.ErrorCode(err)
		if code != purser.EUNAUTHORIZED && code != purser.EINVALID {
			s.fail(w, r, err)
			return
		}
		if code == purser.EUNAUTHORIZED {
			s.signInFailed(r, keys)
		}
		data.Error = purser.ErrorMessage(err)
		s.renderPublic(w, r, statusOf(err), "signin", "Set your password", data)
		return
	}
	s.setCookie(w, r, sessionCookie, secret, int(purser.SessionLifetime.Seconds()))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.Sessions.SignOut(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// safeNext keeps a redirect after sign-in on this server: a path, never
// another host ("//evil" or "/\evil").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
