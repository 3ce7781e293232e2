package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

// stackRevisionDoc is one numbered revision of a cluster's stack.
type stackRevisionDoc struct {
	Meta
	Cluster    string        `json:"cluster"`
	Number     int           `json:"number" doc:"1, 2, ...; the highest is the current revision."`
	Status     string        `json:"status" enum:"pending,applying,applied,failed,superseded,rolled_back,blocked"`
	Author     string        `json:"author"`
	Message    string        `json:"message,omitempty"`
	RollbackOf int           `json:"rollback_of,omitempty" doc:"The revision this one restores."`
	BlockedBy  int           `json:"blocked_by,omitempty" doc:"The revision whose rollback blocked this one: it is never applied until unblocked."`
	Reason     string        `json:"reason,omitempty" doc:"Why the revision failed: which service, and what the target said."`
	DryRun     bool          `json:"dry_run,omitempty" doc:"This revision was not made: the answer to dry_run=true, with the plan it would carry out."`
	Plan       *stackPlanDoc `json:"plan,omitempty" doc:"With dry_run=true: what a reconcile of this revision would do against what the cluster runs now."`
	// Stackfile is the stackfile as given, parsed (the schema is
	// /api/v1/schemas/stackfile.json).
	Stackfile map[string]any `json:"stackfile,omitempty" doc:"The stackfile as given; its schema is /api/v1/schemas/stackfile.json."`
	// Export is shown by GET of one revision (stack_export.go).
	Export *stackExportDoc `json:"export,omitempty" doc:"Where the revision's export stands, once it is applied (GET of one revision only)."`
}

// stackRollbackBody asks for a revision equal to an earlier one.
type stackRollbackBody struct {
	Revision int `json:"revision" minimum:"1" doc:"The revision to restore."`
}

// stackPlanDoc is what a reconcile would do to a cluster's services.
type stackPlanDoc struct {
	Cluster  string               `json:"cluster"`
	Revision int                  `json:"revision,omitempty" doc:"The revision planned; absent when the request gave a stackfile."`
	NoOp     bool                 `json:"no_op" doc:"Whether the plan changes nothing."`
	Services []purser.ServicePlan `json:"services" doc:"The desired services in dependency order, then the deletions."`
	Notes    []planNote           `json:"notes,omitempty" doc:"Fields of the stackfile the cluster's kind of target does not carry out, and why (on Kubernetes, AWS's)."`
}

// planNote is a field a target ignores.
type planNote struct {
	Service string `json:"service,omitempty" doc:"The service; absent for a stack-wide field."`
	Field   string `json:"field"`
	Reason  string `json:"reason"`
}

// stackDiffDoc is what changed between two revisions.
type stackDiffDoc struct {
	Cluster  string               `json:"cluster"`
	From     int                  `json:"from"`
	To       int                  `json:"to"`
	Sections []purser.FieldChange `json:"sections" doc:"The top-level sections that changed (normalised)."`
	Services []purser.ServicePlan `json:"services" doc:"The services added, changed or removed (normalised)."`
	Unified  string               `json:"unified" doc:"The stackfiles as given, as YAML, in unified diff form."`
}

type stackRevisionOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     stackRevisionDoc
}

// rawOutput is a document the handler encodes itself.
type rawOutput struct {
	ContentType string `header:"Content-Type"`
	ETag        string `header:"ETag"`
	Vary        string `header:"Vary"`
	Body        []byte
}

const yamlType = "application/yaml"

