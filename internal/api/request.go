package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newQuotaFit(checks []purser.QuotaCheck) *quotaFitDoc {
	out := &quotaFitDoc{Fits: true}
	for _, c := range checks {
		out.Checks = append(out.Checks, quotaCheckDoc{Dimension: c.Dimension, Limit: c.Limit, Used: c.Used, Pending: c.Pending, Asked: c.Asked, Fits: c.Fits()})
		out.Fits = out.Fits && c.Fits()
	}
	return out
}

func newRequestDoc(r *purser.Request) requestDoc {
	d := requestDoc{
		Meta:        newMeta(r.ID, r.Created, r.Updated, r.ETag(), "provisionRequests", "provisionRequest"),
		Description: r.Description, ExpiresBy: r.ExpiresBy, RequestedBy: r.RequestedBy, ReviewedBy: r.ReviewedBy,
		ReviewComment: r.ReviewComment, ResourceType: r.ResourceType, ResourceTemplate: r.ResourceTemplate, TemplateRevision: r.TemplateRevision,
		ResourceParameters: r.ResourceParameters, RequestType: r.RequestType, Status: string(r.Status),
		Footprint: footprintNums(r.Footprint), EstimatedCost: r.EstimatedCost, Extended: r.Extended, HasOutputs: r.HasOutputs, LastError: r.LastError,
	}
	self := d.Links["self"].Href
	d.Links["template"] = link{Href: BasePath + "/templates/" + r.ResourceTemplate, Title: "template"}
	d.Links["template_revision"] = link{Href: fmt.Sprintf("%s/templates/%s/revisions/%d", BasePath, r.ResourceTemplate, r.TemplateRevision), Title: "templateRevision"}
	d.Links["history"] = link{Href: self + "/history", Title: "history"}
	d.Links["outputs"] = link{Href: self + "/outputs", Title: "outputs"}
	d.Links["requested_by"] = link{Href: BasePath + "/users/" + r.RequestedBy, Title: "user"}
	return d
}

type requestBody struct {
	Description        string         `json:"description,omitempty" maxLength:"1000"`
	ExpiresBy          timeValue      `json:"expires_by,omitempty" doc:"When the environment expires. Default: now plus the template's default TTL."`
	TTLHours           float64        `json:"ttl_hours,omitempty" doc:"Instead of expires_by: hours from now."`
	RequestedBy        string         `json:"requested_by,omitempty" doc:"The requester's _id or username: yourself (the default), or anyone for admins acting for them."`
	ResourceType       string         `json:"resource_type,omitempty"`
	ResourceTemplate   string         `json:"resource_template" doc:"The template's _id or name."`
	ResourceParameters map[string]any `json:"resource_parameters,omitempty"`
	RequestType        string         `json:"request_type,omitempty" enum:"TEMPORARY,PERMANENT" doc:"TEMPORARY, the default. PERMANENT is refused with 422: every environment expires (ask for the template's maximum TTL, then an extension)."`
}

type requestOutput struct {
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     requestDoc
}

// seedReview is the seed's review call.
type seedReview struct {
	ID         string `json:"_id"`
	ReviewedBy string `json:"reviewed_by,omitempty" doc:"An _id or username (admins; recorded as acting_for)."`
	Status     string `json:"status" enum:"APPROVED,REJECTED"`
	Comment    string `json:"comment,omitempty"`
}

type seedReviewAnswer struct {
	ID               string `json:"_id"`
	Status           string `json:"status"`
	ProvisionRequest string `json:"provision_request,omitempty"`
}

func (s *Server) requestOut(ctx context.Context, r *purser.Request, withQuota bool) (*requestOutput, error) {
	d := []requestDoc{newRequestDoc(r)}
	if withQuota {
		if checks, err := s.Requests.RequestQuota(ctx, r.ID); err == nil {
			d[0].Quota = newQuotaFit(checks)
		}
	}
	if err := s.nameRequests(ctx, d); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &requestOutput{ETag: etagOf(d[0].ETag), Body: d[0]}, nil
}

