package ui

import (
	"net/http"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

// revisionData is a revision's page's: what it changed from the one
// before, as a diff and service by service, and its rollback button.
type revisionData struct {
	Cluster string
	Rev     revisionRow
	Current int
	Prev    int
	Diff    []diffLine
	Changes purser.StackDiff
	Write   bool
}

func (d revisionData) content(p page) templ.Component { return revisionPage(p, d) }

// revisionPage serves GET /stacks/{cluster}/revisions/{number}.
func (s *Server) revisionPage(w http.ResponseWriter, r *http.Request) {
	ctx, cluster := r.Context(), r.PathValue("cluster")
	n, err := parseNumber("number", r.PathValue("number"))
	if err != nil {
		s.fail(w, r, purser.Errorf(purser.ENOTFOUND, "no revision %s of %s", r.PathValue("number"), cluster))
		return
	}
	rev, err := s.Stacks.StackRevision(ctx, cluster, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur, err := s.Stacks.CurrentRevision(ctx, cluster)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := revisionData{Cluster: cluster, Rev: s.newRevisionRow(rev, cur.Number), Current: cur.Number,
		Write: purser.ActorFromContext(ctx).Can(purser.ActionStackWrite)}
	prev := &purser.StackRevision{Cluster: cluster, Stackfile: &purser.Stackfile{}, Normalized: &purser.Stackfile{}}
	if n > 1 {
		p, err := s.Stacks.StackRevision(ctx, cluster, n-1)
		switch purser.ErrorCode(err) {
		case "":
			prev, d.Prev = p, n-1
		case purser.ENOTFOUND: // pruned: the diff is from nothing
		default:
			s.fail(w, r, err)
			return
		}
	}
	text, err := stackfile.UnifiedDiff(prev, rev, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Diff, d.Changes = diffLines(text), purser.DiffStacks(prev.Normalized, rev.Normalized)
	s.render(w, r, http.StatusOK, "stacks", "Revision "+r.PathValue("number")+" of "+cluster, d)
}
