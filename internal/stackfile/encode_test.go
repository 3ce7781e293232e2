package stackfile_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

func TestMarshalYAML(t *testing.T) {
	sf, err := stackfile.Parse(seed(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*purser.Stackfile{"AsWritten": sf, "Normalised": sf.Normalize()} {
		t.Run(name, func(t *testing.T) {
			y, err := stackfile.MarshalYAML(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := stackfile.Parse(y)
			if err != nil {
				t.Fatalf("%v\n%s", err, y)
			}
			if d := cmp.Diff(s, back); d != "" {
				t.Fatalf("YAML round trip (-want +got):\n%s\n%s", d, y)
			}
			// The seed's layout: sections in order, services as single-key
			// maps, numbers that are strings quoted.
			text := string(y)
			for _, want := range []string{"vpc:\n", "services:\n  - routing-service:\n      image: xxx.dkr.ecr", "- SERVER_PORT: \"8080\"", "- \"80:80\""} {
				if !strings.Contains(text, want) {
					t.Errorf("YAML lacks %q:\n%s", want, text)
				}
			}
			if strings.Index(text, "vpc:") > strings.Index(text, "services:") {
				t.Errorf("services before vpc:\n%s", text)
			}
		})
	}
}

func TestUnifiedDiffOfRevisions(t *testing.T) {
	sf, err := stackfile.Parse(seed(t))
	if err != nil {
		t.Fatal(err)
	}
	next, err := stackfile.Parse([]byte(strings.Replace(string(seed(t)), "email-worker:xxx", "email-worker:v2", 1)))
	if err != nil {
		t.Fatal(err)
	}
	r1 := &purser.StackRevision{Number: 1, Stackfile: sf, Normalized: sf.Normalize()}
	r2 := &purser.StackRevision{Number: 2, Stackfile: next, Normalized: next.Normalize()}
	for _, norm := range []bool{false, true} {
		d, err := stackfile.UnifiedDiff(r1, r2, norm)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(d, "--- revision 1\n+++ revision 2\n@@ ") ||
			!strings.Contains(d, "\n-      image: xxx.dkr.ecr.us-east-1.amazonaws.com/email-worker:xxx\n+      image: xxx.dkr.ecr.us-east-1.amazonaws.com/email-worker:v2\n") ||
			strings.Count(d, "\n-") != 1 || strings.Count(d, "\n+") != 2 {
			t.Errorf("normalised %v: diff\n%s", norm, d)
		}
	}
}
