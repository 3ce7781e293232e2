package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/purserhq/purser/client"
)

// Key/value views of single documents, and the tables of a request's
// outputs and of audit events, for table output; -o json and -o yaml give
// the documents themselves.

func kv(w io.Writer, key, value string) { fmt.Fprintf(w, "%s:\t%s\n", key, value) }

func templateView(w io.Writer, t *client.Template) {
	drv := t.Driver
	if t.Simulated {
		drv += " (simulated: nothing real is made)"
	}
	kv(w, "ID", t.ID)
	kv(w, "NAME", t.Name)
	kv(w, "DESCRIPTION", dash(t.Description))
	kv(w, "DRIVER", drv)
	kv(w, "RESOURCE TYPE", t.ResourceType)
	kv(w, "REVISION", strconv.Itoa(t.Revision))
	kv(w, "ACTIVE", yesNo(t.IsActive))
	ttl := hours(t.TTLDefaultHours) + " by default, at most " + hours(t.TTLMaxHours)
	if t.ExtensionMaxHours > 0 {
		ttl += "; one extension of up to " + hours(t.ExtensionMaxHours)
	}
	kv(w, "LIFETIME", ttl)
	kv(w, "APPROVAL", approvalString(t.Approval))
	kv(w, "FOOTPRINT", dash(mapString(t.Footprint)))
	kv(w, "UPDATED", when(t.Updated))
	if len(t.Params) == 0 {
		return
	}
	fmt.Fprintln(w, "\nPARAMETER\tTYPE\tREQUIRED\tDEFAULT\tRULE\tDESCRIPTION")
	for _, p := range t.Params {
		m, _ := p.(map[string]any)
		var rule []string
		if s, ok := m["pattern"].(string); ok && s != "" {
			rule = append(rule, "pattern "+s)
		}
		if o, ok := m["options"].([]any); ok && len(o) > 0 {
			rule = append(rule, "one of "+joinAny(o, ","))
		}
		if v, ok := m["min"].(float64); ok {
			rule = append(rule, "min "+num(v))
		}
		if v, ok := m["max"].(float64); ok {
			rule = append(rule, "max "+num(v))
		}
		req, _ := m["required"].(bool)
		def := "-"
		if d, ok := m["default"]; ok && d != nil {
			def = valueString(d)
		}
		if s, _ := m["secret"].(bool); s {
			rule = append(rule, "secret")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", valueString(m["name"]), valueString(m["type"]), yesNo(req), def,
			dash(strings.Join(rule, "; ")), dash(valueString(m["description"])))
	}
}

func approvalString(a map[string]any) string {
	mode, _ := a["mode"].(string)
	n, _ := a["approvers"].(float64)
	if n < 1 {
		n = 1
	}
	s := "by DevOps or an admin, " + num(n) + " approver"
	if n > 1 {
		s += "s"
	}
	if mode == "auto" {
		lim, _ := a["auto_max"].(map[string]any)
		s = "automatic within " + dash(mapString(lim)) + " and the quota; otherwise " + s
	}
	return s
}

func hours(h float64) string {
	if h <= 0 {
		return "-"
	}
	return humanDuration(time.Duration(h * float64(time.Hour)))
}

func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return num(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func joinAny(l []any, sep string) string {
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = valueString(v)
	}
	return strings.Join(s, sep)
}

// mapString prints a map as k=v, sorted by key.
func mapString(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + valueString(m[k])
	}
	return strings.Join(parts, " ")
}

