package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

type footprintDoc struct {
	Cores       exprValue `json:"cores,omitempty"`
	Memory      exprValue `json:"memory,omitempty" doc:"GiB."`
	CostPerHour exprValue `json:"cost_per_hour,omitempty"`
}

type approvalDoc struct {
	Mode      string        `json:"mode,omitempty" enum:"manual,auto" doc:"auto: Purser approves requests within auto_max and the quota itself."`
	Approvers int           `json:"approvers,omitempty" minimum:"1" maximum:"5"`
	AutoMax   footprintNums `json:"auto_max,omitempty"`
}

type templateDoc struct {
	Meta
	Name              string         `json:"name"`
	Description       string         `json:"description"`
	Driver            string         `json:"driver"`
	Simulated         bool           `json:"simulated" doc:"True when the driver is the built-in simulated cloud: nothing real is created."`
	ResourceType      string         `json:"resource_type"`
	Params            paramList      `json:"params"`
	Footprint         footprintDoc   `json:"footprint"`
	TTLDefaultHours   float64        `json:"ttl_default_hours"`
	TTLMaxHours       float64        `json:"ttl_max_hours"`
	ExtensionMaxHours float64        `json:"extension_max_hours"`
	Approval          approvalDoc    `json:"approval"`
	Config            map[string]any `json:"config,omitempty"`
	URL               string         `json:"url,omitempty"`
	Type              string         `json:"type,omitempty"`
	IsActive          bool           `json:"is_active"`
	Revision          int            `json:"revision" doc:"The template's revision: 1 at creation, one more at each change. Requests pin the revision they were made with."`
	Warnings          []string       `json:"warnings,omitempty" doc:"What the server did differently from what the body may have meant (on the answer to a create), e.g. a type Purser does not run, made simulated."`
	Cache             *bool          `json:"cache,omitempty" doc:"On GET /templates/{id}: whether the answer came from the cache (X-Cache: HIT) rather than from the database (MISS)."`
}

func newTemplateDoc(t *purser.Template) templateDoc {
	return templateDoc{
		Meta: newMeta(t.ID, t.Created, t.Updated, t.ETag(), "templates", "template"),
		Name: t.Name, Description: t.Description, Driver: t.Driver, Simulated: t.Driver == "sim", ResourceType: t.ResourceType,
		Params: paramsDoc(t.Params), Footprint: footprintDoc{exprValue(t.Footprint.Cores), exprValue(t.Footprint.Memory), exprValue(t.Footprint.CostPerHour)},
		TTLDefaultHours: t.TTLDefault.Hours(), TTLMaxHours: t.TTLMax.Hours(), ExtensionMaxHours: t.ExtensionMax.Hours(),
		Approval: approvalDoc{t.Approval.Mode, t.Approval.Approvers, footprintNums(t.Approval.AutoMax)},
		Config:   t.Config, URL: t.URL, Type: t.Type, IsActive: t.IsActive, Revision: t.Revision,
	}
}

// newRevisionDoc is a template revision: the template as it was, at its
// own address.
func newRevisionDoc(t *purser.Template) templateDoc {
	d := newTemplateDoc(t)
	self := fmt.Sprintf("%s/templates/%s/revisions/%d", BasePath, t.ID, t.Revision)
	d.Links = map[string]link{"self": {Href: self, Title: "templateRevision"},
		"template":   {Href: BasePath + "/templates/" + t.ID, Title: "template"},
		"collection": {Href: BasePath + "/templates/" + t.ID + "/revisions", Title: "templateRevisions"}}
	return d
}

type templateBody struct {
	ID                string         `json:"_id" doc:"A slug: lower-case letters, digits and '-'."`
	Name              string         `json:"name"`
	Description       string         `json:"description,omitempty"`
	Driver            string         `json:"driver,omitempty" doc:"Default: the server's default driver."`
	ResourceType      string         `json:"resource_type,omitempty" doc:"Default: the driver's first (e.g. KUBERNETES)."`
	Params            paramList      `json:"params,omitempty"`
	Footprint         footprintDoc   `json:"footprint,omitempty"`
	TTLDefaultHours   float64        `json:"ttl_default_hours,omitempty" doc:"Default 48."`
	TTLMaxHours       float64        `json:"ttl_max_hours,omitempty" doc:"Default 720."`
	ExtensionMaxHours float64        `json:"extension_max_hours,omitempty" doc:"Default 720, the most."`
	Approval          *approvalDoc   `json:"approval,omitempty"`
	Config            map[string]any `json:"config,omitempty" doc:"Given to the driver as is."`
	URL               string         `json:"url,omitempty" doc:"Where the template's file came from (the seed's field)."`
	Type              string         `json:"type,omitempty" doc:"The kind of template file, e.g. EKSCTL (the seed's field)."`
	IsActive          *bool          `json:"is_active,omitempty"`
}

