package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// tagChoice is one tag the picker offers.
type tagChoice struct {
	Name, Digest string
	Pushed       relTime
	Current      bool
}

// serviceData is a service's page's: desired beside actual, the tag
// picker and the scale form.
type serviceData struct {
	Cluster  string
	Service  serviceRow
	Revision int
	Tags     []tagChoice
	// TagsError says why no tags are listed; TagsWarning why they may be
	// old.
	TagsError, TagsWarning string
	// Errors are the server's refusals by form field (image_tag,
	// desired_count, or "" for the form).
	Errors map[string]string
	// Tag and Count are what the forms hold.
	Tag, Count string
	Write      bool
	// Listed is set once the registry was asked: the page asks for the
	// tags after it loads (GET .../tags), or with ?tags=1 without script,
	// so that a slow registry never holds the page.
	Listed bool
}

func (d serviceData) content(p page) templ.Component { return servicePage(p, d) }

// servicePage serves GET /stacks/{cluster}/services/{service}: the
// registry's tags too with ?tags=1.
func (s *Server) servicePage(w http.ResponseWriter, r *http.Request) {
	d, err := s.serviceData(r, r.URL.Query().Get("tags") == "1")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "stacks", d.Service.Name+" on "+d.Cluster, d)
}

// serviceTags serves GET /stacks/{cluster}/services/{service}/tags: the
// tag picker's list alone, which htmx swaps into the page.
func (s *Server) serviceTags(w http.ResponseWriter, r *http.Request) {
	d, err := s.serviceData(r, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.write(w, r, http.StatusOK, tagList(d))
}

// serviceData reads the service's state and, withTags, its image's
// newest tags from the registry.
func (s *Server) serviceData(r *http.Request, withTags bool) (serviceData, error) {
	ctx, cluster, name := r.Context(), r.PathValue("cluster"), r.PathValue("service")
	cur, actual, err := s.Stacks.StackState(ctx, cluster)
	if err != nil {
		return serviceData{}, err
	}
	d := serviceData{Cluster: cluster, Revision: cur.Number, Errors: map[string]string{},
		Write: purser.ActorFromContext(ctx).Can(purser.ActionStackWrite)}
	found := false
	for _, row := range newServiceRows(purser.ServiceStatuses(cur, actual)) {
		if row.Name == name {
			d.Service, found = row, true
		}
	}
	if !found || !d.Service.Desired {
		return d, purser.Errorf(purser.ENOTFOUND, "revision %d of %s has no service %s", cur.Number, cluster, name)
	}
	d.Tag, d.Count = d.Service.DesiredTag, strconv.Itoa(d.Service.DesiredCount)
	if !withTags {
		return d, nil
	}
	d.Listed = true
	if s.Tags == nil {
		d.TagsError = "This server lists no image tags; type the tag."
		return d, nil
	}
	sv := cur.Normalized.Service(name)
	l, err := s.Tags.ImageTags(ctx, purser.TagQuery{Cluster: cluster, Image: sv.Image, Limit: 20})
	var re *purser.RegistryError
	switch {
	case errors.As(err, &re):
		d.TagsError = "The registry did not answer: " + re.Error()
		return d, nil
	case err != nil && purser.ErrorCode(err) != purser.EINTERNAL:
		d.TagsError = purser.ErrorMessage(err)
		return d, nil
	case err != nil:
		return d, err
	}
	d.TagsWarning = l.Warning
	for _, t := range l.Tags {
		d.Tags = append(d.Tags, tagChoice{Name: t.Name, Digest: shortDigest(t.Digest), Pushed: newRelTime(t.Pushed, s.now()),
			Current: t.Name == d.Service.DesiredTag})
	}
	return d, nil
}

// shortDigest is a digest's first 12 hex digits, as docker shows them.
func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if ok && len(hex) > 12 {
		return hex[:12]
	}
	return d
}

// updateService serves POST /stacks/{cluster}/services/{service}: a new
// image tag (picked, or typed) or a new count, as the stack's next
// revision, made against the revision the page showed. A refusal shows
// on the page, next to its field.
func (s *Server) updateService(w http.ResponseWriter, r *http.Request) {
	ctx, cluster, name := r.Context(), r.PathValue("cluster"), r.PathValue("service")
	var u purser.ServiceUpdate
	var what string
	var parseErr error
	switch r.PostFormValue("change") {
	case "tag":
		tag := strings.TrimSpace(r.PostFormValue("other_tag"))
		if tag == "" {
			tag = r.PostFormValue("image_tag")
		}
		u.ImageTag, what = &tag, "image tag to "+tag
	case "scale":
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("desired_count")))
		if err != nil {
			parseErr = purser.Invalid(purser.FieldError{Field: "desired_count", Rule: "type", Message: "must be a whole number, 0 or more"})
		}
		u.DesiredCount, what = &n, "count to "+strconv.Itoa(n)
	default:
		s.fail(w, r, purser.Invalid(purser.FieldError{Field: "change", Rule: "enum", Message: "must be tag or scale"}))
		return
	}
	err := parseErr
	if err == nil {
		err = stale(s.proposeEdit(r, cluster, "set "+name+" "+what, func(sf *purser.Stackfile) (*purser.Stackfile, error) {
			return sf.UpdateService(name, u)
		}))
	}
	if err == nil {
		if u.ImageTag != nil && s.Tags != nil {
			if cur, err := s.Stacks.CurrentRevision(ctx, cluster); err == nil && cur.Normalized.Service(name) != nil {
				repo, _ := purser.SplitImage(cur.Normalized.Service(name).Image)
				s.Tags.InvalidateTags(ctx, repo)
			}
		}
		redirect(w, r, stackURL(cluster))
		return
	}
	code := purser.ErrorCode(err)
	if code != purser.EINVALID && code != purser.ECONFLICT {
		s.fail(w, r, err)
		return
	}
	d, derr := s.serviceData(r, u.ImageTag != nil)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	if u.ImageTag != nil {
		d.Tag = *u.ImageTag
	} else {
		d.Count = r.PostFormValue("desired_count")
	}
	var pe *purser.Error
	if errors.As(err, &pe) && len(pe.Fields) > 0 {
		for _, f := range pe.Fields {
			d.Errors[f.Field] += f.Message
		}
	} else {
		d.Errors[""] = purser.ErrorMessage(err)
	}
	s.render(w, r, statusOf(err), "stacks", d.Service.Name+" on "+d.Cluster, d)
}

// proposeEdit proposes edit(the current stackfile) as the next revision,
// against the revision the form was made from (its if_match field).
func (s *Server) proposeEdit(r *http.Request, cluster, msg string, edit func(*purser.Stackfile) (*purser.Stackfile, error)) error {
	ctx := r.Context()
	n, err := strconv.Atoi(r.PostFormValue("if_match"))
	if err != nil {
		return purser.Invalid(purser.FieldError{Field: "if_match", Rule: "type", Message: "the form lacks the revision it was made from; reload the page"})
	}
	cur, err := s.Stacks.CurrentRevision(ctx, cluster)
	if err != nil {
		return err
	}
	if err := purser.CheckIfMatch(cluster, &n, cur); err != nil {
		return err
	}
	sf, err := edit(cur.Stackfile)
	if err != nil {
		return err
	}
	source, err := yamlOf(sf)
	if err != nil {
		return err
	}
	_, err = s.Stacks.ProposeRevision(ctx, cluster, purser.StackProposal{Message: msg, Source: source, Stackfile: sf, IfMatch: &n})
	return err
}
