package ui

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// The infrastructure pages: clusters, their stacks, pools and hosts. Each
// is offered only when the server has the service behind it and the user
// may read it.

// infraNav says which infrastructure pages the navigation offers.
type infraNav struct {
	Stacks, Clusters, Pools bool
}

func (s *Server) infraNav(a *purser.Actor) infraNav {
	return infraNav{
		Stacks:   s.Stacks != nil && s.StackList != nil && a.Can(purser.ActionStackRead),
		Clusters: s.Clusters != nil && a.Can(purser.ActionClusterRead),
		Pools:    s.Pools != nil && s.Hosts != nil && a.Can(purser.ActionPoolRead),
	}
}

func (s *Server) infraRoutes() []route {
	var out []route
	if s.Clusters != nil {
		out = append(out,
			route{pattern: "GET /clusters", h: s.clusterList},
			route{pattern: "GET /clusters/{name}", h: s.clusterDetail},
			route{pattern: "POST /clusters/{name}/check", h: s.checkCluster})
	}
	if s.Stacks != nil && s.StackList != nil {
		out = append(out,
			route{pattern: "GET /stacks", h: s.stackList},
			route{pattern: "GET /stacks/{cluster}", h: s.stackDetail},
			route{pattern: "GET /stacks/{cluster}/live", h: s.stackLive},
			route{pattern: "GET /stacks/{cluster}/services/{service}", h: s.servicePage},
			route{pattern: "GET /stacks/{cluster}/services/{service}/tags", h: s.serviceTags},
			route{pattern: "POST /stacks/{cluster}/services/{service}", h: s.updateService},
			route{pattern: "GET /stacks/{cluster}/edit", h: s.stackEditor},
			route{pattern: "POST /stacks/{cluster}/edit", h: s.stackEdit},
			route{pattern: "GET /stacks/{cluster}/revisions/{number}", h: s.revisionPage},
			route{pattern: "POST /stacks/{cluster}/rollback", h: s.rollback},
			route{pattern: "POST /stacks/{cluster}/deploy", h: s.deploy})
	}
	if s.Pools != nil && s.Hosts != nil {
		out = append(out,
			route{pattern: "GET /pools", h: s.poolList},
			route{pattern: "GET /pools/{name}", h: s.poolDetail})
	}
	return out
}

// clusterURL, stackURL and poolURL are the paths of a cluster's, its
// stack's and a pool's pages, or of one of their sub-pages.
func clusterURL(name string) templ.SafeURL {
	return templ.SafeURL("/clusters/" + url.PathEscape(name))
}

func stackURL(cluster string, sub ...string) templ.SafeURL {
	u := "/stacks/" + url.PathEscape(cluster)
	for _, s := range sub {
		u += "/" + url.PathEscape(s)
	}
	return templ.SafeURL(u)
}

func poolURL(name string) templ.SafeURL {
	return templ.SafeURL("/pools/" + url.PathEscape(name))
}

// relTime is a time as a page shows it relative to now ("3 days ago"),
// the absolute time on hover (in the browser's zone once the page's
// script runs).
type relTime struct {
	ISO, Abs, Ago string
	Set           bool
}

func newRelTime(t time.Time, now time.Time) relTime {
	if t.IsZero() {
		return relTime{}
	}
	v := newTime(t)
	return relTime{ISO: v.ISO, Abs: v.Abs, Ago: ago(now.Sub(t)), Set: true}
}

func newRelTimePtr(t *time.Time, now time.Time) relTime {
	if t == nil {
		return relTime{}
	}
	return newRelTime(*t, now)
}

// ago says how long d is, roughly, in the largest unit that fits.
func ago(d time.Duration) string {
	if d < 0 {
		return "just now"
	}
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{365 * 24 * time.Hour, "year"}, {30 * 24 * time.Hour, "month"}, {7 * 24 * time.Hour, "week"}, {24 * time.Hour, "day"},
		{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if n := int(d / u.d); n >= 1 {
			if n == 1 {
				return "1 " + u.name + " ago"
			}
			return strconv.Itoa(n) + " " + u.name + "s ago"
		}
	}
	return "just now"
}

// capacityBar draws what is given against what is asked, as an SVG bar
// (the quota bars' drawing: given is "used", nothing "asked", the ask the
// limit line).
func capacityBar(label string, have, want float64, unit string) fitBar {
	b := fitBar{Label: label, Limited: want > 0}
	scale := math.Max(have, want)
	if scale <= 0 {
		scale = 1
	}
	px := func(v float64) int { return int(math.Round(v / scale * barWidth)) }
	b.UsedW = px(have)
	b.LimitX = min(px(want), barWidth-1)
	b.Over = have < want
	b.Text = fmt.Sprintf("%s%s of %s%s requested", num(have), unit, num(want), unit)
	if b.Over {
		b.Text += " — short"
	}
	return b
}

// badgeClass is a state's badge class: ok, wait or bad.
func badgeClass(state string) string {
	switch state {
	case "applied", "in_sync", "ACTIVE", "READY", "ASSIGNED", "reachable":
		return "badge ok"
	case "failed", "rolled_back", "blocked", "drifted", "DESTROY_FAILED", "UNHEALTHY", "unreachable":
		return "badge bad"
	}
	return "badge wait"
}

// parseNumber reads a positive revision number from a path or form.
func parseNumber(field, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, purser.Invalid(purser.FieldError{Field: field, Rule: "minimum", Message: "must be a revision number, 1 or more"})
	}
	return n, nil
}

// redirect answers a form with a 303 to where the result shows.
func redirect(w http.ResponseWriter, r *http.Request, to templ.SafeURL) {
	http.Redirect(w, r, string(to), http.StatusSeeOther)
}

// stale turns a stale If-Match (EPRECONDITION, which pages do not map to
// a status) into the conflict it is for a person: another change landed
// first; its message says so.
func stale(err error) error {
	if purser.ErrorCode(err) == purser.EPRECONDITION {
		return purser.Errorf(purser.ECONFLICT, "%s", purser.ErrorMessage(err))
	}
	return err
}

// orDash is s, or a dash for nothing.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// liveAttrs make the live part of a stack's page ask for itself again
// every second while something moves, and stop once all is settled (or,
// after a deploy, once it has followed for Follow seconds).
func liveAttrs(d liveData) templ.Attributes {
	if !d.Moving && d.Follow == 0 {
		return templ.Attributes{}
	}
	u := string(stackURL(d.Cluster, "live"))
	if d.Follow > 1 {
		u += "?follow=" + strconv.Itoa(d.Follow-1)
	}
	return templ.Attributes{"hx-get": u, "hx-trigger": "every 1s", "hx-swap": "outerHTML"}
}

// errClass is a form field's class: invalid when the server refused it.
func errClass(msg string) string {
	if msg != "" {
		return "field invalid"
	}
	return "field"
}

// errAttrs tie an input to the server's message about it.
func errAttrs(id, msg string) templ.Attributes {
	if msg == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": id + "-error"}
}

// editorAttrs tie the editor's textarea to its help and faults.
func editorAttrs(d editorData) templ.Attributes {
	a := templ.Attributes{"aria-describedby": "stackfile-help"}
	if len(d.Errors) > 0 {
		a["aria-invalid"], a["aria-describedby"] = "true", "stackfile-errors stackfile-help"
	}
	return a
}

// tagsAttrs make the tag picker ask for the registry's tags once the page
// has loaded.
func tagsAttrs(d serviceData) templ.Attributes {
	return templ.Attributes{"hx-get": string(stackURL(d.Cluster, "services", d.Service.Name, "tags")), "hx-trigger": "load", "hx-swap": "outerHTML"}
}
