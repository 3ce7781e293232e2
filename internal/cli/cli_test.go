package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/purserhq/purser"
)

func TestVersionPrintsVersion(t *testing.T) {
	var out bytes.Buffer
	root := NewRootCmd(strings.NewReader(""), &out, &bytes.Buffer{})
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "purser "+purser.Version+"\n"; got != want {
		t.Fatalf("version printed %q, want %q", got, want)
	}
}

func TestBadFlagIsUsageError(t *testing.T) {
	root := NewRootCmd(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	root.SetArgs([]string{"users", "list", "--no-such-flag"})
	var ue UsageError
	if err := root.Execute(); !errors.As(err, &ue) {
		t.Fatalf("error %v is not a UsageError (exit code 2)", err)
	}
}

func TestNoServerSaysHowToLogIn(t *testing.T) {
	t.Setenv("PURSER_CLI_CONFIG", t.TempDir()+"/cli.yaml")
	t.Setenv("PURSER_SERVER", "")
	root := NewRootCmd(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	root.SetArgs([]string{"whoami"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "purser login") {
		t.Fatalf("whoami with no server: %v, want a hint to run purser login", err)
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine(errors.New("a\n  b\tc ")); got != "a b c" {
		t.Fatalf("OneLine = %q", got)
	}
}

// TestOutputsTableKeepsMultiLineValuesOut: a kubeconfig in the outputs
// table would print as one escaped string; the row says how to get it.
func TestOutputsTableKeepsMultiLineValuesOut(t *testing.T) {
	var b strings.Builder
	tw := newTable(&b)
	outputsTable(tw, "r1", map[string]string{"endpoint": "https://x", "kubeconfig": "apiVersion: v1\nkind: Config\nclusters: []\n", "cert": "a\nb"})
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"https://x", "(3 lines: purser requests kubeconfig r1 > kubeconfig.yaml)", "(2 lines: purser requests get r1 -o json)"} {
		if !strings.Contains(out, want) {
			t.Errorf("outputs table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "apiVersion") {
		t.Errorf("outputs table prints the kubeconfig:\n%s", out)
	}
}