// hours converts a template's hours field; 0 stays 0 (the default). NaN,
// infinities and values beyond a time.Duration are refused naming field.
func hours(h float64, field string) (time.Duration, error) {
	if h == 0 {
		return 0, nil
	}
	return purser.DurationFromHours(h, field)
}

// templateHours converts the three hours fields, naming every bad one.
func templateHours(def, maxTTL, ext float64) (d [3]time.Duration, err error) {
	var fe []purser.FieldError
	for i, f := range []struct {
		name string
		h    float64
	}{{"ttl_default_hours", def}, {"ttl_max_hours", maxTTL}, {"extension_max_hours", ext}} {
		var e error
		if d[i], e = hours(f.h, f.name); e != nil {
			fe = append(fe, e.(*purser.Error).Fields...)
		}
	}
	if len(fe) > 0 {
		return d, purser.Invalid(fe...)
	}
	return d, nil
}

type templatePatch struct {
	Name              *string        `json:"name,omitempty"`
	Description       *string        `json:"description,omitempty"`
	Params            *paramList     `json:"params,omitempty"`
	Footprint         *footprintDoc  `json:"footprint,omitempty"`
	TTLDefaultHours   *float64       `json:"ttl_default_hours,omitempty"`
	TTLMaxHours       *float64       `json:"ttl_max_hours,omitempty"`
	ExtensionMaxHours *float64       `json:"extension_max_hours,omitempty"`
	Approval          *approvalDoc   `json:"approval,omitempty"`
	Config            map[string]any `json:"config,omitempty"`
	IsActive          *bool          `json:"is_active,omitempty"`
}

type templateOutput struct {
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     templateDoc
}

func (s *Server) registerTemplates() {
	huma.Register(s.api, op(http.MethodGet, "/templates", "list-templates", "templates", "List the catalog", http.StatusBadRequest), s.listTemplates)

	create := op(http.MethodPost, "/templates", "create-template", "templates", "Add a template to the catalog (devops, admins)", http.StatusConflict)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, s.createTemplate)

	huma.Register(s.api, cacheable(op(http.MethodGet, "/templates/{id}", "get-template", "templates", "Get a template", http.StatusNotFound)), s.getTemplate)

	revs := op(http.MethodGet, "/templates/{id}/revisions", "list-template-revisions", "templates", "A template's revisions, oldest first", http.StatusNotFound)
	huma.Register(s.api, revs, s.listTemplateRevisions)

	huma.Register(s.api, cacheable(op(http.MethodGet, "/templates/{id}/revisions/{n}", "get-template-revision", "templates", "A template as it was at one revision", http.StatusNotFound)), s.getTemplateRevision)

	patch := op(http.MethodPatch, "/templates/{id}", "update-template", "templates", "Change a template (JSON merge patch; devops, admins)",
		http.StatusNotFound, http.StatusPreconditionFailed)
	huma.Register(s.api, patch, s.updateTemplate)

	del := op(http.MethodDelete, "/templates/{id}", "delete-template", "templates", "Delete a template never used (devops, admins)",
		http.StatusNotFound, http.StatusConflict)
	del.Description = "A template from which any provision request was made answers 409: requests pin its revisions. Deactivate it instead (PATCH is_active false). An exec template needs templates:exec."
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, s.deleteTemplate)
}

// deleteTemplate serves DELETE /api/v1/templates/{id}: Delete a template never used.
func (s *Server) deleteTemplate(ctx context.Context, in *struct {
	ID string `path:"id" doc:"The template's _id or name."`
}) (*struct{}, error) {
	id, err := s.templateID(ctx, "id", in.ID, inPath)
	if err == nil {
		err = s.Templates.DeleteTemplate(ctx, id)
	}
	return nil, s.problemOrNil(ctx, err)
}

