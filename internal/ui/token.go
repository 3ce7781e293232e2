package ui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/purserhq/purser"
)

// tokenData is the tokens page's.
type tokenData struct {
	Tokens    []tokenRow
	NewSecret string
	NewName   string
	Error     string
}

// tokenRow is one API token.
type tokenRow struct {
	ID, Name, Hint             string
	Created, Expires, LastUsed timeView
	Active                     bool
}

func (s *Server) tokenData(r *http.Request) (tokenData, error) {
	ts, err := s.Tokens.FindTokens(r.Context(), purser.TokenFilter{})
	if err != nil {
		return tokenData{}, err
	}
	d := tokenData{}
	now := s.now()
	for _, t := range ts {
		row := tokenRow{ID: t.ID, Name: t.Name, Hint: t.Hint, Created: newTime(t.Created), Active: t.Active(now)}
		if t.ExpiresAt != nil {
			row.Expires = newTime(*t.ExpiresAt)
		}
		if t.LastUsedAt != nil {
			row.LastUsed = newTime(*t.LastUsedAt)
		}
		d.Tokens = append(d.Tokens, row)
	}
	return d, nil
}

// tokenPage serves GET /tokens: the caller's API tokens.
func (s *Server) tokenPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.tokenData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "tokens", "API tokens", d)
}

// createToken serves POST /tokens: the new secret is shown on the page
// this once (a reload does not post again).
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var exp *time.Time
	if days, err := strconv.Atoi(r.PostFormValue("days")); err == nil && days > 0 {
		t := s.now().Add(time.Duration(days) * 24 * time.Hour)
		exp = &t
	}
	_, secret, cerr := s.Tokens.CreateToken(r.Context(), "", r.PostFormValue("name"), exp)
	d, err := s.tokenData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if cerr != nil {
		if code := purser.ErrorCode(cerr); code != purser.EINVALID {
			s.fail(w, r, cerr)
			return
		}
		d.Error, status = purser.ErrorMessage(cerr), http.StatusUnprocessableEntity
	} else {
		d.NewSecret, d.NewName = secret, r.PostFormValue("name")
	}
	s.render(w, r, status, "tokens", "API tokens", d)
}

// revokeToken serves POST /tokens/{id}/revoke.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.Tokens.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}
