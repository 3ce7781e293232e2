package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIClusterSecretsDeployersECS walks `purser clusters secrets`, a
// cluster's deployers, `purser stacks unblock` and an ecs registration
// against a real server: secret values go in on standard input or from a
// file and never come out; a deployer sets a tag but removes nothing.
func TestCLIClusterSecretsDeployersECS(t *testing.T) { eachStore(t, testCLIClusterSecrets) }

func testCLIClusterSecrets(t *testing.T, env ...string) {
	url, admin := server(t, env...)
	const value, keySecret = "hunter2-in-clear", "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	withStdin := func(token, stdin string, args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append(args, "--server", url, "--token", token), strings.NewReader(stdin), &out, &errOut)
		if strings.Contains(out.String()+errOut.String(), value) || strings.Contains(out.String()+errOut.String(), keySecret) {
			t.Fatalf("purser %s shows a secret:\n%s%s", strings.Join(args, " "), out.String(), errOut.String())
		}
		return code, out.String(), errOut.String()
	}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := withStdin(admin, "", args...)
		if code != 0 {
			t.Fatalf("purser %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	must("users", "create", "dora", "--role", "dev")
	dora := regexp.MustCompile(`pst_\S+`).FindString(must("tokens", "create", "dora's", "--user", "dora"))
	if out := must("clusters", "create", "staging", "--kind", "sim", "--deployer", "user:dora"); !strings.Contains(out, "user:dora") {
		t.Fatalf("clusters create with a deployer:\n%s", out)
	}
	if code, out, errOut := withStdin(admin, value+"\n", "clusters", "secrets", "set", "staging", "DB_PASSWORD"); code != 0 || !strings.Contains(out, "Secret DB_PASSWORD of staging set.") {
		t.Fatalf("secrets set from standard input: exit %d %s%s", code, out, errOut)
	}
	must("clusters", "secrets", "set", "staging", "TLS_KEY", "--from-file", write("key.pem", value))
	if code, _, errOut := withStdin(admin, "", "clusters", "secrets", "set", "staging", "EMPTY"); code != 2 || !strings.Contains(errOut, "standard input") {
		t.Fatalf("secrets set without a value: exit %d %s", code, errOut)
	}
	if code, _, errOut := withStdin(dora, value, "clusters", "secrets", "set", "staging", "X"); code != 4 {
		t.Fatalf("a developer sets a secret: exit %d %s", code, errOut)
	}
	if out := must("clusters", "secrets", "list", "staging"); !strings.Contains(out, "DB_PASSWORD") || !strings.Contains(out, "TLS_KEY") {
		t.Fatalf("secrets list:\n%s", out)
	}

	stack := func(tag string) string {
		return write("s"+tag+".yaml", "defaults: {}\nservices:\n  - web:\n      image: nginx:"+tag+"\n      environment:\n        - DB_PASSWORD: ${DB_PASSWORD}\n")
	}
	must("stacks", "apply", "staging", "-f", stack("1"))
	if code, _, errOut := withStdin(admin, "", "clusters", "secrets", "rm", "staging", "DB_PASSWORD"); code != 5 || !strings.Contains(errOut, "${DB_PASSWORD}") {
		t.Fatalf("removing a secret in use: exit %d %s", code, errOut)
	}
	if out := must("clusters", "secrets", "rm", "staging", "TLS_KEY"); !strings.Contains(out, "Secret TLS_KEY of staging removed.") {
		t.Fatalf("secrets rm:\n%s", out)
	}

	// dora, a deployer, sets a tag; she removes nothing.
	if code, out, errOut := withStdin(dora, "", "stacks", "set-image", "staging", "web", "2"); code != 0 || !strings.Contains(out, "Revision 2 of staging") {
		t.Fatalf("a deployer sets a tag: exit %d %s%s", code, out, errOut)
	}
	if code, _, errOut := withStdin(dora, "", "stacks", "rm", "staging", "web"); code != 4 {
		t.Fatalf("a deployer removes a service: exit %d %s", code, errOut)
	}
	must("clusters", "update", "staging", "--no-deployers")
	if code, _, errOut := withStdin(dora, "", "stacks", "set-image", "staging", "web", "3"); code != 4 {
		t.Fatalf("a former deployer sets a tag: exit %d %s", code, errOut)
	}

	// A rollback blocks revision 2; unblock lets it be restored again.
	must("stacks", "rollback", "staging", "1")
	if out := must("stacks", "unblock", "staging", "2"); !strings.Contains(out, "Revision 2 of staging is unblocked.") || !strings.Contains(out, "superseded") {
		t.Fatalf("stacks unblock:\n%s", out)
	}
	if code, _, errOut := withStdin(admin, "", "stacks", "unblock", "staging", "2"); code != 5 {
		t.Fatalf("unblocking twice: exit %d %s", code, errOut)
	}

	// ecs: the secret access key on standard input; not checked yet.
	code, out, errOut := withStdin(admin, keySecret+"\n", "clusters", "add", "prod", "--kind", "ecs", "--region", "eu-west-1", "--ecs-cluster", "prod",
		"--access-key-id", "AKIAIOSFODNN7EXAMPLE")
	if code != 0 || !strings.Contains(out, "ecs") || !strings.Contains(out, "not checked") {
		t.Fatalf("an ecs cluster: exit %d %s%s", code, out, errOut)
	}
	if out := must("clusters", "update", "prod", "--role-arn", "arn:aws:iam::123456789012:role/purser", "-o", "json"); !strings.Contains(out, `"region": "eu-west-1"`) {
		t.Fatalf("an ecs cluster given a role:\n%s", out)
	}
	must("clusters", "list", "-o", "json")
}
