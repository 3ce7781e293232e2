package httpserver

import (
	"net/http"
	"strings"
)

// notModified answers 304 Not Modified to a GET or HEAD whose
// If-None-Match names the ETag the answer carries (RFC 9110 §13.1.2), so
// that every document a handler tags with an ETag supports conditional
// requests without each handler checking. The handler still runs: the
// saving is the body on the wire, and the answer's freshness is exact.
func notModified(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inm := r.Header.Get("If-None-Match")
		if inm == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&conditionalWriter{ResponseWriter: w, ifNoneMatch: inm}, r)
	})
}

type conditionalWriter struct {
	http.ResponseWriter
	ifNoneMatch string
	wrote       bool
	discard     bool
}

func (c *conditionalWriter) WriteHeader(code int) {
	if c.wrote {
		return
	}
	c.wrote = true
	if code == http.StatusOK && etagListed(c.ifNoneMatch, c.Header().Get("ETag")) {
		c.discard = true
		for _, h := range []string{"Content-Type", "Content-Length", "Content-Encoding"} {
			c.Header().Del(h)
		}
		c.ResponseWriter.WriteHeader(http.StatusNotModified)
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *conditionalWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	if c.discard {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

func (c *conditionalWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *conditionalWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok && !c.discard {
		f.Flush()
	}
}

// etagListed reports whether an If-None-Match list names etag, by the weak
// comparison GET uses ("*" names any).
func etagListed(list, etag string) bool {
	if etag == "" {
		return false
	}
	etag = strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
