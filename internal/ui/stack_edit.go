package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

// The stackfile editor: a textarea (the page works without script), a
// Plan button that checks the text and shows what would change, as a
// diff and service by service, and, once planned, an Apply button that
// proposes it as the next revision.

// lineError is one fault of the text, with the line it is on (0: none).
type lineError struct {
	Field, Message string
	Line           int
}

// sourceLine is a line of the text shown beside its faults; a zero Number
// marks lines left out.
type sourceLine struct {
	Number int
	Text   string
	Errors []string
}

// diffLine is a line of a unified diff, with its kind (add, del, hunk,
// head or ctx).
type diffLine struct{ Text, Kind string }

// editorData is the editor page's.
type editorData struct {
	Cluster, Text, Message string
	IfMatch                int
	Errors                 []lineError
	Source                 []sourceLine
	FormError              string
	Planned                bool
	PlanHash               string
	Plan                   []purser.ServicePlan
	NoOp                   bool
	Diff                   []diffLine
	// Write: the user may apply (others may check and plan a stackfile).
	Write bool
}

func (d editorData) content(p page) templ.Component { return editorPage(p, d) }

// starter is the text the editor offers a cluster without a stack.
const starter = `defaults:
  memory: 256
services:
  - web:
      image: nginx:1.27
      desired_count: 1
      ports:
        - "80:80"
`

// yamlOf is a stackfile as YAML text.
func yamlOf(sf *purser.Stackfile) (string, error) {
	b, err := stackfile.MarshalYAML(sf)
	return string(b), err
}

// stackEditor serves GET /stacks/{cluster}/edit: the current stackfile as
// given (as YAML when it was given as JSON).
func (s *Server) stackEditor(w http.ResponseWriter, r *http.Request) {
	ctx, cluster := r.Context(), r.PathValue("cluster")
	d := editorData{Cluster: cluster, Text: starter, Write: purser.ActorFromContext(ctx).Can(purser.ActionStackWrite)}
	cur, err := s.Stacks.CurrentRevision(ctx, cluster)
	switch purser.ErrorCode(err) {
	case "":
		d.IfMatch, d.Text = cur.Number, cur.Source
		if strings.HasPrefix(strings.TrimSpace(cur.Source), "{") {
			if d.Text, err = yamlOf(cur.Stackfile); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	case purser.ENOTFOUND:
		if _, err := s.Stacks.ActualServices(ctx, cluster); err != nil { // no such cluster
			s.fail(w, r, err)
			return
		}
	default:
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "stacks", "Edit the stack of "+cluster, d)
}

// planHash ties an Apply to the text planned: text changed since its plan
// is planned again, not applied.
func planHash(cluster, text string) string {
	h := sha256.Sum256([]byte(cluster + "\x00" + text))
	return hex.EncodeToString(h[:12])
}

// stackEdit serves POST /stacks/{cluster}/edit: Plan checks the text and
// shows the plan and the diff; Apply, of text planned unchanged, proposes
// it. Faults show beside their lines, with status 422.
func (s *Server) stackEdit(w http.ResponseWriter, r *http.Request) {
	ctx, cluster := r.Context(), r.PathValue("cluster")
	d := editorData{Cluster: cluster, Text: strings.ReplaceAll(r.PostFormValue("stackfile"), "\r\n", "\n"), Message: r.PostFormValue("message"),
		Write: purser.ActorFromContext(ctx).Can(purser.ActionStackWrite)}
	title := "Edit the stack of " + cluster
	ifMatch, err := strconv.Atoi(r.PostFormValue("if_match"))
	if err != nil || ifMatch < 0 {
		s.fail(w, r, purser.Invalid(purser.FieldError{Field: "if_match", Rule: "type", Message: "the form lacks the revision it was made from; reload the page"}))
		return
	}
	d.IfMatch = ifMatch
	refuse := func(err error) {
		d.Planned = false
		s.editorFaults(&d, err)
		status := statusOf(err)
		if purser.ErrorCode(err) == purser.ETOOLARGE {
			status = http.StatusRequestEntityTooLarge
		}
		s.render(w, r, status, "stacks", title, d)
	}
	sf, err := stackfile.Parse([]byte(d.Text))
	if err != nil {
		refuse(err)
		return
	}
	cur, err := s.Stacks.CurrentRevision(ctx, cluster)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		cur, err = nil, s.clusterExists(r, cluster)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := purser.CheckIfMatch(cluster, &ifMatch, cur); err != nil {
		refuse(stale(err))
		return
	}
	d.PlanHash = planHash(cluster, d.Text)
	if r.PostFormValue("action") == "apply" && r.PostFormValue("planned") == d.PlanHash {
		_, err := s.Stacks.ProposeRevision(ctx, cluster, purser.StackProposal{Message: d.Message, Source: d.Text, Stackfile: sf, IfMatch: &ifMatch})
		if err != nil {
			if c := purser.ErrorCode(err); c != purser.EINVALID && c != purser.EPRECONDITION {
				s.fail(w, r, err)
				return
			}
			refuse(stale(err))
			return
		}
		redirect(w, r, stackURL(cluster))
		return
	}
	if err := s.plan(r, &d, cur, sf); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "stacks", title, d)
}