func (s *Server) registerStacks() {
	schema := op(http.MethodGet, "/schemas/stackfile.json", "get-stackfile-schema", "stacks", "The stackfile's JSON Schema (2020-12)")
	schema.Security = nil
	schema.Responses = map[string]*huma.Response{"200": {Description: "The schema.", Content: map[string]*huma.MediaType{"application/schema+json": {}}}}
	huma.Register(s.api, schema, s.stackfileSchema)

	get := op(http.MethodGet, "/clusters/{cluster}/config", "get-stack-config", "stacks", "Get the current revision's stackfile", http.StatusNotFound)
	get.Description = "The stackfile as given, as JSON with a `_revision` object, or as YAML with `Accept: application/yaml`. " +
		"The ETag is the revision's number: send it as If-Match to PUT safely. 404 while the cluster has no stack."
	get.Responses = map[string]*huma.Response{"200": {Description: "The stackfile.", Content: map[string]*huma.MediaType{
		"application/json": {Schema: &huma.Schema{Type: "object", Description: "A stackfile (/api/v1/schemas/stackfile.json) and _revision."}},
		yamlType:           {Schema: &huma.Schema{Type: "string"}}}}}
	huma.Register(s.api, cacheable(get), s.getStackConfig)

	put := op(http.MethodPut, "/clusters/{cluster}/config", "put-stack-config", "stacks", "Propose a stackfile as the cluster's next revision (devops, admins)",
		http.StatusNotFound, http.StatusPreconditionFailed)
	put.Description = "The body is a stackfile, JSON or (with `Content-Type: application/yaml`) YAML, checked against /api/v1/schemas/stackfile.json " +
		"and the stack's rules: 422 names each faulty path (services[1].user-service.ports[0]). The answer is 202 with the new revision, pending, " +
		"and its Location to follow: the reconciler applies it (applying, then applied or failed; a failed one is rolled back to the last " +
		"applied revision). With `deploy=false` it stays pending until POST deploy. A `_revision` object (as GET answers) is ignored."
	put.DefaultStatus = http.StatusAccepted
	put.RequestBody = stackfileBody()
	huma.Register(s.api, put, s.putStackConfig)
	s.documentDryRun(put)
	documentStackfileBody(put.RequestBody, true)

	huma.Register(s.api, op(http.MethodGet, "/clusters/{cluster}/revisions", "list-stack-revisions", "stacks", "List a cluster's revisions, newest first",
		http.StatusNotFound, http.StatusBadRequest), s.listStackRevisions)
	huma.Register(s.api, cacheable(op(http.MethodGet, "/clusters/{cluster}/revisions/{number}", "get-stack-revision", "stacks", "Get a revision",
		http.StatusNotFound)), s.getStackRevision)
	huma.Register(s.api, op(http.MethodGet, "/clusters/{cluster}/diff", "diff-stack-revisions", "stacks", "Compare two revisions",
		http.StatusNotFound), s.diffStack)

	plan := op(http.MethodPost, "/clusters/{cluster}/plan", "plan-stack", "stacks", "What a reconcile would do to the cluster's services",
		http.StatusNotFound)
	plan.Description = "With a stackfile body (JSON, or YAML with `Content-Type: application/yaml`), plans it; with none, plans the current revision. " +
		"Nothing is stored or applied."
	plan.RequestBody = stackfileBody()
	huma.Register(s.api, plan, s.planStack)
	documentStackfileBody(plan.RequestBody, false)

	rb := op(http.MethodPost, "/clusters/{cluster}/rollback", "rollback-stack", "stacks", "Propose a revision equal to an earlier one (devops, admins)",
		http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed)
	rb.Description = "The new revision is pending, and the reconciler applies it; the revision it replaces is blocked until unblocked."
	rb.DefaultStatus = http.StatusAccepted
	huma.Register(s.api, rb, s.rollbackStack)
	s.documentDryRun(rb)
	deploy := op(http.MethodPost, "/clusters/{cluster}/deploy", "deploy-stack", "stacks", "Apply the current revision again (devops, admins)",
		http.StatusNotFound, http.StatusConflict)
	deploy.Description = "Starts a revision held with deploy=false, re-applies an applied one (which corrects drift) or tries a failed one again. " +
		"409 for a blocked or rolled-back current revision. The answer is 202 with the revision."
	deploy.DefaultStatus = http.StatusAccepted
	huma.Register(s.api, deploy, s.deployStack)
	ub := op(http.MethodPost, "/clusters/{cluster}/revisions/{number}/unblock", "unblock-stack-revision", "stacks",
		"Let a blocked revision be rolled back to again (devops, admins)", http.StatusNotFound, http.StatusConflict)
	ub.Description = "A rollback blocks the revision it replaces, so that nothing re-applies it by itself; unblocking lets a later rollback restore it. " +
		"409 when the revision is not blocked."
	huma.Register(s.api, ub, s.unblockRevision)
	s.registerStackServices()
	s.registerStackSecrets()
	s.registerStackDrift()
}