// listTemplates serves GET /api/v1/templates: List the catalog.
func (s *Server) listTemplates(ctx context.Context, in *ListParams) (*struct{ Body collection[templateDoc] }, error) {
	return listOf(ctx, s, in, "templates", purser.TemplateFields, s.Templates.FindTemplates, newTemplateDoc)
}

// createTemplate serves POST /api/v1/templates: Add a template to the catalog (devops, admins).
func (s *Server) createTemplate(ctx context.Context, in *struct{ Body templateBody }) (*templateOutput, error) {
	b := in.Body
	hrs, err := templateHours(b.TTLDefaultHours, b.TTLMaxHours, b.ExtensionMaxHours)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	t := &purser.Template{Meta: purser.Meta{ID: b.ID}, Name: b.Name, Description: b.Description, Driver: b.Driver,
		ResourceType: b.ResourceType, Params: b.Params.domain(),
		Footprint:  purser.FootprintExprs{Cores: string(b.Footprint.Cores), Memory: string(b.Footprint.Memory), CostPerHour: string(b.Footprint.CostPerHour)},
		TTLDefault: hrs[0], TTLMax: hrs[1], ExtensionMax: hrs[2],
		Config: b.Config, URL: b.URL, Type: b.Type, IsActive: b.IsActive == nil || *b.IsActive}
	if t.Driver == "" {
		t.Driver = s.DefaultDriver
	}
	if b.Approval != nil {
		t.Approval = purser.ApprovalPolicy{Mode: b.Approval.Mode, Approvers: b.Approval.Approvers, AutoMax: purser.Footprint(b.Approval.AutoMax)}
	}
	if err := s.Templates.CreateTemplate(ctx, t); err != nil {
		return nil, s.problem(ctx, err)
	}
	d := newTemplateDoc(t)
	d.Warnings = templateWarnings(b, t)
	return &templateOutput{ETag: etagOf(d.ETag), Location: d.Links["self"].Href, Body: d}, nil
}

