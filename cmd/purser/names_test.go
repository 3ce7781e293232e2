package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCLITakesAndShowsUsernames: on the demo, the commands a newcomer types
// with a username work (users get bbb, tokens create --user bbb, quotas
// create --user ccc, request create --template by name), and the tables
// show usernames where they showed 24-digit ids.
func TestCLITakesAndShowsUsernames(t *testing.T) { eachStore(t, testCLITakesAndShowsUsernames) }

func testCLITakesAndShowsUsernames(t *testing.T, env ...string) {
	url, admin := serverWith(t, []string{"server", "--demo"}, env...)
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := cli(t, args...)
		if code != 0 {
			t.Fatalf("purser %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	id := regexp.MustCompile(`\b[0-9a-f]{24}\b`)
	must("login", "--server", url, "--token", admin)

	out := must("users", "get", "bbb")
	bbb := id.FindString(out)
	if bbb == "" || !strings.Contains(out, "BBB (developer)") {
		t.Fatalf("users get bbb:\n%s", out)
	}
	out = must("tokens", "create", "laptop", "--user", "bbb")
	tok := regexp.MustCompile(`pst_\S+`).FindString(out)
	if tok == "" {
		t.Fatalf("tokens create --user bbb:\n%s", out)
	}
	if out := must("tokens", "list", "--user", "bbb"); !strings.Contains(out, "laptop") {
		t.Fatalf("tokens list --user bbb:\n%s", out)
	}
	must("quotas", "create", "--user", "ccc", "--cores", "8")
	out = must("quotas", "list")
	if !regexp.MustCompile(`(?m)^\S+\s+ccc\s+PERMANENT`).MatchString(out) {
		t.Fatalf("quotas list does not name ccc:\n%s", out)
	}
	if code, _, errOut := cli(t, "quotas", "create", "--user", "nobody", "--cores", "1"); code == 0 || !strings.Contains(errOut, `"nobody"`) {
		t.Fatalf("quotas create --user nobody: %d %q", code, errOut)
	}

	if out := must("events"); !strings.Contains(out, "user/bbb ") || !regexp.MustCompile(`(?m)\sadmin\s+quota\.create`).MatchString(out) {
		t.Fatalf("events do not name users:\n%s", out)
	}

	must("login", "--server", url, "--token", tok)
	must("request", "create", "--template", "dev-namespace", "--param", "cpu=1")
	out = must("request", "list")
	if !regexp.MustCompile(`(?m)^\S+\s+.+\s+\S+\s+bbb\s`).MatchString(out) || strings.Contains(out, bbb) {
		t.Fatalf("request list does not name bbb:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)\scpu=1 memory_gib=4$`).MatchString(out) {
		t.Fatalf("request list does not tell requests apart by their parameters:\n%s", out)
	}
	if out := must("events"); !strings.Contains(out, " bbb ") || strings.Contains(out, bbb) {
		t.Fatalf("events do not name bbb:\n%s", out)
	}
}