// deployStack serves POST /api/v1/clusters/{cluster}/deploy.
func (s *Server) deployStack(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
}) (*stackRevisionOutput, error) {
	r, err := s.Stacks.DeployStack(ctx, in.Cluster)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return revisionOut(r), nil
}

// stackfileBody is the request body of the routes taking a stackfile,
// JSON or YAML, which the handler reads raw: huma, given a schema, would
// decode JSON itself and refuse YAML (documentStackfileBody adds the
// schemas once the route is registered).
func stackfileBody() *huma.RequestBody {
	return &huma.RequestBody{Content: map[string]*huma.MediaType{"application/json": {}, yamlType: {}}}
}

// documentStackfileBody describes a registered route's stackfile body.
// huma marks a raw body required; the plan's is optional.
func documentStackfileBody(rb *huma.RequestBody, required bool) {
	delete(rb.Content, "application/octet-stream")
	rb.Required = required
	rb.Description = "A stackfile, as JSON or YAML; its schema is /api/v1/schemas/stackfile.json."
	rb.Content["application/json"].Schema = &huma.Schema{Type: "object", Description: "A stackfile (/api/v1/schemas/stackfile.json)."}
	rb.Content[yamlType].Schema = &huma.Schema{Type: "string", Description: "A stackfile in YAML."}
}

// stackfileSchema serves GET /api/v1/schemas/stackfile.json.
func (s *Server) stackfileSchema(ctx context.Context, _ *struct{}) (*rawOutput, error) {
	return &rawOutput{ContentType: "application/schema+json", Body: stackfile.Schema()}, nil
}

// getStackConfig serves GET /api/v1/clusters/{cluster}/config.
func (s *Server) getStackConfig(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	Accept  string `header:"Accept" doc:"application/yaml for YAML; JSON otherwise."`
}) (*rawOutput, error) {
	cur, err := s.currentRevision(ctx, in.Cluster)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &rawOutput{ETag: etagOf(strconv.Itoa(cur.Number)), Vary: "Accept"}
	if wantsYAML(in.Accept) {
		b, err := stackfile.MarshalYAML(cur.Stackfile)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		out.ContentType, out.Body = yamlType, b
		return out, nil
	}
	sf, err := json.Marshal(cur.Stackfile)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rev, err := json.Marshal(newStackRevisionDoc(cur, false))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	sf = bytes.TrimSuffix(bytes.TrimSpace(sf), []byte("}"))
	if len(bytes.TrimSpace(sf)) > 1 {
		sf = append(sf, ',')
	}
	out.ContentType, out.Body = "application/json", append(append(append(sf, `"_revision":`...), rev...), '}')
	return out, nil
}

// wantsYAML reports whether Accept names YAML before JSON (or without it).
func wantsYAML(accept string) bool {
	y, j := strings.Index(accept, "yaml"), strings.Index(accept, "json")
	return y >= 0 && (j < 0 || y < j)
}

// currentRevision returns the cluster's newest revision, or ENOTFOUND.
func (s *Server) currentRevision(ctx context.Context, cluster string) (*purser.StackRevision, error) {
	return s.Stacks.CurrentRevision(ctx, cluster)
}

