package main

import (
	"fmt"
	"strings"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/oidc"
)

// UIConfig is the web UI's configuration.
type UIConfig struct {
	// InsecureCookies leaves the Secure attribute off the UI's cookies
	// wherever the browser reaches the server: for plain http in local
	// development on an address other than loopback (at 127.0.0.1 and
	// localhost cookies are never Secure). Never in production.
	InsecureCookies bool       `koanf:"insecure_cookies" yaml:"insecure_cookies"`
	OIDC            OIDCConfig `koanf:"oidc" yaml:"oidc"`
}

// OIDCConfig is an OpenID Connect provider to sign in with; off unless
// issuer is set.
type OIDCConfig struct {
	// Name is the button's "Sign in with <name>"; "" is "single sign-on".
	Name         string `koanf:"name" yaml:"name"`
	Issuer       string `koanf:"issuer" yaml:"issuer"`
	ClientID     string `koanf:"client_id" yaml:"client_id"`
	ClientSecret string `koanf:"client_secret" yaml:"client_secret" secret:"true"`
	// RedirectURL is registered with the provider; "" is
	// public_url + /signin/oidc/callback, or without public_url the
	// callback on the host the browser reached (https, but http at
	// loopback addresses or with insecure_cookies).
	RedirectURL string `koanf:"redirect_url" yaml:"redirect_url"`
	// Scopes beyond openid; empty is profile, email, groups.
	Scopes []string `koanf:"scopes" yaml:"scopes"`
	// GroupsClaim is the ID token's claim listing groups; "" is groups.
	GroupsClaim string `koanf:"groups_claim" yaml:"groups_claim"`
	// GroupRoles maps groups to roles, as "group=role" entries
	// (PURSER_UI_OIDC_GROUP_ROLES takes them comma-separated). Set, the
	// provider manages roles: they are set again at every sign-in.
	GroupRoles []string `koanf:"group_roles" yaml:"group_roles"`
	// DefaultRoles are the roles of a user in no mapped group, or of a
	// new user when group_roles is empty.
	DefaultRoles []string `koanf:"default_roles" yaml:"default_roles"`
}

// validate checks the OIDC keys, naming the one at fault.
func (o OIDCConfig) validate() error {
	if o.Issuer == "" {
		return nil
	}
	if !strings.HasPrefix(o.Issuer, "https://") && !strings.HasPrefix(o.Issuer, "http://") {
		return fmt.Errorf("config: ui.oidc.issuer must be an http(s) URL")
	}
	if o.ClientID == "" {
		return fmt.Errorf("config: ui.oidc.client_id is required with ui.oidc.issuer")
	}
	_, err := o.groupRoles()
	return err
}

func (o OIDCConfig) groupRoles() (purser.GroupRoles, error) {
	m := purser.GroupRoles{}
	for _, e := range o.GroupRoles {
		g, r, ok := strings.Cut(e, "=")
		if !ok || strings.TrimSpace(g) == "" || strings.TrimSpace(r) == "" {
			return nil, fmt.Errorf("config: ui.oidc.group_roles entries must be group=role (got %q)", e)
		}
		m[strings.TrimSpace(g)] = strings.TrimSpace(r)
	}
	return m, nil
}

// provider is the configured OpenID Connect provider, or nil.
func (o OIDCConfig) provider(publicURL string) *oidc.Provider {
	if o.Issuer == "" {
		return nil
	}
	m, _ := o.groupRoles() // validated at load
	redirect := o.RedirectURL
	if redirect == "" && publicURL != "" {
		redirect = strings.TrimRight(publicURL, "/") + "/signin/oidc/callback"
	}
	name := o.Name
	if name == "" {
		name = "single sign-on"
	}
	var scopes []string
	if len(o.Scopes) > 0 {
		scopes = o.Scopes
	}
	return oidc.New(oidc.Config{Name: name, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: redirect,
		Scopes: scopes, GroupsClaim: o.GroupsClaim, GroupRoles: m, DefaultRoles: o.DefaultRoles})
}
