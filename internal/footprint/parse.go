package footprint

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// node is a parsed expression: it evaluates itself over the parameters'
// values.
type node interface {
	eval(env map[string]any) (any, error)
}

// token is one lexeme: kind is 'n' (number), 's' (string), 'i'
// (identifier or keyword), 'o' (operator or punctuation) or 0 (the end).
type token struct {
	kind byte
	text string
	num  float64
}

var operators = []string{"**", "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "^", "<", ">", "!", "?", ":", "(", ")", ","}

// lex splits src into tokens.
func lex(src string) ([]token, error) {
	var out []token
	for i := 0; i < len(src); {
		c := rune(src[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := scanNumber(src, i)
			f, err := strconv.ParseFloat(strings.ReplaceAll(src[i:j], "_", ""), 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", src[i:j])
			}
			out, i = append(out, token{kind: 'n', text: src[i:j], num: f}), j
		case c == '"' || c == '\'':
			s, j, err := scanString(src, i)
			if err != nil {
				return nil, err
			}
			out, i = append(out, token{kind: 's', text: s}), j
		case c == '_' || unicode.IsLetter(c):
			j := i + 1
			for j < len(src) && (src[j] == '_' || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			out, i = append(out, token{kind: 'i', text: src[i:j]}), j
		default:
			op := operator(src[i:])
			if op == "" {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			out, i = append(out, token{kind: 'o', text: op}), i+len(op)
		}
	}
	return append(out, token{}), nil
}

// operator is the operator src starts with, "" if none.
func operator(src string) string {
	for _, o := range operators {
		if strings.HasPrefix(src, o) {
			return o
		}
	}
	return ""
}

// scanNumber returns where the number starting at i ends: digits (and _),
// a fraction, an exponent.
func scanNumber(src string, i int) int {
	digits := func(j int) int {
		for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '_') {
			j++
		}
		return j
	}
	j := digits(i)
	if j < len(src) && src[j] == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9' {
		j = digits(j + 1)
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && src[k] >= '0' && src[k] <= '9' {
			j = digits(k)
		}
	}
	return j
}

// scanString reads the quoted string starting at i, with Go's escapes.
func scanString(src string, i int) (string, int, error) {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			body := src[i+1 : j]
			if q == '\'' {
				body = strings.ReplaceAll(strings.ReplaceAll(body, `\'`, `'`), `"`, `\"`)
			}
			s, err := strconv.Unquote(`"` + body + `"`)
			if err != nil {
				return "", 0, fmt.Errorf("bad string %s", src[i:j+1])
			}
			return s, j + 1, nil
		}
	}
	return "", 0, fmt.Errorf("unterminated string at %d", i)
}