// putStackConfig serves PUT /api/v1/clusters/{cluster}/config.
func (s *Server) putStackConfig(ctx context.Context, in *struct {
	Cluster     string `path:"cluster"`
	IfMatch     string `header:"If-Match" doc:"The ETag (revision number) you read; 412 if another revision landed since. \"0\": only if the cluster has no stack yet."`
	Message     string `query:"message" maxLength:"1000" doc:"Why, kept with the revision."`
	Deploy      string `query:"deploy" enum:"true,false" doc:"false keeps the revision pending, not deployed, until POST deploy (default true)."`
	DryRun      bool   `query:"dry_run" doc:"Check the stackfile and answer 200 with the revision it would make and its plan; nothing is stored."`
	ContentType string `header:"Content-Type"`
	RawBody     []byte
}) (*stackRevisionOutput, error) {
	// The store authorizes; asking first tells someone who may not
	// propose so before listing the body's faults.
	if err := purser.Authorize(ctx, purser.ActionStackWrite, ""); err != nil {
		return nil, s.problem(ctx, err)
	}
	ifMatch, err := parseIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	source, sf, err := readStackfile(in.RawBody, in.ContentType)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if in.DryRun {
		cur, err := s.currentRevision(ctx, in.Cluster)
		if purser.ErrorCode(err) == purser.ENOTFOUND {
			cur, err = nil, s.clusterHasNoStack(ctx, in.Cluster)
		}
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		if err := purser.CheckIfMatch(in.Cluster, ifMatch, cur); err != nil {
			return nil, s.problem(ctx, err)
		}
		return s.dryRun(ctx, in.Cluster, cur, in.Message, source, sf)
	}
	rev, err := s.Stacks.ProposeRevision(ctx, in.Cluster, purser.StackProposal{Message: in.Message, Source: source, Stackfile: sf, IfMatch: ifMatch,
		Hold: in.Deploy == "false"})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return revisionOut(rev), nil
}

// readStackfile parses a request's stackfile: YAML when the content type
// says so, JSON otherwise. A JSON body's top-level _revision (as GET
// config answers) is dropped.
func readStackfile(body []byte, contentType string) (string, *purser.Stackfile, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil, purser.Invalid(purser.FieldError{Field: "stackfile", Rule: "required", Message: "is required: send a stackfile as JSON, or YAML with Content-Type: application/yaml"})
	}
	isYAML := strings.Contains(contentType, "yaml")
	if !isYAML {
		if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			return "", nil, purser.Invalid(purser.FieldError{Field: "stackfile", Rule: "type", Message: "must be a JSON object (send YAML with Content-Type: application/yaml)"})
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) == nil {
			if _, ok := top["_revision"]; ok {
				delete(top, "_revision")
				body, _ = json.Marshal(top)
			}
		}
	}
	sf, err := stackfile.Parse(body)
	if err != nil {
		return "", nil, err
	}
	return string(body), sf, nil
}

// parseIfMatch reads an If-Match naming a revision number ("3", quoted or
// not); empty or * checks nothing.
func parseIfMatch(h string) (*int, error) {
	h = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "W/"))
	if h == "" || h == "*" {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.Trim(h, `"`))
	if err != nil || n < 0 {
		return nil, huma.Error400BadRequest(fmt.Sprintf("If-Match must be a revision number, as the ETag of GET config (\"3\"), not %s", h))
	}
	return &n, nil
}

// listStackRevisions serves GET /api/v1/clusters/{cluster}/revisions.
func (s *Server) listStackRevisions(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	ListParams
}) (*struct{ Body collection[stackRevisionDoc] }, error) {
	return listOf(ctx, s, &in.ListParams, "clusters/"+url.PathEscape(in.Cluster)+"/revisions", purser.StackRevisionFields,
		func(ctx context.Context, q purser.Query) ([]*purser.StackRevision, purser.PageInfo, error) {
			return s.Stacks.StackRevisions(ctx, in.Cluster, q)
		}, func(r *purser.StackRevision) stackRevisionDoc { return newStackRevisionDoc(r, true) })
}

// getStackRevision serves GET /api/v1/clusters/{cluster}/revisions/{number}.
func (s *Server) getStackRevision(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	Number  int    `path:"number" minimum:"1"`
}) (*stackRevisionOutput, error) {
	r, err := s.Stacks.StackRevision(ctx, in.Cluster, in.Number)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := revisionOut(r)
	out.Status, out.Location = http.StatusOK, ""
	if out.Body.Export, err = s.stackExport(ctx, in.Cluster, in.Number); err != nil {
		return nil, s.problem(ctx, err)
	}
	return out, nil
}

