package api

import (
	"encoding/json"
	"regexp"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser/internal/httpserver"
)

// quoted matches the Go-quoted strings (%q) messages quote values with.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// clipQuoted clips every quoted value in a message.
func clipQuoted(msg string) string {
	if len(msg) <= httpserver.MaxEcho {
		return msg
	}
	return quoted.ReplaceAllStringFunc(msg, func(q string) string {
		s, err := strconv.Unquote(q)
		if err != nil {
			return httpserver.Clip(q)
		}
		return strconv.Quote(httpserver.Clip(s))
	})
}

// clipEchoes is a huma transformer: it tidies every problem document (see
// tidyProblem), and no problem document repeats more than
// httpserver.MaxEcho characters of a submitted value, whether in a message, a field's
// location (a submitted key) or the value huma quotes back.
func clipEchoes(_ huma.Context, _ string, v any) (any, error) {
	em, ok := v.(*huma.ErrorModel)
	if !ok {
		return v, nil
	}
	tidyProblem(em)
	em.Detail = clipQuoted(em.Detail)
	for _, d := range em.Errors {
		if d == nil {
			continue
		}
		d.Message, d.Location = clipQuoted(d.Message), httpserver.Clip(d.Location)
		switch val := d.Value.(type) {
		case nil, bool, float64, int, int64:
		case string:
			d.Value = httpserver.Clip(val)
		default:
			if b, err := json.Marshal(val); err != nil || len(b) > httpserver.MaxEcho {
				d.Value = httpserver.Clip(string(b))
			}
		}
	}
	return em, nil
}