func requestView(w io.Writer, r *client.Request) {
	kv(w, "ID", r.ID)
	kv(w, "TEMPLATE", fmt.Sprintf("%s (revision %d)", nameOr(r.TemplateName, r.ResourceTemplate), r.TemplateRevision))
	kv(w, "STATUS", r.Status)
	kv(w, "TYPE", dash(r.RequestType))
	kv(w, "REQUESTED BY", nameOr(r.RequestedByName, r.RequestedBy))
	kv(w, "DESCRIPTION", dash(r.Description))
	kv(w, "PARAMETERS", dash(mapString(r.ResourceParameters)))
	if r.ReviewedBy != "" || r.ReviewComment != "" {
		kv(w, "REVIEWED BY", dash(nameOr(r.ReviewedByName, r.ReviewedBy)))
		kv(w, "REVIEW COMMENT", dash(r.ReviewComment))
	}
	kv(w, "CREATED", when(r.Created)+" ("+since(&r.Created)+")")
	exp := when(r.ExpiresBy) + " (" + since(&r.ExpiresBy) + ")"
	if r.Extended {
		exp += ", extended"
	}
	kv(w, "EXPIRES", exp)
	kv(w, "FOOTPRINT", fmt.Sprintf("cores %s, memory %s GiB", num(r.Footprint.Cores), num(r.Footprint.Memory)))
	kv(w, "COST", fmt.Sprintf("%.2f/h; estimated %.2f until it expires", r.Footprint.CostPerHour, r.EstimatedCost))
	if r.HasOutputs {
		kv(w, "OUTPUTS", "purser requests get "+r.ID+" --outputs")
	}
	if r.LastError != "" {
		kv(w, "LAST ERROR", r.LastError)
	}
	if r.Quota != nil {
		fits := "fits the requester's quota"
		if !r.Quota.Fits {
			fits = "does NOT fit the requester's quota"
		}
		fmt.Fprintf(w, "\nQUOTA (%s)\tLIMIT\tUSED\tPENDING\tASKED\tFITS\n", fits)
		for _, q := range r.Quota.Checks {
			lim := "-"
			if q.Limit != nil {
				lim = num(*q.Limit)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", q.Dimension, lim, num(q.Used), num(q.Pending), num(q.Asked), yesNo(q.Fits))
		}
	}
}

// outputsTable prints outputs one a row; a value of several lines (a
// kubeconfig, a certificate) would break the table, so its row says how
// many lines it has and how to get it whole.
func outputsTable(w io.Writer, id string, out map[string]string) {
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	row(w, "OUTPUT", "VALUE")
	for _, k := range keys {
		v := out[k]
		if n := strings.Count(strings.TrimRight(v, "\n"), "\n") + 1; n > 1 {
			get := "purser requests get " + id + " -o json"
			if k == "kubeconfig" {
				get = "purser requests kubeconfig " + id + " > kubeconfig.yaml"
			}
			v = fmt.Sprintf("(%d lines: %s)", n, get)
		}
		row(w, k, v)
	}
}

func eventTable(w io.Writer, events []client.Event) {
	row(w, "WHEN", "ACTOR", "ACTION", "TARGET", "CHANGE")
	for _, e := range events {
		change := eventChange(e)
		actor := nameOr(e.ActorName, e.Actor)
		if e.ActingFor != "" {
			actor += " for " + nameOr(e.ActingName, e.ActingFor)
		}
		row(w, e.Created.Local().Format("2006-01-02 15:04:05 MST"), actor, e.Action, e.TargetType+"/"+nameOr(e.TargetName, e.TargetID), change)
	}
}

// eventChange says what an audit event changed: a status, an expiry
// (extensions), approvals so far.
func eventChange(e client.Event) string {
	var parts []string
	if b, a := e.Before["status"], e.After["status"]; a != nil && b != a {
		parts = append(parts, fmt.Sprintf("%v -> %v", dashAny(b), a))
	}
	bs, _ := e.Before["expires_by"].(string)
	as, _ := e.After["expires_by"].(string)
	if as != "" && bs != "" && as != bs {
		at, aerr := time.Parse(time.RFC3339Nano, as)
		bt, berr := time.Parse(time.RFC3339Nano, bs)
		switch {
		case aerr != nil:
		case berr != nil:
			parts = append(parts, "expires "+when(at))
		default:
			d := at.Sub(bt)
			sign := "+"
			if d < 0 {
				sign = "-"
			}
			parts = append(parts, fmt.Sprintf("expires %s -> %s (%s%s)", when(bt), when(at), sign, humanDuration(d)))
		}
	}
	if n, ok := e.After["approvals"]; ok {
		parts = append(parts, fmt.Sprintf("approvals %v of %v", valueString(n), valueString(e.After["needed"])))
	}
	return strings.Join(parts, "; ")
}

// nameOr is a person's or template's name, or its id when the server
// sent no name.
func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func dashAny(v any) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(v)
}
