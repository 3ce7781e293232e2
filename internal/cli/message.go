package cli

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/purserhq/purser/client"
)

// Message is err as the one line the binary prints: unrounded floats are
// rounded, and a refused token says how to log in.
func Message(err error) string {
	msg := OneLine(err)
	if client.StatusCode(err) == 401 {
		msg += " (run `purser login --server URL --token TOKEN`, or pass --token)"
	}
	return goDurations.ReplaceAllStringFunc(roundFloats(msg), func(s string) string {
		d, err := time.ParseDuration(s)
		if err != nil {
			return s
		}
		return humanDuration(d)
	})
}

// goDurations are Go's duration strings, "720h0m0s", which read as "30d".
var goDurations = regexp.MustCompile(`\b\d+h\d+m\d+(\.\d+)?s\b|\b\d+m\d+(\.\d+)?s\b`)

var longFloat = regexp.MustCompile(`\b\d+\.\d{5,}\b`)

// roundFloats rounds every number with more than two decimals in s:
// "asked 3576.9999999999995" reads "asked 3577".
func roundFloats(s string) string {
	return longFloat.ReplaceAllStringFunc(s, func(n string) string {
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return n
		}
		return num(f)
	})
}

// num prints a float with at most two decimals, without trailing zeros.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// humanDuration prints d the way people say it: "20m", "3h5m", "2d4h", "8s".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	d = d.Round(time.Hour)
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

// fieldFlags names, for a command, the flag that sets each API field, so
// that the server's errors about fields name the flags the user typed.
type fieldFlags map[string]string

// flagError is a server error retold with flag names.
type flagError struct {
	err error
	msg string
}

func (e flagError) Error() string { return e.msg }
func (e flagError) Unwrap() error { return e.err }

// explain retells err's field names as the command's flags.
func (ff fieldFlags) explain(err error) error {
	var ce *client.Error
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	for field, flag := range ff {
		// A field with an underscore is never prose; a plain word is
		// a field only as "body.word" or "word:".
		pat := `(\bbody\.)?\b` + regexp.QuoteMeta(field) + `\b`
		if !strings.Contains(field, "_") && !strings.Contains(field, ".") {
			pat = `\bbody\.` + regexp.QuoteMeta(field) + `\b|\b` + regexp.QuoteMeta(field) + `:`
			msg = regexp.MustCompile(pat).ReplaceAllStringFunc(msg, func(m string) string {
				if strings.HasSuffix(m, ":") {
					return flag + ":"
				}
				return flag
			})
			continue
		}
		msg = regexp.MustCompile(pat).ReplaceAllString(msg, flag)
	}
	if msg == err.Error() {
		return err
	}
	return flagError{err: err, msg: msg}
}

// serverURL checks a --server value: a URL with http or https, or a bare
// host:port on this machine, taken as http.
func serverURL(s string) (string, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if !strings.Contains(s, "://") {
		host := s
		if h, _, err := net.SplitHostPort(s); err == nil {
			host = h
		}
		if host == "localhost" || net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback() {
			return "http://" + s, nil
		}
		return "", UsageError{fmt.Errorf("server %q has no scheme: give the whole URL, e.g. https://%s (http:// is assumed only for localhost)", s, s)}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", UsageError{fmt.Errorf("server %q is not an http:// or https:// URL with a host, e.g. https://purser.example.com", s)}
	}
	return s, nil
}

// unsupported retells a 405 (a server older than this CLI) as what it
// cannot do, and what to do instead.
func unsupported(err error, what, instead string) error {
	if client.StatusCode(err) != 405 {
		return err
	}
	msg := "this server cannot " + what
	if instead != "" {
		msg += "; " + instead
	}
	return flagError{err: err, msg: msg}
}
