package kubernetes

import (
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser"
)

// A kubeconfig is data a DevOps user submits, and nothing they submit may
// run as code or read a file on the server (DESIGN.md, "Security model").
// client-go honours much more than data: an exec credential plugin or an
// auth-provider runs or loads code, tokenFile and the certificate and key
// paths read the server's files (a tokenFile of data_dir/secret.key sends
// the sealing key as a Bearer token to whatever server the kubeconfig
// names), proxy-url sends the server's traffic through a host of the
// submitter's choosing, and impersonation acts as someone the credentials
// do not name.
//
// CheckKubeconfig therefore works on the raw document, not on what
// clientcmd.Load makes of it: Load drops fields it does not know, so a
// check of its result would pass a field a later client-go learns to
// honour. Here every key must be on an allow list of inline data, and
// RESTConfig hands client-go the very document that was checked.

// Kubeconfig keys, per object, that are inline data and so accepted.
var (
	kubeconfigTop     = []string{"apiVersion", "kind", "clusters", "contexts", "users", "current-context", "preferences", "extensions"}
	kubeconfigCluster = []string{"server", "certificate-authority-data", "insecure-skip-tls-verify", "tls-server-name", "disable-compression", "extensions"}
	kubeconfigUser    = []string{"token", "client-certificate-data", "client-key-data", "username", "password", "extensions"}
	kubeconfigContext = []string{"cluster", "user", "namespace", "extensions"}
)

// kubeconfigRefused says why a known key is refused: its rule and message.
var kubeconfigRefused = map[string][2]string{
	"exec":                  {"no_plugin", "runs a command on the server; give a token or a client certificate inline"},
	"auth-provider":         {"no_plugin", "loads a credential plugin on the server; give a token or a client certificate inline"},
	"tokenFile":             {"inline_only", "reads a file on the server; give token inline"},
	"client-certificate":    {"inline_only", "reads a file on the server; give client-certificate-data inline"},
	"client-key":            {"inline_only", "reads a file on the server; give client-key-data inline"},
	"certificate-authority": {"inline_only", "reads a file on the server; give certificate-authority-data inline"},
	"proxy-url":             {"not_allowed", "would send the server's traffic through a proxy of your choosing; reach the API server directly"},
	"as":                    {"not_allowed", "impersonation is not allowed: give the credentials of the identity to use"},
	"as-uid":                {"not_allowed", "impersonation is not allowed: give the credentials of the identity to use"},
	"as-groups":             {"not_allowed", "impersonation is not allowed: give the credentials of the identity to use"},
	"as-user-extra":         {"not_allowed", "impersonation is not allowed: give the credentials of the identity to use"},
}

// CheckKubeconfig checks that a kubeconfig (YAML or JSON) holds only
// inline data, naming every refused field (kubeconfig.users[0].user.exec)
// in one purser.Error of code EINVALID. It returns the checked document as
// JSON: give client-go that, not the original. It does no I/O.
func CheckKubeconfig(data []byte) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil || doc == nil {
		msg := "is not a kubeconfig (YAML or JSON)"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, purser.Invalid(purser.FieldError{Field: "kubeconfig", Rule: "format", Message: msg})
	}
	var fe []purser.FieldError
	checkKeys(&fe, "kubeconfig", doc, kubeconfigTop)
	for _, l := range []struct {
		list, item string
		allowed    []string
	}{
		{"clusters", "cluster", kubeconfigCluster}, {"users", "user", kubeconfigUser}, {"contexts", "context", kubeconfigContext},
	} {
		field := "kubeconfig." + l.list
		items, ok := doc[l.list].([]any)
		if !ok {
			if doc[l.list] != nil {
				fe = append(fe, purser.FieldError{Field: field, Rule: "type", Message: "must be a list"})
			}
			continue
		}
		for i, it := range items {
			f := fmt.Sprintf("%s[%d]", field, i)
			m, ok := it.(map[string]any)
			if !ok {
				fe = append(fe, purser.FieldError{Field: f, Rule: "type", Message: "must be an object"})
				continue
			}
			checkKeys(&fe, f, m, []string{"name", l.item})
			inner, ok := m[l.item].(map[string]any)
			if !ok {
				if m[l.item] != nil {
					fe = append(fe, purser.FieldError{Field: f + "." + l.item, Rule: "type", Message: "must be an object"})
				}
				continue
			}
			checkKeys(&fe, f+"."+l.item, inner, l.allowed)
		}
	}
	if len(fe) > 0 {
		return nil, purser.Invalid(fe...)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return out, nil
}

// checkKeys adds a FieldError to fe for each key of m that is not allowed. A
// key whose value is null or "" sets nothing, and passes.
func checkKeys(fe *[]purser.FieldError, field string, m map[string]any, allowed []string) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if v := m[k]; v == nil || v == "" || slices.Contains(allowed, k) {
			continue
		}
		rule := [2]string{"unknown_field", "is not a field Purser accepts in a kubeconfig (inline data only)"}
		if r, ok := kubeconfigRefused[k]; ok {
			rule = r
		}
		*fe = append(*fe, purser.FieldError{Field: field + "." + k, Rule: rule[0], Message: rule[1]})
	}
}

// inlineOnly reports what of cfg would reach beyond inline data; it is the
// last guard after CheckKubeconfig, should client-go grow a default.
func inlineOnly(cfg *rest.Config) error {
	switch {
	case cfg.ExecProvider != nil, cfg.AuthProvider != nil:
		return fmt.Errorf("kubeconfig: a credential plugin is not allowed")
	case cfg.BearerTokenFile != "", cfg.CertFile != "", cfg.KeyFile != "", cfg.CAFile != "":
		return fmt.Errorf("kubeconfig: file paths are not allowed")
	case cfg.Proxy != nil:
		return fmt.Errorf("kubeconfig: proxy-url is not allowed")
	case cfg.Impersonate.UserName != "" || cfg.Impersonate.UID != "" || len(cfg.Impersonate.Groups) > 0 || len(cfg.Impersonate.Extra) > 0:
		return fmt.Errorf("kubeconfig: impersonation is not allowed")
	}
	return nil
}