// diffStack serves GET /api/v1/clusters/{cluster}/diff.
func (s *Server) diffStack(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	From    int    `query:"from" minimum:"0" doc:"A revision; by default the one before to."`
	To      int    `query:"to" minimum:"0" doc:"A revision; by default the current one."`
}) (*struct{ Body stackDiffDoc }, error) {
	to := in.To
	if to == 0 {
		cur, err := s.currentRevision(ctx, in.Cluster)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		to = cur.Number
	}
	from := in.From
	if from == 0 {
		from = to - 1
	}
	if from < 1 {
		return nil, s.problem(ctx, purser.Invalid(purser.FieldError{Field: "from", Rule: "minimum", Message: fmt.Sprintf("revision %d has no revision before it: name one with from", to)}))
	}
	a, err := s.Stacks.StackRevision(ctx, in.Cluster, from)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b, err := s.Stacks.StackRevision(ctx, in.Cluster, to)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := purser.DiffStacks(a.Normalized, b.Normalized)
	text, err := stackfile.UnifiedDiff(a, b, false)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	doc := stackDiffDoc{Cluster: in.Cluster, From: from, To: to, Sections: d.Sections, Services: d.Services, Unified: text}
	if doc.Sections == nil {
		doc.Sections = []purser.FieldChange{}
	}
	if doc.Services == nil {
		doc.Services = []purser.ServicePlan{}
	}
	return &struct{ Body stackDiffDoc }{doc}, nil
}

// planStack serves POST /api/v1/clusters/{cluster}/plan.
func (s *Server) planStack(ctx context.Context, in *struct {
	Cluster     string `path:"cluster"`
	ContentType string `header:"Content-Type"`
	RawBody     []byte
}) (*struct{ Body stackPlanDoc }, error) {
	// Reading what runs first: 401, 403 and 404 come before the body's faults.
	actual, err := s.Stacks.ActualServices(ctx, in.Cluster)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	doc := stackPlanDoc{Cluster: in.Cluster}
	var desired *purser.Stackfile
	if len(bytes.TrimSpace(in.RawBody)) == 0 {
		cur, err := s.currentRevision(ctx, in.Cluster)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		desired, doc.Revision = cur.Normalized, cur.Number
	} else {
		_, sf, err := readStackfile(in.RawBody, in.ContentType)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		desired = sf.Normalize()
	}
	p := purser.PlanStack(desired, actual)
	doc.Services, doc.NoOp = p.Services, p.NoOp()
	doc.Notes = s.planNotes(ctx, in.Cluster, desired)
	return &struct{ Body stackPlanDoc }{doc}, nil
}

