package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newMeta(id string, created, updated time.Time, etag, collection, title string) Meta {
	return Meta{
		ID: id, Created: created, Updated: updated, ETag: etag,
		Links: map[string]link{
			"self":       {Href: BasePath + "/" + collection + "/" + url.PathEscape(id), Title: title},
			"collection": {Href: BasePath + "/" + collection, Title: collection},
		},
	}
}

// ListParams are the query parameters every list takes.
type ListParams struct {
	Where      string `query:"where" doc:"JSON filter on documented fields: equality, or $in, $ne, $gt, $gte, $lt, $lte. Example: {\"is_active\":true,\"username\":{\"$in\":[\"aaa\",\"bbb\"]}}"`
	Sort       string `query:"sort" doc:"Comma-separated fields; a leading - sorts descending. Example: -_created,username"`
	Page       int    `query:"page" minimum:"1" maximum:"1000000" default:"1" doc:"Page number, from 1 to 1000000."`
	MaxResults int    `query:"max_results" minimum:"1" maximum:"200" default:"25" doc:"Items per page."`
	Embedded   string `query:"embedded" doc:"JSON object naming relations to embed under _embedded. Example: {\"roles\":1}"`
	After      string `query:"after" doc:"Cursor of the page to read, as the previous page's _links.next carries it. A page read by cursor costs the same at any depth, where page= reads and skips every item before the page; give page or after, not both. Lists sorted on a field that may be empty page by number only."`
	Total      string `query:"total" enum:"true,false" doc:"Whether _meta.total counts the items matching where. By default numbered pages count (a count is kept for up to 5 s, and until the next write on this server, so that it costs no more than the page) and pages read by cursor do not."`
}

func (p ListParams) query(fields purser.Fields) (purser.Query, error) {
	q, err := purser.ParseQuery(p.Where, p.Sort, p.Page, p.MaxResults, fields)
	q.After = p.After
	q.SkipTotal = p.Total == "false" || (p.After != "" && p.Total != "true")
	return q, err
}

// listMetaOf is the _meta of the page q selected.
func listMetaOf(q purser.Query, info purser.PageInfo) listMeta {
	m := listMeta{Page: q.Page, MaxResults: q.MaxResults}
	if q.After != "" {
		m.Page = 0
	}
	if info.Total >= 0 {
		total := info.Total
		m.Total = &total
	}
	return m
}

// embedded parses the embedded parameter against the relations a
// collection can embed.
func (p ListParams) embedded(allowed ...string) (map[string]bool, error) {
	return parseEmbedded(p.Embedded, allowed...)
}

func parseEmbedded(raw string, allowed ...string) (map[string]bool, error) {
	out := map[string]bool{}
	if raw == "" {
		return out, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, &purser.Error{Code: purser.EBADREQUEST, Message: "embedded: must be a JSON object such as {\"roles\":1}",
			Fields: []purser.FieldError{{Field: "embedded", Rule: "format", Message: "must be a JSON object"}}}
	}
	for k, v := range m {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return nil, &purser.Error{Code: purser.EBADREQUEST, Message: fmt.Sprintf("embedded: %q cannot be embedded here; embeddable: %v", k, allowed),
				Fields: []purser.FieldError{{Field: "embedded", Rule: "allowed", Message: fmt.Sprintf("%q is not embeddable", k)}}}
		}
		if v == true || v == float64(1) {
			out[k] = true
		}
	}
	return out, nil
}

// pageLinks returns a collection's links, keeping the caller's filter and
// sort. next carries the cursor of the following page wherever the sort
// allows one; prev and last are numbered, and given on numbered pages
// only (last when the total was counted).
func pageLinks(name string, p ListParams, info purser.PageInfo) map[string]link {
	href := func(page int, after string) string {
		q := url.Values{}
		if p.Where != "" {
			q.Set("where", p.Where)
		}
		if p.Sort != "" {
			q.Set("sort", p.Sort)
		}
		if p.Embedded != "" {
			q.Set("embedded", p.Embedded)
		}
		if p.Total != "" {
			q.Set("total", p.Total)
		}
		q.Set("max_results", strconv.Itoa(p.MaxResults))
		if after != "" {
			q.Set("after", after)
		} else {
			q.Set("page", strconv.Itoa(page))
		}
		return BasePath + "/" + name + "?" + q.Encode()
	}
	links := map[string]link{
		"self":   {Href: href(p.Page, p.After), Title: name},
		"parent": {Href: BasePath, Title: "home"},
	}
	switch {
	case info.Next != "":
		links["next"] = link{Href: href(0, info.Next), Title: "next page"}
	case info.More && p.After == "":
		links["next"] = link{Href: href(p.Page+1, ""), Title: "next page"}
	}
	if p.After != "" {
		links["first"] = link{Href: href(1, ""), Title: "first page"}
		return links
	}
	if p.Page > 1 {
		links["prev"] = link{Href: href(p.Page-1, ""), Title: "previous page"}
	}
	if info.Total >= 0 {
		last := max((info.Total+p.MaxResults-1)/p.MaxResults, 1)
		links["last"] = link{Href: href(last, ""), Title: "last page"}
	}
	return links
}

// cacheable documents, on a single-document GET, the conditional request
// internal/httpserver answers for every answer with an ETag: If-None-Match
// naming the document's current _etag gets 304 and no body.
func cacheable(o huma.Operation) huma.Operation {
	o.Parameters = append(o.Parameters, &huma.Param{Name: "If-None-Match", In: "header", Schema: &huma.Schema{Type: "string"},
		Description: "The _etag (quoted, as in the ETag header) you hold; 304 Not Modified if the document still has it."})
	if o.Responses == nil {
		o.Responses = map[string]*huma.Response{}
	}
	o.Responses["304"] = &huma.Response{Description: "Not Modified: the document still has the ETag in If-None-Match."}
	return o
}

// etagOf quotes an entity tag for the ETag header.
func etagOf(tag string) string { return `"` + tag + `"` }

// counted is the total of a list that is never paged.
func counted(n int) *int { return &n }
