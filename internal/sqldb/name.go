package sqldb

import (
	"context"
	"fmt"
	"slices"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// NameService implements purser.NameService.
type NameService struct{ db *DB }

// NewNameService returns the name service over db.
func NewNameService(db *DB) *NameService { return &NameService{db: db} }

var _ purser.NameService = (*NameService)(nil)

// signedIn answers EUNAUTHORIZED unless someone calls: a user, an agent or
// Purser itself.
func signedIn(ctx context.Context) error {
	if a := purser.ActorFromContext(ctx); a == nil || !a.System && a.User == nil && a.Host == "" {
		return purser.Errorf(purser.EUNAUTHORIZED, "authentication required")
	}
	return nil
}

// ResolveUsers returns the user each ref names, by _id first, else by
// username, in one query.
func (s *NameService) ResolveUsers(ctx context.Context, refs []string) (map[string]purser.Ref, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	out := map[string]purser.Ref{}
	refs = distinct(refs)
	if len(refs) == 0 {
		return out, nil
	}
	args, in := twiceIn(refs)
	rows, err := s.db.Read.Query(ctx, "SELECT id, username, is_active FROM users WHERE id IN ("+in+") OR username IN ("+in+")", args...)
	if err != nil {
		return nil, fmt.Errorf("resolve users: %w", err)
	}
	defer rows.Close()
	byName := map[string]purser.Ref{}
	for rows.Next() {
		var r purser.Ref
		if err := rows.Scan(&r.ID, &r.Name, &r.IsActive); err != nil {
			return nil, fmt.Errorf("scan user name: %w", err)
		}
		out[r.ID] = r // an _id wins over another user's username
		byName[r.Name] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resolve users: %w", err)
	}
	for _, ref := range refs {
		if _, ok := out[ref]; !ok {
			if r, ok := byName[ref]; ok {
				out[ref] = r
			}
		}
	}
	for id := range out {
		if !slices.Contains(refs, id) {
			delete(out, id) // found by its username only
		}
	}
	return out, nil
}

// ResolveTemplates returns the templates each ref names: by _id, else
// every template of that name, active ones first.
func (s *NameService) ResolveTemplates(ctx context.Context, refs []string) (map[string][]purser.Ref, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	out := map[string][]purser.Ref{}
	refs = distinct(refs)
	if len(refs) == 0 {
		return out, nil
	}
	args, in := twiceIn(refs)
	rows, err := s.db.Read.Query(ctx, "SELECT id, name, is_active FROM templates WHERE id IN ("+in+") OR name IN ("+in+
		") ORDER BY is_active DESC, created_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("resolve templates: %w", err)
	}
	defer rows.Close()
	byID := map[string]purser.Ref{}
	byName := map[string][]purser.Ref{}
	for rows.Next() {
		var r purser.Ref
		if err := rows.Scan(&r.ID, &r.Name, &r.IsActive); err != nil {
			return nil, fmt.Errorf("scan template name: %w", err)
		}
		byID[r.ID] = r
		byName[r.Name] = append(byName[r.Name], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resolve templates: %w", err)
	}
	for _, ref := range refs {
		if r, ok := byID[ref]; ok {
			out[ref] = []purser.Ref{r}
		} else if rs := byName[ref]; len(rs) > 0 {
			out[ref] = rs
		}
	}
	return out, nil
}

func distinct(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// twiceIn is refs as the arguments of a query that looks them up in two
// columns ("id IN (in) OR name IN (in)"), and the placeholders of one IN.
func twiceIn(refs []string) ([]any, string) {
	args := make([]any, 0, 2*len(refs))
	for _, r := range refs {
		args = append(args, r)
	}
	return append(args, args...), sq.Placeholders(len(refs))
}
