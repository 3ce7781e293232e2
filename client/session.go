package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// PasswordSet is the body of PUT /users/{id}/password.
type PasswordSet struct {
	Password string `json:"password" minLength:"12" maxLength:"256" doc:"The new password, 12 to 256 characters. The user's web sessions end."`
}

// SignInLink is a one-time link for a user's first sign-in to the web UI.
type SignInLink struct {
	User      string    `json:"user" doc:"The _id of the user the link signs in."`
	Path      string    `json:"path" doc:"The link's path on this server; open it in a browser to set a password and sign in. It is shown this once."`
	ExpiresAt time.Time `json:"expires_at"`
}

// SetPassword sets a user's web UI password (one's own, or anyone's for
// admins).
func (c *Client) SetPassword(ctx context.Context, user, password string) error {
	return c.Do(ctx, http.MethodPut, APIPath+"/users/"+url.PathEscape(user)+"/password", PasswordSet{Password: password}, nil)
}

// CreateSignInLink makes a one-time sign-in link for a user (admins).
func (c *Client) CreateSignInLink(ctx context.Context, user string) (*SignInLink, error) {
	var l SignInLink
	return &l, c.Do(ctx, http.MethodPost, APIPath+"/users/"+url.PathEscape(user)+"/signInLinks", nil, &l)
}
