// Package client is the public Go client of Purser's HTTP API. The purser
// CLI uses nothing else to talk to a server.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// Error returns the problem: its status and detail, then one line per
// field error with the field's path (without the "body." the API prefixes
// it with) and the rule it breaks.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, e.Title)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, f := range e.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", strings.TrimPrefix(f.Location, "body."), f.Message)
	}
	return b.String()
}

// StatusCode returns err's HTTP status, or 0 when err is not an *Error.
func StatusCode(err error) int {
	if e, ok := err.(*Error); ok {
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
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if method == http.MethodPatch {
			req.Header.Set("Content-Type", "application/merge-patch+json")
		}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.UserAgent)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		e := &Error{}
		if json.Unmarshal(data, e) != nil || e.Status == 0 {
			e = &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(data))}
		}
		return e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer from %s %s: %w", method, path, err)
		}
	}
	return nil
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

// ListMeta is a page's position.
type ListMeta struct {
	Page       int `json:"page"`
	MaxResults int `json:"max_results"`
	Total      int `json:"total"`
}

// List is one page of a collection.
type List[T any] struct {
	Items []T             `json:"_items"`
	Meta  ListMeta        `json:"_meta"`
	Links map[string]Link `json:"_links"`
}

// ListOptions selects a page: Where is a JSON filter, Sort "-field,field".
type ListOptions struct {
	Where      string
	Sort       string
	Page       int
	MaxResults int
	Embedded   string
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
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// APIPath is the base path of the API.
const APIPath = "/api/v1"
