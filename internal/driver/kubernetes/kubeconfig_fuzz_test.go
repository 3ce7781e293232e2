package kubernetes

import (
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// FuzzCheckKubeconfig feeds kubeconfigs as a DevOps user might write them.
// Whatever CheckKubeconfig accepts, client-go must read as inline data only,
// both from the document it hands on and from the original: a parser that
// saw less than client-go does (a duplicate key, a YAML alias, another
// spelling) would let a plugin or a file path through.
func FuzzCheckKubeconfig(f *testing.F) {
	f.Add([]byte(kubeconfigWith("", "", "")))
	f.Add([]byte(kubeconfigWith("", "    exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}\n", "")))
	f.Add([]byte(kubeconfigWith("    proxy-url: http://10.0.0.2:3128\n", "", "")))
	f.Add([]byte(kubeconfigWith("", "    tokenFile: /var/lib/purser/secret.key\n", "")))
	f.Add([]byte(kubeconfigWith("", "    token: a\n    token: b\n", "")))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Config","users":[{"name":"u","user":{"auth-provider":{"name":"gcp"}}}]}`))
	f.Add([]byte("users:\n- name: u\n  user: &x {token: t}\n- name: v\n  user: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checked, err := CheckKubeconfig(data)
		if err != nil {
			return
		}
		for _, doc := range [][]byte{checked, data} {
			cfg, err := clientcmd.Load(doc)
			if err != nil {
				continue
			}
			for name, u := range cfg.AuthInfos {
				if u.Exec != nil || u.AuthProvider != nil || u.TokenFile != "" || u.ClientCertificate != "" || u.ClientKey != "" ||
					u.Impersonate != "" || u.ImpersonateUID != "" || len(u.ImpersonateGroups) > 0 || len(u.ImpersonateUserExtra) > 0 {
					t.Fatalf("accepted a kubeconfig whose user %q reaches beyond inline data:\n%s", name, doc)
				}
			}
			for name, c := range cfg.Clusters {
				if c.CertificateAuthority != "" || c.ProxyURL != "" {
					t.Fatalf("accepted a kubeconfig whose cluster %q reads a file or uses a proxy:\n%s", name, doc)
				}
			}
		}
	})
}
