package footprint

import "fmt"

// parser reads tokens by precedence, lowest first: ?:, || (or),
// && (and), comparisons, + -, * / %, unary - + ! (not), ** (^, right
// associative), then numbers, strings, true, false, nil, parameters,
// function calls and parentheses: the arithmetic subset of
// github.com/expr-lang/expr, which evaluated footprints before.
type parser struct {
	toks  []token
	pos   int
	names []string // the parameters read, in order
}

// parse parses src into a node and the parameters it reads.
func parse(src string) (node, []string, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, nil, err
	}
	p := &parser{toks: toks}
	n, err := p.ternary()
	if err != nil {
		return nil, nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, nil, fmt.Errorf("unexpected %q", t.text)
	}
	return n, p.names, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token { t := p.toks[p.pos]; p.pos++; return t }

// accept consumes the next token if it is one of ops (operators or
// keywords) and returns it.
func (p *parser) accept(ops ...string) (string, bool) {
	t := p.peek()
	if t.kind != 'o' && t.kind != 'i' {
		return "", false
	}
	for _, o := range ops {
		if t.text == o {
			p.pos++
			return o, true
		}
	}
	return "", false
}

func (p *parser) expect(op string) error {
	if _, ok := p.accept(op); !ok {
		if t := p.peek(); t.kind != 0 {
			return fmt.Errorf("expected %q, got %q", op, t.text)
		}
		return fmt.Errorf("expected %q at the end", op)
	}
	return nil
}

func (p *parser) ternary() (node, error) {
	cond, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if _, ok := p.accept("?"); !ok {
		return cond, nil
	}
	yes, err := p.ternary()
	if err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	no, err := p.ternary()
	if err != nil {
		return nil, err
	}
	return &cond3{cond, yes, no}, nil
}

// levels are the binary operators by precedence, lowest first.
var levels = [][]string{{"||", "or"}, {"&&", "and"}, {"==", "!=", "<", "<=", ">", ">="}, {"+", "-"}, {"*", "/", "%"}}

func (p *parser) binary(level int) (node, error) {
	if level == len(levels) {
		return p.unary()
	}
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.accept(levels[level]...)
		if !ok {
			return left, nil
		}
		right, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		left = &binop{op, left, right}
	}
}

func (p *parser) unary() (node, error) {
	if op, ok := p.accept("-", "+", "!", "not"); ok {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unop{op, x}, nil
	}
	base, err := p.primary()
	if err != nil {
		return nil, err
	}
	if _, ok := p.accept("**", "^"); ok {
		exp, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &binop{"**", base, exp}, nil
	}
	return base, nil
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case 'n':
		return lit{t.num}, nil
	case 's':
		return lit{t.text}, nil
	case 'i':
		return p.identifier(t.text)
	case 'o':
		if t.text == "(" {
			n, err := p.ternary()
			if err != nil {
				return nil, err
			}
			return n, p.expect(")")
		}
		return nil, fmt.Errorf("unexpected %q", t.text)
	}
	return nil, fmt.Errorf("unexpected end of expression")
}

func (p *parser) identifier(name string) (node, error) {
	switch name {
	case "true", "false":
		return lit{name == "true"}, nil
	case "nil":
		return lit{nil}, nil
	case "and", "or", "not":
		return nil, fmt.Errorf("unexpected %q", name)
	}
	if _, ok := p.accept("("); !ok {
		p.names = append(p.names, name)
		return ident(name), nil
	}
	f, ok := functions[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %s", name)
	}
	var args []node
	if _, ok := p.accept(")"); !ok {
		for {
			a, err := p.ternary()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if _, ok := p.accept(","); ok {
				continue
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			break
		}
	}
	if len(args) < f.min || f.max >= 0 && len(args) > f.max {
		return nil, fmt.Errorf("%s takes %s", name, f.arity())
	}
	return &call{name, f.fn, args}, nil
}
