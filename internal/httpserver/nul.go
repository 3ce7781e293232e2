package httpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

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
	_ = json.NewEncoder(w).Encode(&huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: location + ": " + message,
		Errors: []*huma.ErrorDetail{{Message: message, Location: Clip(location)}}})
}