// planNotes lists the fields of desired the cluster's target ignores.
func (s *Server) planNotes(ctx context.Context, cluster string, desired *purser.Stackfile) []planNote {
	c, err := s.Clusters.FindClusterByName(ctx, cluster)
	if err != nil {
		return nil
	}
	noter := s.FieldNotes[c.Kind]
	if noter == nil {
		return nil
	}
	var out []planNote
	seen := map[string]bool{}
	for i := range desired.Services {
		sv := &desired.Services[i]
		for _, f := range noter.IgnoredFields(desired, sv) {
			n := planNote{Service: sv.Name, Field: f.Field, Reason: f.Reason}
			if f.Field == "vpc" || strings.HasPrefix(f.Field, "service_discovery.") {
				n.Service = "" // a stack-wide section: noted once
			}
			if k := n.Service + "\x00" + n.Field; !seen[k] {
				seen[k] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// rollbackStack serves POST /api/v1/clusters/{cluster}/rollback.
func (s *Server) rollbackStack(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	IfMatch string `header:"If-Match" doc:"The current revision's number; 412 if another revision landed since."`
	DryRun  bool   `query:"dry_run" doc:"Answer 200 with the revision the rollback would make and its plan; nothing is stored or blocked."`
	Body    stackRollbackBody
}) (*stackRevisionOutput, error) {
	ifMatch, err := parseIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		return s.editStack(ctx, stackEdit{cluster: in.Cluster, ifMatch: in.IfMatch, msg: fmt.Sprintf("rollback to revision %d", in.Body.Revision), dryRun: true},
			func(*purser.Stackfile) (*purser.Stackfile, error) {
				r, err := s.Stacks.StackRevision(ctx, in.Cluster, in.Body.Revision)
				if err != nil {
					return nil, err
				}
				if err := r.CheckApplicable(); err != nil {
					return nil, err
				}
				return r.Stackfile, nil
			})
	}
	r, err := s.Stacks.RollbackStack(ctx, in.Cluster, in.Body.Revision, ifMatch)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return revisionOut(r), nil
}

// unblockRevision serves POST /api/v1/clusters/{cluster}/revisions/{number}/unblock.
func (s *Server) unblockRevision(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	Number  int    `path:"number" minimum:"1"`
}) (*stackRevisionOutput, error) {
	r, err := s.Stacks.UnblockRevision(ctx, in.Cluster, in.Number)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := revisionOut(r)
	out.Status, out.Location = http.StatusOK, ""
	return out, nil
}

func revisionPath(cluster string, n int) string {
	return BasePath + "/clusters/" + url.PathEscape(cluster) + "/revisions/" + strconv.Itoa(n)
}

// newStackRevisionDoc is r as a document; withStackfile includes the
// stackfile.
func newStackRevisionDoc(r *purser.StackRevision, withStackfile bool) stackRevisionDoc {
	n := strconv.Itoa(r.Number)
	d := stackRevisionDoc{
		Meta: Meta{ID: n, Created: r.Created, Updated: r.Created, ETag: n, Links: map[string]link{
			"self":       {Href: revisionPath(r.Cluster, r.Number), Title: "revision " + n},
			"collection": {Href: BasePath + "/clusters/" + url.PathEscape(r.Cluster) + "/revisions", Title: "revisions"},
			"config":     {Href: BasePath + "/clusters/" + url.PathEscape(r.Cluster) + "/config", Title: "current stackfile"},
			"cluster":    {Href: BasePath + "/clusters/" + url.PathEscape(r.Cluster), Title: r.Cluster},
		}},
		Cluster: r.Cluster, Number: r.Number, Status: string(r.Status), Author: r.Author, Message: r.Message,
		RollbackOf: r.RollbackOf, BlockedBy: r.BlockedBy, Reason: r.Reason,
	}
	if withStackfile && r.Stackfile != nil {
		if b, err := json.Marshal(r.Stackfile); err == nil {
			_ = json.Unmarshal(b, &d.Stackfile)
		}
	}
	return d
}

// dryRun answers a write with dry_run=true: the revision it would make
// after cur (nil: the first), with its plan against what the cluster runs
// now; nothing is stored. The stackfile is checked as a proposal would be.
func (s *Server) dryRun(ctx context.Context, cluster string, cur *purser.StackRevision, msg, source string, sf *purser.Stackfile) (*stackRevisionOutput, error) {
	if err := sf.Validate(); err != nil {
		return nil, s.problem(ctx, err)
	}
	actual, err := s.Stacks.ActualServices(ctx, cluster)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r := &purser.StackRevision{Cluster: cluster, Number: 1, Author: actorName(ctx), Message: msg, Created: time.Now().UTC(),
		Source: source, Stackfile: sf, Normalized: sf.Normalize(), Status: purser.RevisionPending}
	if cur != nil {
		r.Number = cur.Number + 1
	}
	p := purser.PlanStack(r.Normalized, actual)
	d := newStackRevisionDoc(r, true)
	d.DryRun, d.Plan = true, &stackPlanDoc{Cluster: cluster, Revision: r.Number, NoOp: p.NoOp(), Services: p.Services}
	delete(d.Links, "self")
	return &stackRevisionOutput{Status: http.StatusOK, Body: d}, nil
}

// documentDryRun adds to a registered write its answer to dry_run=true:
// 200, the same document as its 202.
func (s *Server) documentDryRun(o huma.Operation) {
	item := s.api.OpenAPI().Paths[o.Path]
	reg := map[string]*huma.Operation{http.MethodPut: item.Put, http.MethodPost: item.Post, http.MethodDelete: item.Delete}[o.Method]
	accepted := reg.Responses[strconv.Itoa(http.StatusAccepted)]
	reg.Responses[strconv.Itoa(http.StatusOK)] = &huma.Response{Content: accepted.Content,
		Description: "With dry_run=true: the revision the request would make, with its plan (`dry_run`, `plan`); nothing is stored."}
}

// clusterHasNoStack returns nil when the cluster exists (it has no stack
// yet), or its not-found error.
func (s *Server) clusterHasNoStack(ctx context.Context, cluster string) error {
	_, err := s.Stacks.ActualServices(ctx, cluster)
	return err
}

// actorName names the caller as a revision's author would.
func actorName(ctx context.Context) string {
	if a := purser.ActorFromContext(ctx); a != nil && a.User != nil {
		return a.User.Username
	}
	return "purser"
}

// revisionOut answers a write that made or started revision r: 202, with
// where to follow it.
func revisionOut(r *purser.StackRevision) *stackRevisionOutput {
	d := newStackRevisionDoc(r, true)
	return &stackRevisionOutput{Status: http.StatusAccepted, ETag: etagOf(d.ETag), Location: d.Links["self"].Href, Body: d}
}

// stackDriftDoc is what the last drift scan of a cluster's stack found.
type stackDriftDoc struct {
	Cluster     string               `json:"cluster"`
	Revision    int                  `json:"revision" doc:"The applied revision the target was compared with."`
	Drifted     bool                 `json:"drifted"`
	Mode        string               `json:"mode" enum:"ignore,warn,correct" doc:"The cluster's drift mode."`
	Since       *time.Time           `json:"since,omitempty" doc:"When this drift was first seen."`
	CheckedAt   time.Time            `json:"checked_at"`
	Services    []purser.ServicePlan `json:"services" doc:"The services that differ, and the plan that would correct each."`
	Fingerprint string               `json:"fingerprint,omitempty" doc:"Identifies this drift: it is told once until it changes."`
}

func (s *Server) registerStackDrift() {
	huma.Register(s.api, op(http.MethodGet, "/clusters/{cluster}/drift", "get-stack-drift", "stacks",
		"What the last drift scan found", http.StatusNotFound), s.getStackDrift)
	scan := op(http.MethodPost, "/clusters/{cluster}/drift", "scan-stack-drift", "stacks", "Scan the stack for drift now", http.StatusNotFound)
	scan.Description = "Compares what the target runs with the last applied revision, now rather than at the next periodic scan " +
		"(every 180 s ± 60 s). 202: follow GET drift until checked_at moves."
	scan.DefaultStatus = http.StatusAccepted
	huma.Register(s.api, scan, s.scanStackDrift)
}

// getStackDrift serves GET /api/v1/clusters/{cluster}/drift.
func (s *Server) getStackDrift(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
}) (*struct{ Body stackDriftDoc }, error) {
	st, err := s.Stacks.Drift(ctx, in.Cluster)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		if _, cerr := s.Stacks.CurrentRevision(ctx, in.Cluster); cerr != nil {
			return nil, s.problem(ctx, cerr)
		}
		err = purser.Errorf(purser.ENOTFOUND, "the stack of %s was not scanned for drift yet: POST /api/v1/clusters/%s/drift scans it now", in.Cluster, in.Cluster)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	mode := string(purser.DriftWarn)
	if c, err := s.Clusters.FindClusterByName(ctx, in.Cluster); err == nil {
		mode = string(c.Drift())
	}
	d := stackDriftDoc{Cluster: st.Cluster, Revision: st.Revision, Drifted: st.Drifted, Mode: mode, Since: st.Since, CheckedAt: st.CheckedAt,
		Services: st.Services, Fingerprint: st.Fingerprint}
	if d.Services == nil {
		d.Services = []purser.ServicePlan{}
	}
	return &struct{ Body stackDriftDoc }{d}, nil
}

// scanStackDrift serves POST /api/v1/clusters/{cluster}/drift.
func (s *Server) scanStackDrift(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
}) (*struct {
	Location string `header:"Location"`
}, error) {
	if err := s.Stacks.ScanStackNow(ctx, in.Cluster); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct {
		Location string `header:"Location"`
	}{BasePath + "/clusters/" + url.PathEscape(in.Cluster) + "/drift"}, nil
}
