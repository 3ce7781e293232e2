package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// auditData is the audit log page's: its filters, one page of events,
// newest first, and the cursor of the next.
type auditData struct {
	Actor, Kind, SubjectType, SubjectID, From, To string
	Events                                        []auditRow
	Next, First                                   string
	Error                                         string
	Fields                                        map[string]string
}

// auditRow is an event as the log shows it.
type auditRow struct {
	At                          timeView
	Actor, Action, Type, Target string
	Change                      string
}

func (d auditData) content(p page) templ.Component { return auditPage(p, d) }

// auditTime is the form of the time-range fields (datetime-local, UTC).
const auditTime = "2006-01-02T15:04"

// auditQuery turns the page's filters into a query on the API's
// allow-listed event fields: actor (a username or an id), kind (an action,
// or its start such as "request."), subject (type and id), a time range.
func (s *Server) auditQuery(r *http.Request) (purser.Query, auditData, error) {
	v := r.URL.Query()
	d := auditData{Actor: strings.TrimSpace(v.Get("actor")), Kind: strings.TrimSpace(v.Get("kind")),
		SubjectType: strings.TrimSpace(v.Get("subject_type")), SubjectID: strings.TrimSpace(v.Get("subject_id")),
		From: v.Get("from"), To: v.Get("to"), Fields: map[string]string{}}
	var where []purser.Cond
	if d.Actor != "" {
		id := d.Actor
		if s.Names != nil && d.Actor != "system" {
			refs, err := s.Names.ResolveUsers(r.Context(), []string{d.Actor})
			if err != nil {
				return purser.Query{}, d, err
			}
			if ref, ok := refs[d.Actor]; ok {
				id = ref.ID
			}
		}
		where = append(where, eq("actor", id))
	}
	if d.Kind != "" {
		if strings.HasSuffix(d.Kind, ".") {
			where = append(where, purser.Cond{Field: "action", Op: "$gte", Value: d.Kind}, purser.Cond{Field: "action", Op: "$lt", Value: d.Kind + "\U0010FFFF"})
		} else {
			where = append(where, eq("action", d.Kind))
		}
	}
	if d.SubjectType != "" {
		where = append(where, eq("target_type", d.SubjectType))
	}
	if d.SubjectID != "" {
		where = append(where, eq("target_id", d.SubjectID))
	}
	for _, f := range []struct {
		name, val, op string
	}{{"from", d.From, "$gte"}, {"to", d.To, "$lt"}} {
		if f.val == "" {
			continue
		}
		t, err := time.Parse(auditTime, f.val)
		if err != nil {
			d.Fields[f.name] = "must be a date and time like 2026-01-31T14:00"
			continue
		}
		where = append(where, purser.Cond{Field: "_created", Op: f.op, Value: t})
	}
	if len(d.Fields) > 0 {
		return purser.Query{}, d, purser.Invalid(purser.FieldError{Field: "from", Rule: "format", Message: "the time range must be dates and times like 2026-01-31T14:00"})
	}
	return purser.Query{Where: where, Sort: []purser.Sort{{Field: "_created", Desc: true}}, Page: 1, MaxResults: 50,
		After: v.Get("after"), SkipTotal: true}, d, nil
}

// auditLog serves GET /audit: the audit log, filtered; the service shows
// devops and admins everything, others what they did and what happened
// to their own requests.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	q, d, err := s.auditQuery(r)
	var evs []*purser.Event
	var pi purser.PageInfo
	if err == nil {
		evs, pi, err = s.Events.FindEvents(r.Context(), q)
	}
	if err != nil {
		if purser.ErrorCode(err) != purser.EINVALID {
			s.fail(w, r, err)
			return
		}
		d.Error = purser.ErrorMessage(err)
		s.render(w, r, http.StatusUnprocessableEntity, "audit", "Audit log", d)
		return
	}
	names := map[string]purser.Ref{}
	if s.Names != nil && len(evs) > 0 {
		ids := make([]string, 0, len(evs))
		for _, e := range evs {
			ids = append(ids, e.Actor)
		}
		if names, err = s.Names.ResolveUsers(r.Context(), ids); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	for _, e := range evs {
		actor := e.Actor
		if n, ok := names[actor]; ok {
			actor = n.Name
		}
		d.Events = append(d.Events, auditRow{At: newTime(e.Created), Actor: actor, Action: e.Action, Type: e.TargetType,
			Target: e.TargetID, Change: changeSummary(e)})
	}
	if pi.Next != "" {
		nq := r.URL.Query()
		nq.Set("after", pi.Next)
		d.Next = "/audit?" + nq.Encode()
	}
	if r.URL.Query().Get("after") != "" {
		fq := r.URL.Query()
		fq.Del("after")
		d.First = "/audit?" + fq.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", "Audit log", d)
}

// changeSummary is an event's after state, compact, cut to 200
// characters (the API has the whole event).
func changeSummary(e *purser.Event) string {
	if len(e.After) == 0 {
		return ""
	}
	b, err := json.Marshal(e.After)
	if err != nil {
		return ""
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// auditURL is the audit log filtered to one subject.
func auditURL(typ, id string) templ.SafeURL {
	return templ.SafeURL("/audit?subject_type=" + url.QueryEscape(typ) + "&subject_id=" + url.QueryEscape(id))
}
