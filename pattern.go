package purser

import "regexp"

// pattern is a regular expression with a length bound kept outside it.
// Go's regexp compiles a counted repetition such as {1,512} into as many
// copies of its body, so a long bound costs hundreds of kilobytes and
// milliseconds at every start (the role ARN pattern alone was 350 KB):
// the expression says `+` or `*` and the bound is checked on the length.
type pattern struct {
	re       *regexp.Regexp
	min, max int // bytes of the whole string
}

func boundedPattern(expr string, min, max int) pattern {
	return pattern{regexp.MustCompile(expr), min, max}
}

// MatchString reports whether s has an allowed length and matches.
func (p pattern) MatchString(s string) bool {
	return len(s) >= p.min && len(s) <= p.max && p.re.MatchString(s)
}
