package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// maxNULScan is how much of a JSON body refuseNUL reads: huma refuses
// longer bodies (413) anyway.
const maxNULScan = 1 << 20

// refuseNUL refuses a request whose path, query parameters or JSON body
// hold a NUL character, naming the parameter (400) or the field (422):
// PostgreSQL cannot store one in text, and would fail the request with a
// 500; no field of Purser's has a use for one.
func refuseNUL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.ContainsRune(r.URL.Path, 0) {
			writeInvalid(w, http.StatusBadRequest, "path", "the path contains a NUL character")
			return
		}
		q := r.URL.Query()
		names := make([]string, 0, len(q))
		for name := range q {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, v := range q[name] {
				if strings.ContainsRune(name, 0) || strings.ContainsRune(v, 0) {
					writeInvalid(w, http.StatusBadRequest, "query."+name, "contains a NUL character, which no value may hold")
					return
				}
			}
		}
		if r.Body != nil && r.Body != http.NoBody && strings.Contains(r.Header.Get("Content-Type"), "json") {
			head, err := io.ReadAll(io.LimitReader(r.Body, maxNULScan+1))
			if err != nil {
				writeProblem(w, http.StatusBadRequest, "the request body could not be read")
				return
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
			if len(head) <= maxNULScan && bytes.Contains(head, []byte(`\u0000`)) {
				if field, ok := nulField(head); ok {
					writeInvalid(w, http.StatusUnprocessableEntity, "body"+field, "contains a NUL character, which no value may hold")
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// nulField returns the path (".name", ".roles[1]") of the first string,
// key or value, in a JSON document that holds a NUL character.
func nulField(doc []byte) (string, bool) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return "", false // malformed: the handler says so
	}
	return nulIn(v, "")
}

func nulIn(v any, path string) (string, bool) {
	switch v := v.(type) {
	case string:
		return path, strings.ContainsRune(v, 0)
	case []any:
		for i, e := range v {
			if p, ok := nulIn(e, path+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.ContainsRune(k, 0) {
				return path + "." + strings.ReplaceAll(k, "\x00", `\u0000`), true
			}
			if p, ok := nulIn(v[k], path+"."+k); ok {
				return p, true
			}
		}
	}
	return "", false
}

// writeInvalid writes a problem document naming one location, shaped as
// huma's own validation errors.
func writeInvalid(w http.ResponseWriter, status int, location, message string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = jsonEncode(w, &huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: location + ": " + message,
		Errors: []*huma.ErrorDetail{{Message: message, Location: clip(location)}}})
}

// maxEcho is the most of a submitted value a problem document repeats.
const maxEcho = 200

// clip cuts s to maxEcho characters, marking the cut with "…".
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxEcho {
		return s
	}
	r := []rune(s)
	return string(r[:maxEcho]) + "…"
}

// quoted matches the Go-quoted strings (%q) messages quote values with.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// clipQuoted clips every quoted value in a message.
func clipQuoted(msg string) string {
	if len(msg) <= maxEcho {
		return msg
	}
	return quoted.ReplaceAllStringFunc(msg, func(q string) string {
		s, err := strconv.Unquote(q)
		if err != nil {
			return clip(q)
		}
		return strconv.Quote(clip(s))
	})
}

// clipEchoes is a huma transformer: no problem document repeats more than
// maxEcho characters of a submitted value, whether in a message, a field's
// location (a submitted key) or the value huma quotes back.
func clipEchoes(_ huma.Context, _ string, v any) (any, error) {
	em, ok := v.(*huma.ErrorModel)
	if !ok {
		return v, nil
	}
	em.Detail = clipQuoted(em.Detail)
	for _, d := range em.Errors {
		if d == nil {
			continue
		}
		d.Message, d.Location = clipQuoted(d.Message), clip(d.Location)
		switch val := d.Value.(type) {
		case nil, bool, float64, int, int64:
		case string:
			d.Value = clip(val)
		default:
			if b, err := json.Marshal(val); err != nil || len(b) > maxEcho {
				d.Value = clip(string(b))
			}
		}
	}
	return em, nil
}
