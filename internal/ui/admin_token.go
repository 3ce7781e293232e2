package ui

import (
	"net/http"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// adminTokenRow is a token in the admin's list: whose it is too.
type adminTokenRow struct {
	tokenRow
	UserID, User string
}

// tokenRows makes the rows of tokens; names maps user ids to usernames.
func (s *Server) tokenRows(ts []*purser.Token, names map[string]purser.Ref) []tokenRow {
	now := s.now()
	out := make([]tokenRow, 0, len(ts))
	for _, t := range ts {
		row := tokenRow{ID: t.ID, Name: t.Name, Hint: t.Hint, Created: newTime(t.Created), Active: t.Active(now)}
		if t.ExpiresAt != nil {
			row.Expires = newTime(*t.ExpiresAt)
		}
		if t.LastUsedAt != nil {
			row.LastUsed = newTime(*t.LastUsedAt)
		}
		out = append(out, row)
	}
	return out
}

// allTokensData is the admin's tokens page's.
type allTokensData struct {
	Tokens []adminTokenRow
	Max    int
}

func (d allTokensData) content(p page) templ.Component { return allTokensPage(p, d) }

// allTokens serves GET /admin/tokens: every user's API tokens, newest
// first, with their owners' usernames (one query for all names).
func (s *Server) allTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Tokens.FindTokens(r.Context(), purser.TokenFilter{All: true})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names, err := s.userNames(r, ts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := allTokensData{Max: purser.MaxTokensListed}
	for i, row := range s.tokenRows(ts, names) {
		uid := ts[i].UserID
		name := uid
		if n, ok := names[uid]; ok {
			name = n.Name
		}
		d.Tokens = append(d.Tokens, adminTokenRow{tokenRow: row, UserID: uid, User: name})
	}
	s.render(w, r, http.StatusOK, "admin", "All API tokens", d)
}

// userNames resolves the owners of tokens.
func (s *Server) userNames(r *http.Request, ts []*purser.Token) (map[string]purser.Ref, error) {
	if s.Names == nil || len(ts) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, t := range ts {
		if !seen[t.UserID] {
			seen[t.UserID] = true
			ids = append(ids, t.UserID)
		}
	}
	return s.Names.ResolveUsers(r.Context(), ids)
}

// adminRevokeToken serves POST /admin/tokens/{id}/revoke.
func (s *Server) adminRevokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.Tokens.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	back := safeNext(r.PostFormValue("back"))
	if back == "/" {
		back = "/admin/tokens"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
