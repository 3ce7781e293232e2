// Package client is the public Go client of Purser's HTTP API. The purser
// CLI uses nothing else to talk to a server.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/purserhq/purser"
)

// Client calls one Purser server.
type Client struct {
	BaseURL    string // e.g. http://127.0.0.1:8080
	Token      string
	HTTPClient *http.Client
	UserAgent  string
}

// New returns a client for the server at baseURL, authenticating with token.
func New(baseURL, token string) *Client {
	return &Client{
		BaseURL:    strings.TrimRight(baseURL, "/"),
		Token:      token,
		HTTPClient: &http.Client{Timeout: 60 * time.Second},
		UserAgent:  "purser-client/" + purser.Version,
	}
}

// FieldError is one entry of a problem's per-field list.
type FieldError struct {
	Message  string `json:"message"`
	Location string `json:"location"`
	Value    any    `json:"value,omitempty"`
}

// Error is an RFC 9457 problem document the server answered with.
type Error struct {
	Status int          `json:"status"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"`
}

// Error returns the problem as one line. A field error is named by its
// field (without huma's "body." prefix) and said once: when the detail
// only lists the field errors, the list is said instead.
var invalidSummary = regexp.MustCompile(`^\d+ invalid fields?$`)

func (e *Error) Error() string {
	var lines []string
	said := map[string]bool{}
	// The server's detail either repeats its field errors or only counts
	// them ("2 invalid fields"): either way the list says it all.
	covered := e.Detail != ""
	summary := invalidSummary.MatchString(e.Detail)
	for _, f := range e.Errors {
		loc := strings.TrimPrefix(f.Location, "body.")
		line := loc + ": " + f.Message
		if loc == "" {
			line = f.Message
		}
		if said[line] {
			continue
		}
		said[line] = true
		lines = append(lines, line)
		bare, _, _ := strings.Cut(line, " (rule: ")
		if !summary && !strings.Contains(e.Detail, bare) {
			covered = false
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, e.Title)
	switch {
	case covered && len(lines) > 0:
		b.WriteString(": " + strings.Join(lines, "; "))
	default:
		if e.Detail != "" {
			b.WriteString(": " + e.Detail)
		}
		for _, l := range lines {
			b.WriteString("; " + l)
		}
	}
	return b.String()
}

// UnreachableError is a failure to talk to the server at all: no answer,
// as opposed to an answer that is an error.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string { return fmt.Sprintf("cannot reach %s: %v", e.URL, e.Err) }
func (e *UnreachableError) Unwrap() error { return e.Err }

// IsUnreachable reports whether err is a failure to reach the server.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}

// StatusCode returns err's HTTP status, or 0 when err is not an *Error.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// RequestOption changes one request.
type RequestOption func(*http.Request)

// IfMatch makes a write conditional on the document's _etag.
func IfMatch(etag string) RequestOption {
	return func(r *http.Request) {
		if etag != "" {
			r.Header.Set("If-Match", `"`+strings.Trim(etag, `"`)+`"`)
		}
	}
}

// Do sends a request with a JSON body (nil for none) to path (relative to
// the server, e.g. /api/v1/users) and decodes a JSON answer into out (nil
// to discard). It returns *Error for answers of 400 and above.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...RequestOption) error {
	var raw []byte
	contentType := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		raw, contentType = b, "application/json"
		if method == http.MethodPatch {
			contentType = "application/merge-patch+json"
		}
	}
	data, err := c.DoRaw(ctx, method, path, contentType, raw, "application/json", opts...)
	if err != nil {
		return err
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer from %s %s: %w", method, path, err)
		}
	}
	return nil
}

// DoRaw sends body as contentType (none when body is nil), asks for
// accept, and returns the answer's body as it came: for documents that
// are not JSON, such as a stackfile in YAML. Errors are as Do's.
func (c *Client) DoRaw(ctx context.Context, method, path, contentType string, body []byte, accept string, opts ...RequestOption) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.UserAgent)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &UnreachableError{URL: c.BaseURL, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, &UnreachableError{URL: c.BaseURL, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode >= 400 {
		e := &Error{}
		if json.Unmarshal(data, e) != nil || e.Status == 0 {
			e = &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(data))}
		}
		return nil, e
	}
	return data, nil
}

// Link is a hypermedia link, as the seed's Eve API shaped them.
type Link struct {
	Href  string `json:"href"`
	Title string `json:"title,omitempty"`
}

// Meta is what every document carries.
type Meta struct {
	ID      string          `json:"_id" doc:"The document's id."`
	Created time.Time       `json:"_created" doc:"When it was created (RFC 3339)."`
	Updated time.Time       `json:"_updated" doc:"When it last changed (RFC 3339)."`
	ETag    string          `json:"_etag" doc:"Changes on every update; send it as If-Match to update safely."`
	Links   map[string]Link `json:"_links"`
}

// ListMeta is a page's position. Page is 0 on a page read by cursor
// (ListOptions.After); Total is nil when not counted (ListOptions.NoTotal,
// and cursor pages unless ListOptions.Total asks).
type ListMeta struct {
	Page       int  `json:"page,omitempty" doc:"The page's number; absent on a page read by cursor (after=)."`
	MaxResults int  `json:"max_results"`
	Total      *int `json:"total,omitempty" doc:"How many items match where; absent when not counted (total=false, and pages read by cursor unless total=true)."`
}

// List is one page of a collection.
type List[T any] struct {
	Items []T             `json:"_items"`
	Meta  ListMeta        `json:"_meta"`
	Links map[string]Link `json:"_links"`
}

// ListOptions selects a page: Where is a JSON filter, Sort "-field,field".
// After, the cursor of the previous page (List.NextCursor), reads the
// page after it at the same cost at any depth; give Page or After, not
// both. Total "true" or "false" asks for or skips the count of matching
// items; by default numbered pages count and cursor pages do not.
type ListOptions struct {
	Where      string
	Sort       string
	Page       int
	MaxResults int
	Embedded   string
	After      string
	Total      string
}

// NextCursor returns the cursor of the page after l (the after parameter
// of its next link), or "" when l is the last page or its next link is
// numbered.
func (l List[T]) NextCursor() string {
	next, ok := l.Links["next"]
	if !ok {
		return ""
	}
	u, err := url.Parse(next.Href)
	if err != nil {
		return ""
	}
	return u.Query().Get("after")
}

func (o ListOptions) encode() string {
	q := url.Values{}
	if o.Where != "" {
		q.Set("where", o.Where)
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
	if o.Page > 0 {
		q.Set("page", strconv.Itoa(o.Page))
	}
	if o.MaxResults > 0 {
		q.Set("max_results", strconv.Itoa(o.MaxResults))
	}
	if o.Embedded != "" {
		q.Set("embedded", o.Embedded)
	}
	if o.After != "" {
		q.Set("after", o.After)
	}
	if o.Total != "" {
		q.Set("total", o.Total)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// APIPath is the base path of the API.
const APIPath = "/api/v1"
