package exec

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/purserhq/purser"
)

// Redacted replaces a secret in logs and failures.
const Redacted = "[redacted]"

// secretShapes match secrets by their form, whoever's they are: a Purser
// API token (purser.TokenPrefix and base64url) and a value sealed at rest
// ("v1:" and at least a nonce and a tag in base64).
var secretShapes = regexp.MustCompile(regexp.QuoteMeta(purser.TokenPrefix) + `[A-Za-z0-9_-]{4,}|\bv1:[A-Za-z0-9+/]{38,}={0,2}`)

// redactor hides known secret values and secret-shaped strings.
type redactor struct{ replace *strings.Replacer }

func newRedactor(secrets ...[]string) redactor {
	var pairs []string
	for _, l := range secrets {
		for _, s := range l {
			if s != "" {
				pairs = append(pairs, s, Redacted)
			}
		}
	}
	return redactor{strings.NewReplacer(pairs...)}
}

func (r redactor) redact(s string) string {
	return secretShapes.ReplaceAllString(r.replace.Replace(s), Redacted)
}

// tail logs lines through the environment's writer, redacting secrets,
// and keeps the command's last few output lines for error messages.
type tail struct {
	env   purser.Environment
	r     redactor
	mu    sync.Mutex
	lines []string // the command's output, not Purser's own notes
	max   int
}

// maxTailBytes bounds what a failure quotes of the output: its end, so
// that the lines that tell why it failed are kept.
const maxTailBytes = 1500

func newTail(env purser.Environment, r redactor, max int) *tail {
	return &tail{env: env, r: r, max: max}
}

// note logs a line of Purser's own (the command run): it is not output,
// and a failure does not quote it.
func (t *tail) note(line string) { t.add("purser", line) }

func (t *tail) add(stream, line string) {
	line = t.r.redact(line)
	if stream != "purser" {
		t.mu.Lock()
		t.lines = append(t.lines, line)
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
		t.mu.Unlock()
	}
	if t.env.Log != nil {
		t.env.Log.WriteLine(stream, line)
	}
}

// last returns the last lines of output, already redacted, at most
// maxTailBytes of them (the start of the first one cut), or "" when the
// command wrote nothing.
func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.Join(t.lines, "\n")
	if len(s) > maxTailBytes {
		i := len(s) - maxTailBytes
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		s = "..." + s[i:]
	}
	return s
}

// failure is the error for a command that failed (how: "failed (exit
// status 1)", "timed out after 2m"), quoting the end of its output.
func (t *tail) failure(name, how string) error {
	out := t.last()
	if out == "" {
		return fmt.Errorf("%s %s with no output", name, how)
	}
	return fmt.Errorf("%s %s; last output:\n%s", name, how, out)
}

// lineWriter is an io.Writer that hands a tail one stream's output, line
// by line; a line over maxLine bytes is cut into pieces.
type lineWriter struct {
	t      *tail
	stream string
	buf    []byte
}

const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) >= maxLine {
				w.t.add(w.stream, string(w.buf[:maxLine]))
				w.buf = w.buf[maxLine:]
				continue
			}
			break
		}
		w.t.add(w.stream, string(bytes.TrimSuffix(w.buf[:i], []byte("\r"))))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) == 0 {
		w.buf = nil // let a large buffer go
	}
	return len(p), nil
}

// flush logs a last line with no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.t.add(w.stream, string(w.buf))
		w.buf = nil
	}
}
