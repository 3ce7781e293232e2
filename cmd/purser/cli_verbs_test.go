package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The verbs issue 10 (items 11 and 12) found missing, run through Main
// against a real server: deleting and changing roles, deleting a template
// never used, changing a cluster; each refusal says why, with its exit code.
func TestCLIRoleTemplateClusterVerbs(t *testing.T) {
	url, admin := server(t)
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return asUser(t, url, admin, args...)
	}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(args...)
		if code != 0 {
			t.Fatalf("purser %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	exit := func(want int, wantErr string, args ...string) {
		t.Helper()
		code, out, errOut := run(args...)
		if code != want || !strings.Contains(errOut, wantErr) {
			t.Fatalf("purser %s: exit %d (want %d), stderr %q (want %q)\n%s", strings.Join(args, " "), code, want, errOut, wantErr, out)
		}
	}

	t.Run("Roles", func(t *testing.T) {
		must("roles", "create", "qa", "--description", "Quality")
		if out := must("roles", "update", "qa", "--description", "Quality assurance", "--active=false"); !strings.Contains(out, "Quality assurance") || !strings.Contains(out, "no") {
			t.Fatalf("roles update:\n%s", out)
		}
		exit(2, "nothing to change", "roles", "update", "qa")
		exit(5, "is_active", "roles", "update", "dev", "--active=false")
		exit(5, "built in", "roles", "delete", "dev")
		must("roles", "create", "ops")
		must("users", "create", "olga", "--role", "ops")
		exit(5, "olga", "roles", "delete", "ops")
		if code, out, errOut := cli(t, "__complete", "--server", url, "--token", admin, "roles", "delete", ""); code != 0 ||
			!strings.Contains(out, "qa\t") || !strings.Contains(out, "ops") || strings.Contains(out, "dev") {
			t.Fatalf("roles delete completes %d %q %s: want the roles not built in", code, out, errOut)
		}
		if out := must("roles", "delete", "qa"); !strings.Contains(out, "Role qa deleted.") {
			t.Fatalf("roles delete:\n%s", out)
		}
		exit(3, "qa", "roles", "delete", "qa")
	})

	t.Run("Templates", func(t *testing.T) {
		f := writeTemplate(t, twoApproversTemplate)
		must("templates", "create", "-f", f)
		if out := must("templates", "delete", "two-step"); !strings.Contains(out, "Template two-step deleted.") {
			t.Fatalf("templates delete:\n%s", out)
		}
		exit(3, "two-step", "templates", "get", "two-step")
		must("templates", "create", "-f", f)
		must("requests", "create", "--template", "two-step")
		exit(5, "deactivate it instead", "templates", "delete", "two-step")
	})

	t.Run("Clusters", func(t *testing.T) {
		must("clusters", "add", "c1", "--api-server", "https://127.0.0.1:1", "--bearer-token", "old-secret")
		if out := must("clusters", "update", "c1", "--description", "staging", "-o", "yaml"); !strings.Contains(out, "description: staging") {
			t.Fatalf("clusters update --description:\n%s", out)
		}
		exit(2, "nothing to change", "clusters", "update", "c1")
		kc := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nusers: [{name: u, user: {exec: {command: /bin/sh}}}]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		exit(6, "kubeconfig.users[0].user.exec", "clusters", "update", "c1", "--kubeconfig", kc)
		out := must("clusters", "update", "c1", "--api-server", "https://127.0.0.1:2", "--bearer-token", "new-secret", "-o", "yaml")
		if !strings.Contains(out, "server: https://127.0.0.1:2") || strings.Contains(out, "secret") {
			t.Fatalf("clusters update with new credentials:\n%s", out)
		}
		exit(3, "nope", "clusters", "update", "nope", "--description", "x")
	})
}
