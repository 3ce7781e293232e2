package purser

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{"Equal", "a\nb\n", "a\nb\n", ""},
		{"ChangeOneLine", "a\nb\nc\n", "a\nB\nc\n", "--- r1\n+++ r2\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"AddToEmpty", "", "x\ny\n", "--- r1\n+++ r2\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"RemoveAll", "x\n", "", "--- r1\n+++ r2\n@@ -1 +0,0 @@\n-x\n"},
		{"ContextOfThree", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- r1\n+++ r2\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"TwoHunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
			"--- r1\n+++ r2\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n"},
		{"CloseChangesShareAHunk", "1\n2\n3\n4\n5\n6\n7\n8\n", "one\n2\n3\n4\n5\n6\n7\neight\n",
			"--- r1\n+++ r2\n@@ -1,8 +1,8 @@\n-1\n+one\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+eight\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnifiedDiff("r1", "r2", tt.a, tt.b); got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// applyDiff rebuilds b from a and the diff's lines: a check that the
// script is a correct edit, whatever its shape.
func applyDiff(a, diff string) string {
	al := splitLines(a)
	var out []string
	pos := 0
	for _, l := range splitLines(diff) {
		switch {
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"):
		case strings.HasPrefix(l, "@@"):
			var as, an, bs, bn int
			if n, _ := fmt.Sscanf(l, "@@ -%d,%d +%d,%d @@", &as, &an, &bs, &bn); n < 2 {
				fmt.Sscanf(l, "@@ -%d", &as)
				an = 1
			}
			start := as - 1
			if an == 0 {
				start = as
			}
			out = append(out, al[pos:start]...)
			pos = start
		case l[0] == ' ':
			out = append(out, al[pos])
			pos++
		case l[0] == '-':
			pos++
		case l[0] == '+':
			out = append(out, l[1:])
		}
	}
	out = append(out, al[pos:]...)
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

func TestUnifiedDiffRebuilds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lines := func(n int) string {
		var sb strings.Builder
		for range n {
			fmt.Fprintf(&sb, "line %d\n", r.IntN(8))
		}
		return sb.String()
	}
	for i := range 300 {
		a, b := lines(r.IntN(30)), lines(r.IntN(30))
		if got := applyDiff(a, UnifiedDiff("a", "b", a, b)); got != b && a != b {
			t.Fatalf("case %d: applying the diff of\n%s\nto\n%s\ngives\n%s", i, a, b, got)
		}
	}
	t.Run("PastTheEditBound", func(t *testing.T) {
		var x, y strings.Builder
		for i := range 3000 {
			fmt.Fprintf(&x, "a%d\n", i)
			fmt.Fprintf(&y, "b%d\n", i)
		}
		d := UnifiedDiff("a", "b", x.String(), y.String())
		if got := applyDiff(x.String(), d); got != y.String() {
			t.Fatal("the fallback diff does not rebuild the new text")
		}
	})
}
