package api

import (
	"context"
	"net/url"
	"strings"

	"github.com/purserhq/purser"
)

// requestEmbeddable are the relations a provision request can embed.
var requestEmbeddable = []string{"requested_by", "reviewed_by", "resource_template"}

// embedRequests fills the _embedded of docs with the relations emb names:
// the requester's and reviewer's user documents, the template. A relation
// the caller may not read (another user, for a developer) or that no
// longer exists is left out rather than failing the whole answer.
func (s *Server) embedRequests(ctx context.Context, emb map[string]bool, docs []requestDoc) error {
	if len(emb) == 0 {
		return nil
	}
	users := map[string]*userDoc{}
	user := func(id string) (*userDoc, error) {
		if d, ok := users[id]; ok || id == "" {
			return d, nil
		}
		u, err := s.Users.FindUserByID(ctx, id)
		if skippable(err) {
			users[id] = nil
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		d := newUserDoc(u)
		users[id] = &d
		return &d, nil
	}
	templates := map[string]*templateDoc{}
	template := func(id string) (*templateDoc, error) {
		if d, ok := templates[id]; ok {
			return d, nil
		}
		t, err := s.Templates.FindTemplateByID(ctx, id)
		if skippable(err) {
			templates[id] = nil
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		d := newTemplateDoc(t)
		templates[id] = &d
		return &d, nil
	}
	for i := range docs {
		e := map[string]any{}
		for rel, id := range map[string]string{"requested_by": docs[i].RequestedBy, "reviewed_by": docs[i].ReviewedBy} {
			if !emb[rel] {
				continue
			}
			d, err := user(id)
			if err != nil {
				return err
			}
			if d != nil {
				e[rel] = d
			}
		}
		if emb["resource_template"] {
			d, err := template(docs[i].ResourceTemplate)
			if err != nil {
				return err
			}
			if d != nil {
				e["resource_template"] = d
			}
		}
		if len(e) > 0 {
			docs[i].Embedded = e
		}
	}
	return nil
}

// skippable reports whether a relation can be left out of _embedded: the
// caller may not read it, or it is gone.
func skippable(err error) bool {
	c := purser.ErrorCode(err)
	return c == purser.EFORBIDDEN || c == purser.ENOTFOUND
}

// keepEmbedded adds the embedded parameter to a collection's page links,
// which were built without it.
func keepEmbedded(links map[string]link, embedded string) {
	for name, l := range links {
		if !strings.Contains(l.Href, "?") {
			continue
		}
		u, err := url.Parse(l.Href)
		if err != nil {
			continue
		}
		q := u.Query()
		q.Set("embedded", embedded)
		u.RawQuery = q.Encode()
		l.Href = u.String()
		links[name] = l
	}
}
