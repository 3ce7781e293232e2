package api

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/purserhq/purser"
)

// Every route that names a user or a template takes its username or name
// as well as its _id; they are resolved here, in one place, before the
// services (which know only ids) are called. Documents name people and
// templates beside their ids, filled in here too.

// idShape is the shape of the ids Purser makes: a ref of this shape that
// names no one is handed on as is, so that the service says what it always
// said of an unknown id.
var idShape = regexp.MustCompile(`^[0-9a-f]{24}$`)

// refSource says where a reference came from, for its error: a path
// parameter (404) or a body or query field (422).
type refSource int

const (
	inPath refSource = iota
	inField
)

// userID resolves ref (an _id or a username) given as field to the user's
// _id. "" stays "".
func (s *Server) userID(ctx context.Context, field, ref string, src refSource) (string, error) {
	if ref == "" || s.Names == nil {
		return ref, nil
	}
	found, err := s.Names.ResolveUsers(ctx, []string{ref})
	if err != nil {
		return "", err
	}
	if r, ok := found[ref]; ok {
		return r.ID, nil
	}
	if idShape.MatchString(ref) {
		return ref, nil
	}
	return "", unknownRef(field, ref, "user", "_id or username", src)
}

// templateID resolves ref (an _id or a name) given as field to the
// template's _id. A name several active templates share is refused: the
// caller gives the _id.
func (s *Server) templateID(ctx context.Context, field, ref string, src refSource) (string, error) {
	if ref == "" || s.Names == nil {
		return ref, nil
	}
	found, err := s.Names.ResolveTemplates(ctx, []string{ref})
	if err != nil {
		return "", err
	}
	rs := found[ref]
	switch {
	case len(rs) == 0:
		return ref, nil // the service says which template it does not know
	case len(rs) > 1 && rs[1].IsActive:
		ids := make([]string, 0, len(rs))
		for _, r := range rs {
			if r.IsActive {
				ids = append(ids, r.ID)
			}
		}
		msg := fmt.Sprintf("%q names %d active templates (%s): give the _id", ref, len(ids), strings.Join(ids, ", "))
		return "", purser.Invalid(purser.FieldError{Field: field, Rule: "unique", Message: msg})
	}
	return rs[0].ID, nil
}

func unknownRef(field, ref, what, by string, src refSource) error {
	msg := fmt.Sprintf("no %s has the %s %q", what, by, ref)
	if src == inPath {
		return purser.Errorf(purser.ENOTFOUND, "%s: %s", field, msg)
	}
	return purser.Invalid(purser.FieldError{Field: field, Rule: "exists", Message: msg})
}

// resolveWhere rewrites the conditions of q on userFields and
// templateFields so that usernames and template names match as their ids
// do. A name that resolves to nothing is left alone: it matches nothing.
func (s *Server) resolveWhere(ctx context.Context, q *purser.Query, userFields, templateFields []string) error {
	if s.Names == nil {
		return nil
	}
	var users, templates []string
	for _, c := range q.Where {
		switch {
		case slices.Contains(userFields, c.Field):
			users = append(users, condStrings(c)...)
		case slices.Contains(templateFields, c.Field):
			templates = append(templates, condStrings(c)...)
		}
	}
	if len(users)+len(templates) == 0 {
		return nil
	}
	ids := map[string][]string{}
	if len(users) > 0 {
		found, err := s.Names.ResolveUsers(ctx, users)
		if err != nil {
			return err
		}
		for ref, r := range found {
			ids["u:"+ref] = []string{r.ID}
		}
	}
	if len(templates) > 0 {
		found, err := s.Names.ResolveTemplates(ctx, templates)
		if err != nil {
			return err
		}
		for ref, rs := range found {
			for _, r := range rs {
				ids["t:"+ref] = append(ids["t:"+ref], r.ID)
			}
		}
	}
	for i, c := range q.Where {
		prefix := "u:"
		if slices.Contains(templateFields, c.Field) {
			prefix = "t:"
		} else if !slices.Contains(userFields, c.Field) {
			continue
		}
		q.Where[i] = rewriteCond(c, func(ref string) []string {
			if v, ok := ids[prefix+ref]; ok {
				return v
			}
			return []string{ref}
		})
	}
	return nil
}

// rewriteCond maps each string value of c through ids; an equality that
// maps to several ids (a template name) becomes $in, and its $ne a
// condition per id.
func rewriteCond(c purser.Cond, ids func(string) []string) purser.Cond {
	switch v := c.Value.(type) {
	case string:
		to := ids(v)
		switch {
		case len(to) == 1:
			c.Value = to[0]
		case c.Op == "$eq":
			c.Op, c.Value = "$in", toAny(to)
		default:
			c.Value = to[0] // $ne of a shared name: the first template
		}
	case []any:
		var out []any
		for _, it := range v {
			if s, ok := it.(string); ok {
				out = append(out, toAny(ids(s))...)
			} else {
				out = append(out, it)
			}
		}
		c.Value = out
	}
	return c
}

func condStrings(c purser.Cond) []string {
	switch v := c.Value.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, it := range v {
			if s, ok := it.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// nameUsers fills in the username of each document's user, in one
// lookup: user returns a document's user id and where its username goes.
func nameUsers[T any](ctx context.Context, s *Server, docs []T, user func(*T) (string, *string)) error {
	ids := make([]string, len(docs))
	for i := range docs {
		ids[i], _ = user(&docs[i])
	}
	names, err := s.usernames(ctx, ids)
	if err != nil {
		return err
	}
	for i := range docs {
		id, name := user(&docs[i])
		*name = names[id]
	}
	return nil
}

// usernames returns the username of each user id (ids that name no user,
// such as "system", are absent). Without a name service it is empty.
func (s *Server) usernames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if s.Names == nil || len(ids) == 0 {
		return out, nil
	}
	found, err := s.Names.ResolveUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	for ref, r := range found {
		if ref == r.ID {
			out[ref] = r.Name
		}
	}
	return out, nil
}

// templateNames returns the name of each template id.
func (s *Server) templateNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if s.Names == nil || len(ids) == 0 {
		return out, nil
	}
	found, err := s.Names.ResolveTemplates(ctx, ids)
	if err != nil {
		return nil, err
	}
	for ref, rs := range found {
		if len(rs) > 0 && rs[0].ID == ref {
			out[ref] = rs[0].Name
		}
	}
	return out, nil
}
