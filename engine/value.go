package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Value is a value as written in a workflow: a literal, one `${{ expression }}` that keeps its
// type, a string with expressions interpolated into it, or a list or map of values.
type Value struct {
	Pos   Pos
	lit   any  // the value, when nothing inside is an expression
	isLit bool //
	expr  *Expr
	parts []part // interpolation
	list  []*Value
	keys  []string // map, in the order written
	vals  []*Value
}

type part struct {
	text string
	expr *Expr // nil for text
}

// Expr is one compiled `${{ }}` expression.
type Expr struct {
	// Source is the text between `${{` and `}}`, trimmed.
	Source string
	pos    func(offset int) Pos // the position of the rune at offset in Source
	prog   *vm.Program
	result reflect.Type
	// reads are the static member paths the expression reads (steps.a.b, inputs.x, item.key);
	// the values under them decide whether the result is secret, and, in a plan, whether it
	// is known.
	reads [][]string
	// static is the expression's type when it is one member path (inputs.params), else nil.
	static *Type
	// secretEnv are the environment variables it reads whose names say they hold credentials.
	secretEnv []string
}

// Pos returns where the expression's source begins.
func (e *Expr) Pos() Pos { return e.pos(0) }

// Literal returns the value and true when v has no expression in it.
func (v *Value) Literal() (any, bool) { return v.lit, v.isLit }

// evaluation is what evaluating values needs: the names in scope and the run's secrets. In a plan
// (dry run), expressions that need a run's results are not evaluated: they become Unknown.
type evaluation struct {
	env    map[string]any
	masker *Masker
	plan   bool
}

// eval computes v.
func (v *Value) eval(ev *evaluation) (any, error) {
	switch {
	case v.isLit:
		return v.lit, nil
	case v.expr != nil:
		return v.expr.eval(ev)
	case v.parts != nil:
		var b strings.Builder
		secret, known := false, true
		for _, p := range v.parts {
			if p.expr == nil {
				b.WriteString(p.text)
				continue
			}
			r, err := p.expr.eval(ev)
			if err != nil {
				return nil, err
			}
			if u, ok := r.(Unknown); ok {
				known = false
				b.WriteString(u.Text)
				continue
			}
			secret = secret || (ev.masker != nil && ev.masker.Tainted(r))
			b.WriteString(stringify(r))
		}
		s := b.String()
		if secret {
			// The whole string: a short secret inside it would not be masked as a substring.
			ev.masker.Add(s)
		}
		if !known {
			return Unknown{Text: s}, nil
		}
		return s, nil
	case v.list != nil:
		out := make([]any, len(v.list))
		for i, e := range v.list {
			r, err := e.eval(ev)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		out := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			r, err := v.vals[i].eval(ev)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
}

// eval runs the expression. A result computed from a secret is registered as secret.
func (e *Expr) eval(ev *evaluation) (any, error) {
	if ev.plan && readsUnknown(ev.env, e.reads) {
		return Unknown{Text: "<" + e.Source + ">"}, nil
	}
	if ev.masker != nil {
		for _, name := range e.secretEnv {
			if v, ok := lookup(ev.env, []string{"env", name}).(string); ok {
				ev.masker.Add(v)
			}
		}
	}
	out, err := expr.Run(e.prog, ev.env)
	if err != nil {
		return nil, e.runError(err, ev.masker)
	}
	if ev.masker != nil && out != nil && len(e.reads) > 0 && !ev.masker.empty() {
		e.taint(ev, out)
	}
	return out, nil
}

// taint registers as secret what an expression computed from a secret. A string result is
// secret as a whole. In a list or map result, a string read unchanged from a value that is not
// secret stays plain (${{ steps.params.values }} passes on a map whose String entries are not
// secrets), and every other string is secret: it was computed inside the expression.
func (e *Expr) taint(ev *evaluation, out any) {
	var read []any
	tainted := false
	for _, path := range e.reads {
		v := lookup(ev.env, path)
		read = append(read, v)
		tainted = tainted || ev.masker.Tainted(v)
	}
	if !tainted {
		return
	}
	switch x := out.(type) {
	case bool:
		return // two values: masking true and false everywhere would hide everything, reveal nothing
	case string:
		ev.masker.Add(x)
		return
	case int, int64, float64:
		ev.masker.Add(stringify(x))
		return
	}
	plain := map[string]bool{}
	for _, v := range read {
		walkStrings(v, func(s string) bool {
			if !ev.masker.Tainted(s) {
				plain[s] = true
			}
			return false
		})
	}
	walkStrings(out, func(s string) bool {
		if !plain[s] {
			ev.masker.Add(s)
		}
		return false
	})
}

func (e *Expr) runError(err error, m *Masker) error {
	pos := e.pos(0)
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		pos = e.pos(fe.From)
		msg = fe.Message
	}
	if m != nil {
		msg = m.Mask(msg)
	}
	return &Error{Pos: pos, Msg: fmt.Sprintf("${{ %s }}: %s", m.Mask(e.Source), msg)}
}

// lookup follows a static member path through maps; nil when it leads nowhere.
func lookup(env map[string]any, path []string) any {
	var cur any = env
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return cur // a list (for_each outputs) or a scalar: check the whole of it
		}
		cur = m[p]
	}
	return cur
}

