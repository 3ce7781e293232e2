package main

import (
	"strings"
	"testing"
)

// TestUIConfig: the UI's keys come from the environment (lists
// comma-separated), and a bad OIDC setting is refused naming its key.
func TestUIConfig(t *testing.T) {
	c, err := LoadConfig("", []string{"PURSER_UI_INSECURE_COOKIES=true", "PURSER_UI_OIDC_ISSUER=https://idp.example",
		"PURSER_UI_OIDC_CLIENT_ID=purser", "PURSER_UI_OIDC_CLIENT_SECRET=s", "PURSER_UI_OIDC_GROUP_ROLES=ops=devops, admins=admin",
		"PURSER_UI_OIDC_DEFAULT_ROLES=dev", "PURSER_PUBLIC_URL=https://purser.example"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.UI.InsecureCookies || len(c.UI.OIDC.GroupRoles) != 2 || c.UI.OIDC.DefaultRoles[0] != "dev" {
		t.Fatalf("ui config: %+v", c.UI)
	}
	p := c.UI.OIDC.provider(c.PublicURL)
	if p == nil || p.RedirectURL() != "https://purser.example/signin/oidc/callback" || p.Name() != "single sign-on" {
		t.Fatalf("provider: %+v", p)
	}
	for env, want := range map[string]string{
		"PURSER_UI_OIDC_GROUP_ROLES=ops":    "ui.oidc.group_roles",
		"PURSER_UI_OIDC_CLIENT_ID=":         "ui.oidc.client_id",
		"PURSER_UI_OIDC_ISSUER=idp.example": "ui.oidc.issuer",
	} {
		base := []string{"PURSER_UI_OIDC_ISSUER=https://idp.example", "PURSER_UI_OIDC_CLIENT_ID=purser"}
		_, err := LoadConfig("", append(base, env))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %s", env, err, want)
		}
	}
}
