package ui

import (
	"net/url"
	"strings"

	"github.com/a-h/templ"
)

// The *.templ files are the pages; `tools/templ.sh` compiles them into
// the *_templ.go files beside them (committed, so that a build needs no
// tool). These are the small computations the templates call.

// requestURL is the path of a request's page, or of one of its sub-pages
// (live, outputs, act, ...): a path of ours, the id escaped.
func requestURL(id, sub string) templ.SafeURL {
	u := "/requests/" + url.PathEscape(id)
	if sub != "" {
		u += "/" + sub
	}
	return templ.SafeURL(u)
}

// catalogURL is the path of a template's request form.
func catalogURL(id string) templ.SafeURL {
	return templ.SafeURL("/catalog/" + url.PathEscape(id))
}

// barClass is a quota bar's class: over the limit or not.
func barClass(b fitBar) string {
	if b.Over {
		return "bar over"
	}
	return "bar"
}

// cardClass is an inbox item's class.
func cardClass(unread bool) string {
	if unread {
		return "card unread"
	}
	return "card"
}

// fieldClass is a form field's class: invalid when the server refused it.
func fieldClass(f field) string {
	if f.Error != "" {
		return "field invalid"
	}
	return "field"
}

// plural is "s" unless n is 1: "0 requests", "1 request", "2 requests".
func plural(n int) string {
	if n != 1 {
		return "s"
	}
	return ""
}

// describe ties an input to its help and error (aria-describedby) and
// marks it invalid.
func describe(f field) templ.Attributes {
	a := templ.Attributes{}
	var ids []string
	if f.Help != "" {
		ids = append(ids, f.ID+"-help")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
		a["aria-invalid"] = "true"
	}
	if len(ids) > 0 {
		a["aria-describedby"] = strings.Join(ids, " ")
	}
	return a
}

// inputLimits are a number input's min, max and step, when set.
func inputLimits(f field) templ.Attributes {
	a := templ.Attributes{}
	for k, v := range map[string]string{"min": f.Min, "max": f.Max, "step": f.Step} {
		if v != "" {
			a[k] = v
		}
	}
	return a
}

// when is s if cond holds, else nothing: optional words in a text.
func when(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}