// nameRequests names the requester, reviewer and template of each request.
func (s *Server) nameRequests(ctx context.Context, docs []requestDoc) error {
	var users, templates []string
	for _, d := range docs {
		users = append(users, d.RequestedBy, d.ReviewedBy)
		templates = append(templates, d.ResourceTemplate)
	}
	names, err := s.usernames(ctx, users)
	if err != nil {
		return err
	}
	tnames, err := s.templateNames(ctx, templates)
	if err != nil {
		return err
	}
	for i := range docs {
		d := &docs[i]
		d.RequestedByName, d.ReviewedByName, d.TemplateName = names[d.RequestedBy], names[d.ReviewedBy], tnames[d.ResourceTemplate]
	}
	return nil
}

// requestUserRefs and requestTemplateRefs are the fields of requests that
// name users and templates.
var requestUserRefs, requestTemplateRefs = []string{"requested_by", "reviewed_by"}, []string{"resource_template"}

func (s *Server) registerRequests() {
	huma.Register(s.api, op(http.MethodGet, "/provisionRequests", "list-requests", "provisionRequests", "List provision requests (your own; all for devops and admins)", http.StatusBadRequest), s.listRequests)

	create := op(http.MethodPost, "/provisionRequests", "create-request", "provisionRequests", "Ask for an environment",
		http.StatusConflict, http.StatusNotFound)
	create.Description = "Parameters are checked against the template; the footprint is estimated. A request that cannot fit your quota beside what you hold is refused with 409 and a breakdown."
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, s.createRequest)

	huma.Register(s.api, cacheable(op(http.MethodGet, "/provisionRequests/{id}", "get-request", "provisionRequests", "Get a provision request, with whether it fits the quota", http.StatusNotFound, http.StatusBadRequest)), s.getRequest)

	huma.Register(s.api, op(http.MethodGet, "/provisionRequests/{id}/outputs", "get-request-outputs", "provisionRequests", "The environment's outputs: endpoint, credentials (the requester and admins)", http.StatusNotFound), s.getRequestOutputs)

	kc := op(http.MethodGet, "/provisionRequests/{id}/kubeconfig", "get-request-kubeconfig", "provisionRequests", "The kubeconfig of a Kubernetes environment (the requester and admins)", http.StatusNotFound, http.StatusConflict)
	kc.Description = "404 or 409 says why there is none: the request is not DEPLOYED, its template makes no Kubernetes environment, or its driver gave no kubeconfig. A sim environment's kubeconfig is simulated (simulated: true) and reaches no cluster."
	huma.Register(s.api, kc, s.getRequestKubeconfig)

	huma.Register(s.api, op(http.MethodGet, "/provisionRequests/{id}/history", "get-request-history", "provisionRequests", "The request's history: every change, who made it and when", http.StatusNotFound), s.getRequestHistory)

	for _, a := range []struct {
		action  purser.RequestAction
		summary string
	}{
		{purser.ActApprove, "Approve (devops, admins; never your own): reserves the quota and starts provisioning"},
		{purser.ActReject, "Reject (devops, admins; never your own)"},
		{purser.ActRevoke, "Withdraw your request while it waits for review"},
		{purser.ActRetry, "Retry a FAILED provision or a PURGE_FAILED purge"},
		{purser.ActPurge, "Destroy the environment now (also while it is still provisioning)"},
	} {
		o := op(http.MethodPost, "/provisionRequests/{id}/"+string(a.action), string(a.action)+"-request", "provisionRequests", a.summary,
			http.StatusNotFound, http.StatusConflict)
		huma.Register(s.api, o, s.actOnRequest(a.action))
	}

	seed := op(http.MethodPost, "/approveProvisionRequest", "review-request-seed", "provisionRequests", "The seed's review call: approve or reject",
		http.StatusNotFound, http.StatusConflict)
	seed.Description = "Body {_id, reviewed_by, status: APPROVED|REJECTED}; answers {_id, status}. The same as POST /provisionRequests/{id}/approve or /reject."
	huma.Register(s.api, seed, s.reviewRequestSeed)

	sweep := op(http.MethodPost, "/admin/expire", "run-expiry", "operations", "Run expiry and reminders now (admins); the workers also do it every minute")
	huma.Register(s.api, sweep, s.runExpiry)
}

