package client

import (
	"context"
	"net/http"
	"net/url"
)

// Extension is an extension request document.
type Extension struct {
	Meta
	ProvisionRequest string `json:"provision_request"`
	Reason           string `json:"reason"`
	ExtendBy         int    `json:"extend_by" doc:"Hours."`
	RequestedBy      string `json:"requested_by"`
	RequestedByName  string `json:"requested_by_username,omitempty" doc:"The requester's username."`
	ReviewedBy       string `json:"reviewed_by,omitempty"`
	ReviewedByName   string `json:"reviewed_by_username,omitempty" doc:"The reviewer's username."`
	ReviewComment    string `json:"review_comment,omitempty"`
	Status           string `json:"status" enum:"REQUESTED,APPROVED,REJECTED,REVOKED"`
}

// CreateExtension asks for more hours on a request.
func (c *Client) CreateExtension(ctx context.Context, requestID string, hours int, reason string) (*Extension, error) {
	var e Extension
	return &e, c.Do(ctx, http.MethodPost, APIPath+"/extensionRequests", map[string]any{"provision_request": requestID, "extend_by": hours, "reason": reason}, &e)
}

// ListExtensions returns a page of extension requests.
func (c *Client) ListExtensions(ctx context.Context, o ListOptions) (*List[Extension], error) {
	var l List[Extension]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/extensionRequests"+o.encode(), nil, &l)
}

// ReviewExtension approves or rejects an extension request.
func (c *Client) ReviewExtension(ctx context.Context, id string, approve bool, comment string) (*Extension, error) {
	var e Extension
	act := "reject"
	if approve {
		act = "approve"
	}
	return &e, c.Do(ctx, http.MethodPost, APIPath+"/extensionRequests/"+url.PathEscape(id)+"/"+act, map[string]string{"comment": comment}, &e)
}