// getTemplate serves GET /api/v1/templates/{id}: Get a template.
func (s *Server) getTemplate(ctx context.Context, in *struct {
	ID string `path:"id" doc:"The template's _id or name."`
}) (*templateOutput, error) {
	var t *purser.Template
	id, err := s.templateID(ctx, "id", in.ID, inPath)
	if err == nil {
		t, err = s.Templates.FindTemplateByID(ctx, id)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := newTemplateDoc(t)
	if st := purser.CacheStatus(ctx); st != "" {
		hit := st == "HIT"
		d.Cache = &hit
	}
	return &templateOutput{ETag: etagOf(d.ETag), Body: d}, nil
}

// listTemplateRevisions serves GET /api/v1/templates/{id}/revisions: A template's revisions, oldest first.
func (s *Server) listTemplateRevisions(ctx context.Context, in *struct {
	ID string `path:"id" doc:"The template's _id or name."`
}) (*struct{ Body collection[templateDoc] }, error) {
	var ts []*purser.Template
	id, err := s.templateID(ctx, "id", in.ID, inPath)
	if err == nil {
		ts, err = s.Templates.FindTemplateRevisions(ctx, id)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[templateDoc] }{}
	out.Body.Items = make([]templateDoc, len(ts))
	for i, t := range ts {
		out.Body.Items[i] = newRevisionDoc(t)
	}
	out.Body.Meta = listMeta{Page: 1, MaxResults: len(ts), Total: counted(len(ts))}
	out.Body.Links = map[string]link{"self": {Href: BasePath + "/templates/" + id + "/revisions", Title: "templateRevisions"},
		"template": {Href: BasePath + "/templates/" + id, Title: "template"}}
	return out, nil
}

// getTemplateRevision serves GET /api/v1/templates/{id}/revisions/{n}: A template as it was at one revision.
func (s *Server) getTemplateRevision(ctx context.Context, in *struct {
	ID string `path:"id" doc:"The template's _id or name."`
	N  int    `path:"n" minimum:"1"`
}) (*templateOutput, error) {
	var t *purser.Template
	id, err := s.templateID(ctx, "id", in.ID, inPath)
	if err == nil {
		t, err = s.Templates.FindTemplateRevision(ctx, id, in.N)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := newRevisionDoc(t)
	return &templateOutput{ETag: etagOf(d.ETag), Body: d}, nil
}

// updateTemplate serves PATCH /api/v1/templates/{id}: Change a template (JSON merge patch; devops, admins).
func (s *Server) updateTemplate(ctx context.Context, in *struct {
	ID      string        `path:"id" doc:"The template's _id or name."`
	IfMatch string        `header:"If-Match"`
	Body    templatePatch `contentType:"application/merge-patch+json"`
}) (*templateOutput, error) {
	b := in.Body
	upd := purser.TemplateUpdate{Name: b.Name, Description: b.Description, IsActive: b.IsActive}
	if b.Params != nil {
		p := b.Params.domain()
		upd.Params = &p
	}
	if b.Footprint != nil {
		upd.Footprint = &purser.FootprintExprs{Cores: string(b.Footprint.Cores), Memory: string(b.Footprint.Memory), CostPerHour: string(b.Footprint.CostPerHour)}
	}
	var fe []purser.FieldError
	for _, x := range []struct {
		field string
		src   *float64
		dst   **time.Duration
	}{{"ttl_default_hours", b.TTLDefaultHours, &upd.TTLDefault}, {"ttl_max_hours", b.TTLMaxHours, &upd.TTLMax}, {"extension_max_hours", b.ExtensionMaxHours, &upd.ExtensionMax}} {
		if x.src != nil {
			d, err := hours(*x.src, x.field)
			if err != nil {
				fe = append(fe, err.(*purser.Error).Fields...)
			}
			*x.dst = &d
		}
	}
	if len(fe) > 0 {
		return nil, s.problem(ctx, purser.Invalid(fe...))
	}
	if b.Approval != nil {
		upd.Approval = &purser.ApprovalPolicy{Mode: b.Approval.Mode, Approvers: b.Approval.Approvers, AutoMax: purser.Footprint(b.Approval.AutoMax)}
	}
	if b.Config != nil {
		upd.Config = &b.Config
	}
	id, err := s.templateID(ctx, "id", in.ID, inPath)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	t, err := s.Templates.UpdateTemplate(ctx, id, upd, in.IfMatch)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := newTemplateDoc(t)
	return &templateOutput{ETag: etagOf(d.ETag), Body: d}, nil
}

// listOf runs a list operation: parse the query against the fields, find,
// convert, and wrap in the collection envelope.
func listOf[T any, D any](ctx context.Context, s *Server, in *ListParams, name string, fields purser.Fields,
	find func(context.Context, purser.Query) ([]*T, purser.PageInfo, error), conv func(*T) D) (*struct{ Body collection[D] }, error) {
	q, err := in.query(fields)
	if err == nil {
		_, err = in.embedded()
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	items, info, err := find(ctx, q)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[D] }{}
	out.Body.Items = make([]D, len(items))
	for i, it := range items {
		out.Body.Items[i] = conv(it)
	}
	out.Body.Meta = listMetaOf(q, info)
	out.Body.Links = pageLinks(name, *in, info)
	return out, nil
}

// templateWarnings says what a new template does that its body may not
// have meant. The provisioning-assistant seed adds a template with type
// EKSCTL and the URL of an eksctl file; Purser does not run eksctl on it:
// a DevOps user's submission never runs as code on the server (DESIGN.md,
// Security model), and a fetched file is data. Refusing the seed's call
// would break the seed's documented flow, so the template is kept, on the
// default driver, and the answer says so.
func templateWarnings(b templateBody, t *purser.Template) []string {
	var w []string
	if t.Driver == "sim" && (b.Type != "" || b.URL != "") {
		kind := "a template file"
		if b.Type != "" {
			kind = "type " + b.Type
		}
		w = append(w, fmt.Sprintf("%s is kept as data: Purser does not run tools named by a template's type or fetch its url, "+
			"since nothing a DevOps user submits runs on the server; this template uses the sim driver and creates nothing real "+
			"(an admin configures exec or kubernetes drivers for real environments)", kind))
	}
	untyped := len(t.Params) > 0
	for _, p := range t.Params {
		untyped = untyped && p.Type == purser.ParamString && p.Pattern == "" && p.Options == nil
	}
	if untyped {
		w = append(w, "every parameter is a string: declare types, e.g. {\"name\": \"volume_size\", \"type\": \"integer\", \"min\": 1}, to have values checked")
	}
	return w
}