// stringify renders a value interpolated into a string: strings as they are, numbers and booleans
// as literals, nil as nothing, lists and maps as JSON.
func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// segment is a piece of a scalar: text, or the source of a `${{ }}` and its offset in runes.
type segment struct {
	text   string
	isExpr bool
	offset int // of the expression's first rune in the scalar
}

// splitTemplate cuts a scalar into text and `${{ ... }}` expressions. The end of an expression is
// the first `}}` outside a quoted string. It returns the rune offset of an unterminated `${{`.
func splitTemplate(s string) (segs []segment, unterminated int, ok bool) {
	rest, base := s, 0
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			if rest != "" {
				segs = append(segs, segment{text: rest})
			}
			return segs, 0, true
		}
		if i > 0 {
			segs = append(segs, segment{text: rest[:i]})
		}
		body := rest[i+3:]
		end := closingBraces(body)
		if end < 0 {
			return nil, base + runeLen(rest[:i]), false
		}
		inner := body[:end]
		lead := len(inner) - len(strings.TrimLeft(inner, " \t\n"))
		segs = append(segs, segment{
			text:   strings.TrimSpace(inner),
			isExpr: true,
			offset: base + runeLen(rest[:i+3+lead]),
		})
		consumed := i + 3 + end + 2
		base += runeLen(rest[:consumed])
		rest = rest[consumed:]
	}
}

func closingBraces(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			return i
		}
	}
	return -1
}

func runeLen(s string) int { return len([]rune(s)) }

// unknown reports whether, in a plan, v is computed from a value only a run would know (an
// input of a called workflow given from a step's outputs).
func (ev *evaluation) unknown(v *Value) bool {
	return ev.plan && v.expr != nil && readsUnknown(ev.env, v.expr.reads)
}

// readsUnknown reports whether, in a plan, an expression reads a value only a run would know: an
// input that holds an Unknown, the item of a for_each whose items only a run knows, or the outputs
// of a step the plan did not read (a plan holds the outputs of the steps it ran for real, and the
// zero outputs of steps it found skipped; steps read as a whole need them all).
func readsUnknown(env map[string]any, reads [][]string) bool {
	for _, path := range reads {
		switch {
		case len(path) == 0:
		case path[0] == "inputs" && !Known(lookup(env, path[:min(len(path), 2)])),
			path[0] == "item" && !Known(env["item"]):
			return true
		case path[0] == "steps":
			outs, _ := env["steps"].(map[string]any)
			if len(path) == 1 {
				return true
			}
			if out, read := outs[path[1]]; !read || !Known(out) {
				return true
			}
		}
	}
	return false
}