// review is a review body's review, its reviewer (a username or an _id)
// resolved; no body is a review by the caller without a comment.
func (s *Server) review(ctx context.Context, b *reviewBody) (purser.Review, error) {
	if b == nil {
		return purser.Review{}, nil
	}
	by, err := s.userID(ctx, "reviewed_by", b.ReviewedBy, inField)
	if err != nil {
		return purser.Review{}, err
	}
	return purser.Review{ReviewedBy: by, Comment: b.Comment}, nil
}

// actOnRequest returns the handler of POST /api/v1/provisionRequests/{id}/<action>.
func (s *Server) actOnRequest(action purser.RequestAction) func(ctx context.Context, in *struct {
	ID   string `path:"id"`
	Body *reviewBody
}) (*requestOutput, error) {
	return func(ctx context.Context, in *struct {
		ID   string `path:"id"`
		Body *reviewBody
	}) (*requestOutput, error) {
		rv, err := s.review(ctx, in.Body)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		r, err := s.Requests.ActOnRequest(ctx, in.ID, action, rv)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return s.requestOut(ctx, r, false)
	}
}

// listRequests serves GET /api/v1/provisionRequests: List provision requests (your own; all for devops and admins).
func (s *Server) listRequests(ctx context.Context, in *ListParams) (*struct{ Body collection[requestDoc] }, error) {
	emb, err := in.embedded(requestEmbeddable...)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	plain := *in
	plain.Embedded = "" // checked above; listOf embeds nothing itself
	find := func(ctx context.Context, q purser.Query) ([]*purser.Request, purser.PageInfo, error) {
		if err := s.resolveWhere(ctx, &q, requestUserRefs, requestTemplateRefs); err != nil {
			return nil, purser.PageInfo{}, err
		}
		return s.Requests.FindRequests(ctx, q)
	}
	out, err := listOf(ctx, s, &plain, "provisionRequests", purser.RequestFields, find, newRequestDoc)
	if err == nil {
		err = s.nameRequests(ctx, out.Body.Items)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if len(emb) > 0 {
		keepEmbedded(out.Body.Links, in.Embedded)
		if err := s.embedRequests(ctx, emb, out.Body.Items); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	return out, nil
}

// createRequest serves POST /api/v1/provisionRequests: Ask for an environment.
func (s *Server) createRequest(ctx context.Context, in *struct{ Body requestBody }) (*requestOutput, error) {
	b := in.Body
	exp, err := b.ExpiresBy.parse("expires_by")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	var ttl time.Duration
	if b.TTLHours != 0 {
		if ttl, err = purser.DurationFromHours(b.TTLHours, "ttl_hours"); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	by, err := s.userID(ctx, "requested_by", b.RequestedBy, inField)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	tpl, err := s.templateID(ctx, "resource_template", b.ResourceTemplate, inField)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.Requests.CreateRequest(ctx, purser.RequestInput{Description: b.Description, ExpiresBy: exp, TTL: ttl,
		RequestedBy: by, ResourceType: b.ResourceType, ResourceTemplate: tpl,
		ResourceParameters: b.ResourceParameters, RequestType: b.RequestType})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out, err := s.requestOut(ctx, r, false)
	if err != nil {
		return nil, err
	}
	out.Location = out.Body.Links["self"].Href
	return out, nil
}

// getRequest serves GET /api/v1/provisionRequests/{id}: Get a provision request, with whether it fits the quota.
func (s *Server) getRequest(ctx context.Context, in *struct {
	ID       string `path:"id"`
	Embedded string `query:"embedded" doc:"JSON object naming relations to embed under _embedded: requested_by, reviewed_by, resource_template. Example: {\"requested_by\":1}"`
}) (*requestOutput, error) {
	emb, err := parseEmbedded(in.Embedded, requestEmbeddable...)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.Requests.FindRequestByID(ctx, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out, err := s.requestOut(ctx, r, true)
	if err != nil || len(emb) == 0 {
		return out, err
	}
	docs := []requestDoc{out.Body}
	if err := s.embedRequests(ctx, emb, docs); err != nil {
		return nil, s.problem(ctx, err)
	}
	out.Body = docs[0]
	// The request's own ETag would let a 304 hide a change to what is
	// embedded: the answer's tag is the request's and the embedded
	// documents' together, and weak (the same content, not the same bytes).
	tags := out.Body.ETag
	for _, k := range slices.Sorted(maps.Keys(out.Body.Embedded)) {
		b, _ := json.Marshal(out.Body.Embedded[k])
		tags += "," + k + ":" + fmt.Sprintf("%x", sha256.Sum256(b))
	}
	out.ETag = fmt.Sprintf(`W/"%x"`, sha256.Sum256([]byte(tags)))
	return out, nil
}

// getRequestOutputs serves GET /api/v1/provisionRequests/{id}/outputs: The environment's outputs: endpoint, credentials (the requester and admins).
func (s *Server) getRequestOutputs(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*struct{ Body map[string]string }, error) {
	out, err := s.Requests.RequestOutputs(ctx, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body map[string]string }{out}, nil
}

type kubeconfigDoc struct {
	Kubeconfig string `json:"kubeconfig" doc:"A kubeconfig (YAML)."`
	Simulated  bool   `json:"simulated" doc:"True when the sim driver made it: it reaches no cluster."`
}

// getRequestKubeconfig serves GET /api/v1/provisionRequests/{id}/kubeconfig:
// the environment's kubeconfig, or why it has none.
func (s *Server) getRequestKubeconfig(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*struct{ Body kubeconfigDoc }, error) {
	out, err := s.Requests.RequestOutputs(ctx, in.ID) // the requester and admins only
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.Requests.FindRequestByID(ctx, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	var t *purser.Template
	if r.TemplateRevision > 0 {
		t, err = s.Templates.FindTemplateRevision(ctx, r.ResourceTemplate, r.TemplateRevision)
	} else {
		t, err = s.Templates.FindTemplateByID(ctx, r.ResourceTemplate)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	kc, err := r.Kubeconfig(t, out)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body kubeconfigDoc }{kubeconfigDoc{Kubeconfig: kc, Simulated: t.Driver == "sim"}}, nil
}

// getRequestHistory serves GET /api/v1/provisionRequests/{id}/history: The request's history: every change, who made it and when.
func (s *Server) getRequestHistory(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*struct{ Body collection[eventDoc] }, error) {
	if _, err := s.Requests.FindRequestByID(ctx, in.ID); err != nil {
		return nil, s.problem(ctx, err)
	}
	p := ListParams{Where: `{"target_type":"provisionRequest","target_id":"` + in.ID + `"}`, Sort: "_created", Page: 1, MaxResults: purser.MaxMaxResults}
	return s.events(ctx, &p)
}

// reviewRequestSeed serves POST /api/v1/approveProvisionRequest: The seed's review call: approve or reject.
func (s *Server) reviewRequestSeed(ctx context.Context, in *struct{ Body seedReview }) (*struct{ Body seedReviewAnswer }, error) {
	a := purser.ActApprove
	if in.Body.Status == string(purser.StatusRejected) {
		a = purser.ActReject
	}
	by, err := s.userID(ctx, "reviewed_by", in.Body.ReviewedBy, inField)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.Requests.ActOnRequest(ctx, in.Body.ID, a, purser.Review{ReviewedBy: by, Comment: in.Body.Comment})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body seedReviewAnswer }{seedReviewAnswer{ID: r.ID, Status: string(r.Status)}}, nil
}

// runExpiry serves POST /api/v1/admin/expire: Run expiry and reminders now (admins); the workers also do it every minute.
func (s *Server) runExpiry(ctx context.Context, _ *struct{}) (*struct{ Body expirySweep }, error) {
	n, err := s.Requests.ExpireDue(ctx)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body expirySweep }{expirySweep{Expired: n}}, nil
}

// expirySweep is what a run of expiry did.
type expirySweep struct {
	Expired int `json:"expired" doc:"How many environments expired."`
}