// clusterExists returns nil when the cluster exists, else its error.
func (s *Server) clusterExists(r *http.Request, cluster string) error {
	_, err := s.Stacks.ActualServices(r.Context(), cluster)
	return err
}

// plan fills the plan of sf against what the cluster runs, and the diff
// from the current revision (nil: none) to sf, both as YAML.
func (s *Server) plan(r *http.Request, d *editorData, cur *purser.StackRevision, sf *purser.Stackfile) error {
	actual, err := s.Stacks.ActualServices(r.Context(), d.Cluster)
	if err != nil {
		return err
	}
	p := purser.PlanStack(sf.Normalize(), actual)
	d.Plan, d.NoOp, d.Planned = p.Services, p.NoOp(), true
	from, fromName := "", "no stack"
	if cur != nil {
		if from, err = yamlOf(cur.Stackfile); err != nil {
			return err
		}
		fromName = fmt.Sprintf("revision %d", cur.Number)
	}
	to, err := yamlOf(sf)
	if err != nil {
		return err
	}
	d.Diff = diffLines(purser.UnifiedDiff(fromName, "your edit", from, to))
	return nil
}

// editorFaults lays err out for the editor: each field's fault with its
// line, and the lines around them.
func (s *Server) editorFaults(d *editorData, err error) {
	var pe *purser.Error
	if !errors.As(err, &pe) || len(pe.Fields) == 0 {
		d.FormError = purser.ErrorMessage(err)
		return
	}
	paths := make([]string, len(pe.Fields))
	for i, f := range pe.Fields {
		paths[i] = f.Field
	}
	lines := stackfile.Lines([]byte(d.Text), paths)
	byLine := map[int][]string{}
	for _, f := range pe.Fields {
		le := lineError{Field: f.Field, Message: f.Message, Line: lines[f.Field]}
		d.Errors = append(d.Errors, le)
		if le.Line > 0 {
			byLine[le.Line] = append(byLine[le.Line], f.Field+": "+f.Message)
		}
	}
	sort.SliceStable(d.Errors, func(i, j int) bool { return d.Errors[i].Line < d.Errors[j].Line })
	d.Source = annotate(strings.Split(d.Text, "\n"), byLine)
}

// annotate returns the lines within two of a faulty one, each with its
// faults, a gap (Number 0) where lines are left out.
func annotate(text []string, byLine map[int][]string) []sourceLine {
	show := map[int]bool{}
	for l := range byLine {
		for i := max(l-2, 1); i <= min(l+2, len(text)); i++ {
			show[i] = true
		}
	}
	var out []sourceLine
	for i := 1; i <= len(text); i++ {
		if !show[i] {
			if len(out) > 0 && out[len(out)-1].Number != 0 {
				out = append(out, sourceLine{})
			}
			continue
		}
		out = append(out, sourceLine{Number: i, Text: text[i-1], Errors: byLine[i]})
	}
	return out
}

// diffLines splits a unified diff into its lines, each with its kind.
func diffLines(text string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		kind := "ctx"
		switch {
		case strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---"):
			kind = "head"
		case strings.HasPrefix(l, "+"):
			kind = "add"
		case strings.HasPrefix(l, "-"):
			kind = "del"
		case strings.HasPrefix(l, "@@"):
			kind = "hunk"
		}
		if l != "" || len(out) > 0 {
			out = append(out, diffLine{Text: l, Kind: kind})
		}
	}
	return out
}
