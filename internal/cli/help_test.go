package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCmd(strings.NewReader(""), &out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func TestGlobalFlagsReadInHelp(t *testing.T) {
	out, _, err := runCLI(t, "login", "--help")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "--server purser login") || strings.Contains(out, "--token purser login") {
		t.Fatalf("a flag's value name is taken from its usage text:\n%s", out)
	}
	if !strings.Contains(out, "--server string") || !strings.Contains(out, "--no-headers") {
		t.Fatalf("global flags missing:\n%s", out)
	}
}

func TestVersionFlag(t *testing.T) {
	out, _, err := runCLI(t, "--version")
	if err != nil || out != "purser "+purser.Version+"\n" {
		t.Fatalf("--version: %q %v", out, err)
	}
}

func TestRootHelpListsExitCodes(t *testing.T) {
	out, _, _ := runCLI(t, "--help")
	for _, want := range []string{"Exit codes:", "2  usage error", "3  not found", "8  --wait gave up"} {
		if !strings.Contains(out, want) {
			t.Fatalf("root help lacks %q:\n%s", want, out)
		}
	}
}

// Every list command shows a --where example in its help, with its own
// command path.
func TestEveryListShowsAWhereExample(t *testing.T) {
	root := NewRootCmd(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("where") != nil {
			n++
			if !strings.Contains(c.Example, c.CommandPath()+" --where '{") {
				t.Errorf("%s: example %q shows no --where", c.CommandPath(), c.Example)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	if n < 8 {
		t.Fatalf("only %d list commands have --where", n)
	}
}

// Singular and plural nouns both work; help names the plural.
func TestNounsSingularAndPlural(t *testing.T) {
	for _, pair := range [][2]string{{"request", "requests"}, {"user", "users"}, {"template", "templates"},
		{"quota", "quotas"}, {"role", "roles"}, {"token", "tokens"}, {"cluster", "clusters"}, {"event", "events"}} {
		for _, noun := range pair {
			out, _, err := runCLI(t, noun, "--help")
			if err != nil {
				t.Fatalf("%s --help: %v", noun, err)
			}
			if !strings.Contains(out, "purser "+pair[1]) {
				t.Fatalf("%s --help does not name the canonical %q:\n%s", noun, pair[1], out)
			}
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"users", "get"},            // missing argument
		{"users", "get", "a", "b"},  // too many
		{"requests", "create"},      // required flag
		{"users", "list", "--nope"}, // unknown flag
		{"requests", "list", "--status", "SLEEPING", "--server", "http://127.0.0.1:1"},
	} {
		_, _, err := runCLI(t, args...)
		if code := ExitCode(err); code != ExitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, code, err, ExitUsage)
		}
	}
}

func TestExitCodesFromProblems(t *testing.T) {
	for status, want := range map[int]int{404: ExitNotFound, 401: ExitForbidden, 403: ExitForbidden, 409: ExitConflict,
		412: ExitConflict, 422: ExitValidation, 400: ExitValidation, 500: ExitServer, 503: ExitServer} {
		if got := ExitCode(&client.Error{Status: status}); got != want {
			t.Errorf("status %d: exit %d, want %d", status, got, want)
		}
	}
	if got := ExitCode(WaitGaveUp{After: 8 * time.Second}); got != ExitWaitGaveUp {
		t.Errorf("wait timeout: exit %d", got)
	}
	if got := ExitCode(errors.New("request ended FAILED")); got != ExitFailure {
		t.Errorf("failure: exit %d", got)
	}
	if got := ExitCode(&client.UnreachableError{URL: "http://x", Err: errors.New("refused")}); got != ExitServer {
		t.Errorf("unreachable: exit %d", got)
	}
}

func TestServerURLWithoutScheme(t *testing.T) {
	for in, want := range map[string]string{"localhost:8080": "http://localhost:8080", "127.0.0.1:8080/": "http://127.0.0.1:8080",
		"https://p.example.com": "https://p.example.com"} {
		if got, err := serverURL(in); err != nil || got != want {
			t.Errorf("serverURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"purser.example.com:8080", "ftp://x", "http://"} {
		_, err := serverURL(in)
		var ue UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "https://") {
			t.Errorf("serverURL(%q): %v, want a usage error showing a whole URL", in, err)
		}
	}
}

func TestHumanDurationAndRounding(t *testing.T) {
	for d, want := range map[time.Duration]string{20 * time.Minute: "20m", 8 * time.Second: "8s", 3*time.Hour + 5*time.Minute: "3h5m",
		2 * time.Hour: "2h", 50 * time.Hour: "2d2h"} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
	if got := roundFloats("asked 3576.9999999999995, limit 12.5 on 192.168.100.1"); got != "asked 3577, limit 12.5 on 192.168.100.1" {
		t.Errorf("roundFloats: %q", got)
	}
	if got := Message(&client.Error{Status: 401, Title: "Unauthorized"}); !strings.Contains(got, "purser login") {
		t.Errorf("401 message %q does not say purser login", got)
	}
}

func TestNoHeadersDropsHeaderAndFooter(t *testing.T) {
	var b bytes.Buffer
	h := &headless{w: &b}
	_, _ = h.Write([]byte("ID  NAME\na   1\nb   2\n\n(page 1: 2 of 9)\n"))
	if b.String() != "a   1\nb   2\n" {
		t.Fatalf("--no-headers printed %q", b.String())
	}
}

func TestServerFieldsAreRetoldAsFlags(t *testing.T) {
	err := quotaFlags.explain(&client.Error{Status: 422, Title: "Unprocessable Entity", Detail: "validation failed",
		Errors: []client.FieldError{{Location: "body.valid_until", Message: "is required for a TEMPORARY quota"}, {Location: "body.user", Message: "the user must exist"}}})
	msg := err.Error()
	if !strings.Contains(msg, "--until: is required") || !strings.Contains(msg, "--user: the user must exist") || strings.Contains(msg, "valid_until") {
		t.Fatalf("quota error not retold with flags: %s", msg)
	}
	if ExitCode(err) != ExitValidation {
		t.Fatalf("retold error exits %d", ExitCode(err))
	}
	if got := Message(errors.New("at most 720h0m0s")); got != "at most 30d" {
		t.Fatalf("Go durations in messages: %q", got)
	}
}

// TestNoLoginIsForbidden: a command run before any login says how to log
// in and exits as a 401 would.
func TestNoLoginIsForbidden(t *testing.T) {
	t.Setenv("PURSER_CLI_CONFIG", t.TempDir()+"/cli.yaml")
	t.Setenv("PURSER_SERVER", "")
	t.Setenv("PURSER_TOKEN", "")
	root := NewRootCmd(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	root.SetArgs([]string{"requests", "list"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "purser login") || ExitCode(err) != ExitForbidden {
		t.Fatalf("no login: %v, exit %d; want a hint to log in and exit %d", err, ExitCode(err), ExitForbidden)
	}
}
