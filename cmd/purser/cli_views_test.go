package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The CLI a newcomer meets (issue 10, items 8, 9 and 11), run through
// Main against the demo server: readable views, list shortcuts and
// formats, completion from the server, exit codes, errors naming flags.
func TestCLINewcomerViews(t *testing.T) {
	url, tok := demoServer(t)
	run := func(token string, args ...string) (int, string, string) {
		t.Helper()
		return asUser(t, url, token, args...)
	}
	must := func(token string, args ...string) string {
		t.Helper()
		code, out, errOut := run(token, args...)
		if code != 0 {
			t.Fatalf("purser %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	exit := func(want int, wantErr, token string, args ...string) string {
		t.Helper()
		code, out, errOut := run(token, args...)
		if code != want || !strings.Contains(errOut, wantErr) {
			t.Fatalf("purser %s: exit %d (want %d), stderr %q (want %q)\n%s", strings.Join(args, " "), code, want, errOut, wantErr, out)
		}
		return errOut
	}
	bbb, jjj := tok["bbb"], tok["jjj"]
	zone := time.Now().Local().Format("MST")

	out := must(bbb, "requests", "create", "--template", "dev-namespace", "--param", "cpu=1", "--wait")
	id := regexp.MustCompile(`Environment (\w+) is DEPLOYED`).FindStringSubmatch(out)[1]

	// Views: key/value in table mode, the document in -o yaml.
	out = must(bbb, "templates", "get", "dev-namespace")
	if strings.Contains(out, "_links") || !strings.Contains(out, "LIFETIME:") || !strings.Contains(out, "APPROVAL:") || !strings.Contains(out, "PARAMETER") {
		t.Fatalf("templates get is not a readable view:\n%s", out)
	}
	if out := must(bbb, "templates", "get", "dev-namespace", "-o", "yaml"); !strings.Contains(out, "_links") {
		t.Fatalf("templates get -o yaml is not the document:\n%s", out)
	}
	out = must(bbb, "requests", "get", id)
	for _, want := range []string{"STATUS:", "DEPLOYED", "/h; estimated", "EXPIRES:", " " + zone, "PARAMETERS:", "cpu=1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("requests get lacks %q:\n%s", want, out)
		}
	}

	// Lists: shortcuts, formats.
	out = must(bbb, "requests", "list", "--mine", "--status", "DEPLOYED")
	if !strings.Contains(out, id) || !strings.Contains(out, "COST/H") || !strings.Contains(out, " "+zone) {
		t.Fatalf("requests list --mine --status DEPLOYED:\n%s", out)
	}
	if out := must(bbb, "requests", "list", "--status", "REJECTED"); strings.Contains(out, id) {
		t.Fatalf("--status REJECTED lists a DEPLOYED request:\n%s", out)
	}
	if out := must(bbb, "requests", "list", "-o", "name", "--status", "DEPLOYED"); strings.TrimSpace(out) != id {
		t.Fatalf("-o name: %q, want %q", out, id)
	}
	if out := must(bbb, "requests", "list", "--no-headers"); strings.Contains(out, "STATUS") || !strings.Contains(out, id) {
		t.Fatalf("--no-headers:\n%s", out)
	}
	if out := must(bbb, "requests", "list", "-o", "wide"); !strings.Contains(out, "PARAMETERS") || !strings.Contains(out, "cpu=1") {
		t.Fatalf("-o wide:\n%s", out)
	}

	// Completion from the server.
	complete := func(args ...string) string {
		t.Helper()
		// The word completed is the last: the server and token go first.
		code, out, errOut := cli(t, append([]string{"__complete", "--server", url, "--token", bbb}, args...)...)
		if code != 0 {
			t.Fatalf("__complete %v: %d %s", args, code, errOut)
		}
		return out
	}
	if out := complete("requests", "get", ""); !strings.Contains(out, id+"\tdev-namespace DEPLOYED") {
		t.Fatalf("completing a request id:\n%s", out)
	}
	if out := complete("request", "create", "--template", "dev"); !strings.Contains(out, "dev-namespace\t") || strings.Contains(out, "basic-eks") {
		t.Fatalf("completing --template dev:\n%s", out)
	}

	// Exit codes and messages.
	exit(3, "404", bbb, "requests", "get", "000000000000000000000000")
	exit(4, "403", bbb, "users", "list")
	exit(4, "purser login", "pst_not_a_token", "whoami")
	exit(5, "409", jjj, "requests", "approve", id)
	exit(6, "--ttl", bbb, "requests", "create", "--template", "dev-namespace", "--ttl", "10000h")
	if code, _, errOut := cli(t, "whoami", "--server", "http://127.0.0.1:1", "--token", bbb); code != 7 || !strings.Contains(errOut, "cannot reach") {
		t.Fatalf("unreachable server: exit %d %q", code, errOut)
	}
	exit(2, "pass --yes", bbb, "requests", "purge", id)
	if code, out, errOut := cli(t, "whoami", "--server", strings.TrimPrefix(url, "http://"), "--token", bbb); code != 0 || !strings.Contains(out, "bbb") {
		t.Fatalf("--server without a scheme: %d %s%s", code, out, errOut)
	}
	me := strings.TrimSpace(must(bbb, "whoami", "-o", "name"))
	errOut := exit(6, "--until", jjj, "quotas", "create", "--user", me, "--type", "TEMPORARY", "--cores", "1")
	if strings.Contains(errOut, "valid_until") {
		t.Fatalf("a TEMPORARY quota's error names the API field: %s", errOut)
	}

	// Quotas: readable limits, update, delete.
	out = must(jjj, "quotas", "create", "--user", me, "--cores", "5")
	qid := regexp.MustCompile(`Quota (\w+) created`).FindStringSubmatch(out)[1]
	must(jjj, "quotas", "update", qid, "--cores", "7")
	out = must(jjj, "quotas", "list")
	if strings.Contains(out, "{") || !strings.Contains(out, "CORES") || !regexp.MustCompile(qid+`.*\b7\b`).MatchString(out) {
		t.Fatalf("quotas list after update:\n%s", out)
	}
	must(jjj, "quotas", "delete", qid)
	if out := must(jjj, "quotas", "list"); strings.Contains(out, qid) {
		t.Fatalf("deleted quota still listed:\n%s", out)
	}

	// Templates update.
	if out := must(jjj, "templates", "update", "dev-namespace", "--description", "A namespace for a day"); !strings.Contains(out, "revision 2") {
		t.Fatalf("templates update: %s", out)
	}

	// History: an extension's CHANGE.
	must(bbb, "requests", "extend", id, "--hours", "24", "--reason", "demo moved")
	ext := strings.TrimSpace(must(jjj, "requests", "extensions", "list", "-o", "name", "--where", `{"status":"REQUESTED"}`))
	must(jjj, "requests", "extensions", "approve", ext)
	if out := must(bbb, "requests", "history", id); !regexp.MustCompile(`request\.extend .*expires .* \(\+24h\)`).MatchString(out) {
		t.Fatalf("history shows no extension change:\n%s", out)
	}
	if out := must(bbb, "requests", "purge", id, "--yes", "--wait", "--timeout", "1m"); !strings.Contains(out, "PURGED") {
		t.Fatalf("purge --yes --wait: %s", out)
	}
}
