package ui

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/oidc"
)

// oidcCookie keeps a sign-in's state, nonce, PKCE verifier and where to go
// after, between the redirect to the provider and its callback; it is
// HttpOnly, lives ten minutes and is sent to the callback only.
const (
	oidcCookie     = "purser_oidc"
	oidcCookiePath = "/signin/oidc"
	oidcCookieAge  = 600
)

// oidcState is the cookie's content.
type oidcState struct {
	oidc.Flow
	Next string
}

// oidcStart serves GET /signin/oidc: it sends the browser to the
// provider's sign-in with a fresh state, nonce and PKCE challenge.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil {
		s.fail(w, r, purser.Errorf(purser.ENOTFOUND, "sign-in with an identity provider is not configured"))
		return
	}
	st := oidcState{Flow: oidc.NewFlow(), Next: safeNext(r.URL.Query().Get("next"))}
	if s.OIDC.RedirectURL() == "" {
		// Not configured: the callback on the host the browser reached
		// (the provider accepts only the callbacks registered with it).
		scheme := "https"
		if r.TLS == nil && (s.Insecure || loopback(r.Host)) {
			scheme = "http"
		}
		st.Redirect = scheme + "://" + r.Host + "/signin/oidc/callback"
	}
	to, err := s.OIDC.AuthURL(r.Context(), st.Flow)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "oidc discovery", "error", err)
		s.oidcRefused(w, r, http.StatusBadGateway, "The identity provider cannot be reached; try again later, or sign in with a password.")
		return
	}
	b, _ := json.Marshal(st)
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: oidcCookiePath,
		MaxAge: oidcCookieAge, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusFound)
}

// oidcCallback serves GET /signin/oidc/callback: it checks the state,
// trades the code for a verified ID token and opens a session for the
// user it names (created on first sign-in).
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil {
		s.fail(w, r, purser.Errorf(purser.ENOTFOUND, "sign-in with an identity provider is not configured"))
		return
	}
	var st oidcState
	c, err := r.Cookie(oidcCookie)
	if err == nil {
		var b []byte
		if b, err = base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			err = json.Unmarshal(b, &st)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Path: oidcCookiePath, MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	if err != nil || st.State == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		s.oidcRefused(w, r, http.StatusBadRequest, "The sign-in expired or did not start here; sign in again.")
		return
	}
	if e := q.Get("error"); e != "" {
		s.oidcRefused(w, r, http.StatusUnauthorized, "The identity provider refused the sign-in ("+e+").")
		return
	}
	id, err := s.OIDC.Exchange(r.Context(), st.Flow, q.Get("code"))
	if err != nil {
		if errors.Is(err, oidc.ErrRefused) {
			s.Logger.WarnContext(r.Context(), "oidc sign-in refused", "error", err)
			s.oidcRefused(w, r, http.StatusUnauthorized, "The identity provider's answer could not be verified; sign in again.")
			return
		}
		s.Logger.ErrorContext(r.Context(), "oidc exchange", "error", err)
		s.oidcRefused(w, r, http.StatusBadGateway, "The identity provider cannot be reached; try again later, or sign in with a password.")
		return
	}
	_, secret, err := s.Identities.SignInWithIdentity(r.Context(), id)
	if err != nil {
		switch purser.ErrorCode(err) {
		case purser.EUNAUTHORIZED, purser.ECONFLICT, purser.EINVALID:
			s.oidcRefused(w, r, statusOf(err), purser.ErrorMessage(err))
		default:
			s.fail(w, r, err)
		}
		return
	}
	s.setCookie(w, r, sessionCookie, secret, int(purser.SessionLifetime.Seconds()))
	http.Redirect(w, r, safeNext(st.Next), http.StatusSeeOther)
}

// oidcRefused shows the sign-in page with why the provider's sign-in failed.
func (s *Server) oidcRefused(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.renderPublic(w, r, status, "signin", "Sign in", signInData{Action: "/signin", Error: msg})
}
