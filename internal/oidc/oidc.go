// Package oidc signs people in with an OpenID Connect provider: the
// authorization code flow with state, nonce and PKCE (S256), the ID token
// verified (RS256 and the provider's other keys, from its JWKS) by
// github.com/coreos/go-oidc, and its claims turned into a purser.Identity.
// The web UI keeps state, nonce and verifier between the two legs; this
// package makes and checks them.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/purserhq/purser"
)

// Config is a provider's registration.
type Config struct {
	// Name is what the sign-in button says: "Sign in with <Name>".
	Name string
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this server's callback, PUBLIC_URL/signin/oidc/callback;
	// "" leaves it to each Flow.
	RedirectURL string
	// Scopes asked for beyond openid; nil is profile, email and groups.
	Scopes []string
	// GroupsClaim names the ID token claim that lists the user's groups;
	// "" is "groups".
	GroupsClaim string
	// GroupRoles maps groups to roles; DefaultRoles are the roles of a
	// user in no mapped group. Without GroupRoles, roles are managed in
	// Purser and a new user gets DefaultRoles.
	GroupRoles   purser.GroupRoles
	DefaultRoles []string
	// HTTPClient makes the calls to the provider; nil is one with a
	// 10-second timeout.
	HTTPClient *http.Client
}

// Provider is one configured OpenID Connect provider. It discovers the
// provider on first use (and again after a failure), so that a provider
// that is down does not stop the server from starting.
type Provider struct {
	cfg    Config
	client *http.Client

	mu       sync.Mutex
	provider *gooidc.Provider
}

// New returns the provider of cfg.
func New(cfg Config) *Provider {
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"profile", "email", "groups"}
	}
	c := cfg.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	return &Provider{cfg: cfg, client: c}
}

// Name is the provider's display name.
func (p *Provider) Name() string { return p.cfg.Name }

func (p *Provider) discover(ctx context.Context) (*gooidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	pr, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", p.cfg.Issuer, err)
	}
	p.provider = pr
	return pr, nil
}

// RedirectURL is the configured callback, or "".
func (p *Provider) RedirectURL() string { return p.cfg.RedirectURL }

func (p *Provider) oauth2(pr *gooidc.Provider, f Flow) *oauth2.Config {
	redirect := p.cfg.RedirectURL
	if f.Redirect != "" {
		redirect = f.Redirect
	}
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, RedirectURL: redirect,
		Endpoint: pr.Endpoint(), Scopes: append([]string{gooidc.ScopeOpenID}, p.cfg.Scopes...)}
}

// Flow is one sign-in's secrets, kept by the browser between the
// redirect to the provider and the callback: the state the callback must
// echo, the nonce the ID token must hold, and the PKCE verifier; and the
// callback URL, when the configuration names none.
type Flow struct {
	State, Nonce, Verifier string
	Redirect               string
}

// NewFlow makes a sign-in's random secrets.
func NewFlow() Flow {
	return Flow{State: purser.NewSecret(""), Nonce: purser.NewSecret(""), Verifier: oauth2.GenerateVerifier()}
}

// AuthURL is where the browser goes to sign in at the provider.
func (p *Provider) AuthURL(ctx context.Context, f Flow) (string, error) {
	pr, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return p.oauth2(pr, f).AuthCodeURL(f.State, gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), nil
}

// ErrRefused is a sign-in the provider or its token refused: a person's
// failure to sign in, not the server's.
var ErrRefused = errors.New("oidc: sign-in refused")

// claims are the ID token's claims Purser reads; the groups claim, whose
// name is configured, is read apart.
type claims struct {
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	Email             string `json:"email"`
	EmailVerified     bool   `json:"email_verified"`
}

// Exchange trades the callback's code for the ID token, verifies it
// (signature, issuer, audience, expiry, nonce) and returns the identity
// it names, with its roles decided by the group mapping.
func (p *Provider) Exchange(ctx context.Context, f Flow, code string) (purser.Identity, error) {
	pr, err := p.discover(ctx)
	if err != nil {
		return purser.Identity{}, err
	}
	ctx = gooidc.ClientContext(ctx, p.client)
	tok, err := p.oauth2(pr, f).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return purser.Identity{}, fmt.Errorf("%w: token endpoint: %s", ErrRefused, re.ErrorCode)
		}
		return purser.Identity{}, fmt.Errorf("exchange code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return purser.Identity{}, fmt.Errorf("%w: the token response has no id_token", ErrRefused)
	}
	idt, err := pr.Verifier(&gooidc.Config{ClientID: p.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return purser.Identity{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if idt.Nonce != f.Nonce {
		return purser.Identity{}, fmt.Errorf("%w: the ID token's nonce does not match", ErrRefused)
	}
	var c claims
	var all map[string]any
	if err := idt.Claims(&c); err != nil {
		return purser.Identity{}, fmt.Errorf("%w: claims: %v", ErrRefused, err)
	}
	if err := idt.Claims(&all); err != nil {
		return purser.Identity{}, fmt.Errorf("%w: claims: %v", ErrRefused, err)
	}
	id := purser.Identity{Issuer: idt.Issuer, Subject: idt.Subject,
		Username: purser.IdentityUsername(c.PreferredUsername, c.Email, idt.Subject),
		Name:     c.Name, Email: c.Email, EmailVerified: c.EmailVerified,
		Roles: p.cfg.GroupRoles.Roles(groups(all[p.cfg.GroupsClaim]), p.cfg.DefaultRoles)}
	if id.Roles == nil {
		id.NewRoles = p.cfg.DefaultRoles
	}
	return id, nil
}

// groups reads a groups claim: a list of strings, or one string.
func groups(v any) []string {
	switch g := v.(type) {
	case string:
		return []string{g}
	case []any:
		out := make([]string, 0, len(g))
		for _, e := range g {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
