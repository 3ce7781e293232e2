package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/purserhq/purser"
)

// catalogData is the catalog's.
type catalogData struct{ Templates []templateRow }

// templateRow is a template as the catalog lists it.
type templateRow struct {
	ID, Name, Description, ResourceType, Approval string
}

// catalog serves GET /catalog: the active templates.
func (s *Server) catalog(w http.ResponseWriter, r *http.Request) {
	ts, _, err := s.Templates.FindTemplates(r.Context(), purser.Query{Where: []purser.Cond{eq("is_active", true)},
		Sort: []purser.Sort{{Field: "name"}}, Page: 1, MaxResults: 200, SkipTotal: true})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := catalogData{}
	for _, t := range ts {
		appr := "reviewed by DevOps"
		if t.Approval.Mode == purser.ApprovalAuto {
			appr = "approved automatically when small"
		}
		d.Templates = append(d.Templates, templateRow{ID: t.ID, Name: t.Name, Description: t.Description, ResourceType: t.ResourceType, Approval: appr})
	}
	s.render(w, r, http.StatusOK, "catalog", "Catalog", d)
}

// formData is the request form's: one field per typed parameter, plus
// the description and TTL, with the server's messages beside each.
type formData struct {
	Template templateRow
	Fields   []field
	Errors   []string
}

// field is one input of a generated form.
type field struct {
	Name, ID, Label, Type, Value, Help, Error, Min, Max, Step string
	Required, Checked, Select, Checkbox                       bool
	Options                                                   []option
}

// paramField turns a template parameter into a form field holding value.
func paramField(p purser.Param, value string, set bool) field {
	f := field{Name: "p." + p.Name, ID: "p-" + p.Name, Label: p.Name, Type: "text", Help: p.Description, Required: p.Required}
	if !set && p.Default != nil {
		value = fmt.Sprint(p.Default)
	}
	f.Value = value
	var hints []string
	switch p.Type {
	case purser.ParamInteger, purser.ParamNumber:
		f.Type, f.Step = "number", "any"
		if p.Type == purser.ParamInteger {
			f.Step = "1"
		}
		if p.Min != nil {
			f.Min = strconv.FormatFloat(*p.Min, 'f', -1, 64)
			hints = append(hints, "at least "+f.Min)
		}
		if p.Max != nil {
			f.Max = strconv.FormatFloat(*p.Max, 'f', -1, 64)
			hints = append(hints, "at most "+f.Max)
		}
	case purser.ParamBoolean:
		f.Checkbox, f.Checked = true, value == "true" || value == "on"
	case purser.ParamEnum:
		f.Select = true
		for _, o := range p.Options {
			f.Options = append(f.Options, option{Value: o, Label: o, Selected: o == value})
		}
	case purser.ParamDuration:
		hints = append(hints, "a duration such as 90m or 2h")
	}
	if p.Pattern != "" {
		hints = append(hints, "matching "+p.Pattern)
	}
	if p.Secret {
		f.Type = "password"
	}
	if len(hints) > 0 {
		f.Help = strings.TrimSpace(f.Help + " (" + strings.Join(hints, ", ") + ")")
	}
	return f
}

// buildForm makes the form of template t with the values r posted (nil:
// the defaults).
func buildForm(t *purser.Template, r *http.Request) formData {
	d := formData{Template: templateRow{ID: t.ID, Name: t.Name, Description: t.Description}}
	posted := r != nil && r.Method == http.MethodPost
	for _, p := range t.Params {
		v := ""
		if posted {
			v = r.PostFormValue("p." + p.Name)
		}
		d.Fields = append(d.Fields, paramField(p, v, posted))
	}
	ttl, desc := "", ""
	if posted {
		ttl, desc = r.PostFormValue("ttl_hours"), r.PostFormValue("description")
	}
	d.Fields = append(d.Fields,
		field{Name: "ttl_hours", ID: "ttl_hours", Label: "hours until expiry", Type: "number", Step: "any", Min: "0", Value: ttl,
			Help: fmt.Sprintf("empty: %s; at most %s", purser.Hours(t.TTLDefault), purser.Hours(t.TTLMax))},
		field{Name: "description", ID: "description", Label: "description", Type: "text", Value: desc})
	return d
}

func (s *Server) requestForm(w http.ResponseWriter, r *http.Request) {
	t, err := s.Templates.FindTemplateByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "form", "Request "+t.Name, buildForm(t, nil))
}

// submitRequest serves POST /catalog/{id}: it submits the form as the API
// would, and on a 422 shows each message beside its field.
func (s *Server) submitRequest(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, err := s.Templates.FindTemplateByID(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := purser.RequestInput{ResourceTemplate: t.ID, Description: r.PostFormValue("description"), ResourceParameters: map[string]any{}}
	for _, p := range t.Params {
		v := strings.TrimSpace(r.PostFormValue("p." + p.Name))
		switch {
		case p.Type == purser.ParamBoolean:
			in.ResourceParameters[p.Name] = v == "on" || v == "true"
		case v != "":
			in.ResourceParameters[p.Name] = v
		}
	}
	if h := r.PostFormValue("ttl_hours"); h != "" {
		f, perr := strconv.ParseFloat(h, 64)
		if perr == nil {
			in.TTL, err = purser.DurationFromHours(f, "ttl_hours")
		} else {
			err = purser.Invalid(purser.FieldError{Field: "ttl_hours", Rule: "type", Message: "must be a number of hours"})
		}
	}
	var req *purser.Request
	if err == nil {
		req, err = s.Requests.CreateRequest(ctx, in)
	}
	if err != nil {
		s.formError(w, r, t, err)
		return
	}
	http.Redirect(w, r, "/requests/"+req.ID, http.StatusSeeOther)
}

// formError shows the form again with the server's messages: a field's
// beside it, others above the form.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, t *purser.Template, err error) {
	var pe *purser.Error
	if !errors.As(err, &pe) || (pe.Code != purser.EINVALID && pe.Code != purser.ECONFLICT) {
		s.fail(w, r, err)
		return
	}
	d := buildForm(t, r)
	byName := map[string]int{}
	for i, f := range d.Fields {
		byName[strings.TrimPrefix(f.Name, "p.")] = i
	}
	for _, fe := range pe.Fields {
		name := strings.TrimPrefix(fe.Field, "resource_parameters.")
		if i, ok := byName[name]; ok {
			d.Fields[i].Error = fe.Message
			continue
		}
		d.Errors = append(d.Errors, fe.Field+": "+fe.Message)
	}
	if len(pe.Fields) == 0 {
		d.Errors = append(d.Errors, pe.Message)
	}
	s.render(w, r, statusOf(err), "form", "Request "+t.Name, d)
}
