package kubernetes

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser"
)

// kubeconfigWith returns a kubeconfig of inline data, with extra lines
// added to its cluster, user and top level.
func kubeconfigWith(cluster, user, top string) string {
	return `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: k
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTg==
    tls-server-name: kube.internal
` + cluster + `contexts:
- name: c
  context: {cluster: k, user: u, namespace: default}
users:
- name: u
  user:
    token: abc
` + user + top
}

func TestCheckKubeconfig(t *testing.T) {
	tests := []struct {
		name               string
		cluster, user, top string // lines added to kubeconfigWith's
		kc                 string // a whole kubeconfig instead
		field, rule        string // the one FieldError expected; "" for none
	}{
		{name: "OKInlineData"},
		{name: "OKInlineClientCertificate", user: "    client-certificate-data: LS0t\n    client-key-data: LS0t\n"},
		{name: "OKBasicAuth", user: "    username: u\n    password: p\n"},
		{name: "OKInsecureAndExtensions", cluster: "    insecure-skip-tls-verify: true\n    extensions: [{name: x, extension: {a: 1}}]\n"},
		{name: "OKEmptyFileFields", user: "    tokenFile: \"\"\n    exec: null\n"},
		{name: "ErrExec", user: "    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, id]}\n",
			field: "kubeconfig.users[0].user.exec", rule: "no_plugin"},
		{name: "ErrAuthProvider", user: "    auth-provider: {name: oidc}\n", field: "kubeconfig.users[0].user.auth-provider", rule: "no_plugin"},
		{name: "ErrTokenFile", user: "    tokenFile: /var/lib/purser/secret.key\n", field: "kubeconfig.users[0].user.tokenFile", rule: "inline_only"},
		{name: "ErrClientCertificate", user: "    client-certificate: /etc/passwd\n", field: "kubeconfig.users[0].user.client-certificate", rule: "inline_only"},
		{name: "ErrClientKey", user: "    client-key: /etc/shadow\n", field: "kubeconfig.users[0].user.client-key", rule: "inline_only"},
		{name: "ErrCertificateAuthority", cluster: "    certificate-authority: /etc/ssl/ca.pem\n", field: "kubeconfig.clusters[0].cluster.certificate-authority", rule: "inline_only"},
		{name: "ErrProxyURL", cluster: "    proxy-url: http://169.254.169.254\n", field: "kubeconfig.clusters[0].cluster.proxy-url", rule: "not_allowed"},
		{name: "ErrImpersonateUser", user: "    as: admin\n", field: "kubeconfig.users[0].user.as", rule: "not_allowed"},
		{name: "ErrImpersonateUID", user: "    as-uid: \"0\"\n", field: "kubeconfig.users[0].user.as-uid", rule: "not_allowed"},
		{name: "ErrImpersonateGroups", user: "    as-groups: [system:masters]\n", field: "kubeconfig.users[0].user.as-groups", rule: "not_allowed"},
		{name: "ErrImpersonateExtra", user: "    as-user-extra: {a: [b]}\n", field: "kubeconfig.users[0].user.as-user-extra", rule: "not_allowed"},
		{name: "ErrUnknownUserField", user: "    Exec: {command: id}\n", field: "kubeconfig.users[0].user.Exec", rule: "unknown_field"},
		{name: "ErrUnknownTopField", top: "future: {command: id}\n", field: "kubeconfig.future", rule: "unknown_field"},
		{name: "ErrUsersNotAList", kc: "clusters: []\nusers: {u: {exec: {}}}\n", field: "kubeconfig.users", rule: "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc := tt.kc
			if kc == "" {
				kc = kubeconfigWith(tt.cluster, tt.user, tt.top)
			}
			_, err := CheckKubeconfig([]byte(kc))
			var got []purser.FieldError
			var pe *purser.Error
			if errors.As(err, &pe) {
				if pe.Code != purser.EINVALID {
					t.Fatalf("code %s, want %s", pe.Code, purser.EINVALID)
				}
				got = pe.Fields
			} else if err != nil {
				t.Fatalf("err %v, want a purser.Error", err)
			}
			var want []purser.FieldError
			if tt.field != "" {
				want = []purser.FieldError{{Field: tt.field, Rule: tt.rule}}
			}
			for i := range got {
				got[i].Message = ""
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("refused fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckKubeconfigNamesEveryFault(t *testing.T) {
	kc := kubeconfigWith("    proxy-url: http://10.0.0.2\n", "    exec: {command: id}\n    tokenFile: /x\n", "")
	_, err := CheckKubeconfig([]byte(kc))
	var pe *purser.Error
	if !errors.As(err, &pe) || len(pe.Fields) != 3 {
		t.Fatalf("err %v, want three refused fields", err)
	}
}

func TestCheckKubeconfigNotAKubeconfig(t *testing.T) {
	for _, data := range []string{"", "[unclosed", "- a list"} {
		_, err := CheckKubeconfig([]byte(data))
		if purser.ErrorCode(err) != purser.EINVALID {
			t.Errorf("%q: err %v, want invalid", data, err)
		}
	}
}

// TestRESTConfigRefusesStoredExec stands for a kubeconfig stored before
// kubeconfigs were checked: building a client from it must refuse, and
// run nothing.
func TestRESTConfigRefusesStoredExec(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	kc := kubeconfigWith("", "    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'touch "+marker+"']}\n", "")
	_, err := RESTConfig(&purser.Cluster{Name: "old", Kind: purser.ClusterKubernetes, Kubeconfig: kc})
	if err == nil || !strings.Contains(err.Error(), "kubeconfig.users[0].user.exec") || !strings.Contains(err.Error(), "cluster old") {
		t.Fatalf("err %v, want a refusal naming the cluster and the field", err)
	}
	if _, err := Probe(t.Context(), &purser.Cluster{Name: "old", Kind: purser.ClusterKubernetes, Kubeconfig: kc}); err == nil {
		t.Fatal("probed a kubeconfig with an exec plugin")
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the exec plugin ran: %v", err)
	}
}

func TestRESTConfigInlineKubeconfig(t *testing.T) {
	kc := kubeconfigWith("", "", "")
	cfg, err := RESTConfig(&purser.Cluster{Name: "k", Kind: purser.ClusterKubernetes, Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://10.0.0.1:6443" || cfg.BearerToken != "abc" || cfg.ServerName != "kube.internal" || string(cfg.CAData) != "-----BEGIN" {
		t.Fatalf("config %+v", cfg)
	}
}
