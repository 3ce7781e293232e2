package purser

import (
	"fmt"
	"strings"
)

// maxDiffEdits bounds the Myers search: past it, the rest of the texts is
// shown as removed then added, which is correct if not minimal, so that a
// diff of two unrelated large files stays cheap.
const maxDiffEdits = 1000

// UnifiedDiff returns the line diff of a into b in unified format, with
// three lines of context and the headers "--- fromName" and
// "+++ toName"; "" when the texts are equal.
func UnifiedDiff(fromName, toName, a, b string) string {
	if a == b {
		return ""
	}
	x, y := splitLines(a), splitLines(b)
	ops := diffLines(x, y)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", fromName, toName)
	const ctx = 3
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from ctx lines before this change to ctx lines after
		// the last change that is at most 2*ctx equal lines further.
		start := max(0, i-ctx)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*ctx {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		writeHunk(&sb, ops[start:end])
		i = end
	}
	return sb.String()
}

type lineOp struct {
	kind       byte // ' ', '-' or '+'
	text       string
	aLine, bLn int // 1-based line numbers in a and b before this op
}

func writeHunk(sb *strings.Builder, ops []lineOp) {
	var na, nb int
	for _, o := range ops {
		if o.kind != '+' {
			na++
		}
		if o.kind != '-' {
			nb++
		}
	}
	as, bs := ops[0].aLine, ops[0].bLn
	if na == 0 {
		as--
	}
	if nb == 0 {
		bs--
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(as, na), hunkRange(bs, nb))
	for _, o := range ops {
		sb.WriteByte(o.kind)
		sb.WriteString(o.text)
		sb.WriteByte('\n')
	}
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diffLines returns the edit script of x into y: Myers' algorithm on what
// remains once the common prefix and suffix are set aside.
func diffLines(x, y []string) []lineOp {
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	var ops []lineOp
	ai, bi := 1, 1
	emit := func(kind byte, text string) {
		ops = append(ops, lineOp{kind, text, ai, bi})
		if kind != '+' {
			ai++
		}
		if kind != '-' {
			bi++
		}
	}
	for _, l := range x[:pre] {
		emit(' ', l)
	}
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	for _, e := range myers(mx, my) {
		switch e.kind {
		case ' ':
			emit(' ', mx[e.i])
		case '-':
			emit('-', mx[e.i])
		case '+':
			emit('+', my[e.i])
		}
	}
	for _, l := range x[len(x)-suf:] {
		emit(' ', l)
	}
	return ops
}

type edit struct {
	kind byte
	i    int // index in x for ' ' and '-', in y for '+'
}

// myers returns a shortest edit script of x into y, or removal of all of x
// then insertion of all of y past maxDiffEdits edits.
func myers(x, y []string) []edit {
	n, m := len(x), len(y)
	maxD := min(n+m, maxDiffEdits)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		// the frontier after d-1 edits, diagonals -d-1..d+1
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var px int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				px = v[off+k+1] // down: an insertion
			} else {
				px = v[off+k-1] + 1 // right: a deletion
			}
			py := px - k
			for px < n && py < m && x[px] == y[py] {
				px, py = px+1, py+1
			}
			v[off+k] = px
			if px >= n && py >= m {
				return backtrack(trace, x, y, d)
			}
		}
	}
	var out []edit
	for i := range x {
		out = append(out, edit{'-', i})
	}
	for i := range y {
		out = append(out, edit{'+', i})
	}
	return out
}

// backtrack walks the saved frontiers back from (len(x), len(y)).
func backtrack(trace [][]int, x, y []string, d int) []edit {
	px, py := len(x), len(y)
	var rev []edit
	for ; d >= 0; d-- {
		v := trace[d]
		at := func(k int) int { return v[k+d+1] }
		k := px - py
		var pk int
		if d == 0 {
			pk = k
		} else if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		sx := 0
		if d > 0 {
			sx = at(pk)
		}
		sy := sx - pk
		for px > sx && py > sy && px > 0 && py > 0 && x[px-1] == y[py-1] {
			rev = append(rev, edit{' ', px - 1})
			px, py = px-1, py-1
		}
		if d == 0 {
			break
		}
		if pk == k+1 {
			rev = append(rev, edit{'+', py - 1})
			py--
		} else {
			rev = append(rev, edit{'-', px - 1})
			px--
		}
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return out
}
