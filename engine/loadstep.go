package engine

import (
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

func (l *loader) loadSteps(root, n *yaml.Node) {
	if n == nil || n.Tag == "!!null" {
		l.errorf(RuleRequiredKey, root, "the workflow has no steps: add `steps:` with at least one step")
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(RuleValueType, n, "steps must be a list of steps, got %s", kindName(n))
		return
	}
	if len(n.Content) == 0 {
		l.errorf(RuleRequiredKey, n, "steps is empty: a workflow needs at least one step")
	}
	// Every id first, so a reference to a later step can say so.
	l.declared = map[string]int{}
	for _, s := range n.Content {
		if s.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(s.Content); i += 2 {
			if s.Content[i].Value == "id" && s.Content[i+1].Kind == yaml.ScalarNode {
				if _, dup := l.declared[s.Content[i+1].Value]; !dup {
					l.declared[s.Content[i+1].Value] = s.Content[i+1].Line
				}
			}
		}
	}
	l.stepNodes = n.Content
	visible := map[string]*Step{}
	ids := map[string]*yaml.Node{}
	defer l.wf.link()
	for _, sn := range n.Content {
		st := l.loadStep(sn, visible, ids)
		if st == nil {
			continue
		}
		l.wf.Steps = append(l.wf.Steps, st)
		if st.ID != "" && st.Type != nil {
			visible[st.ID] = st
		}
	}
}

func (l *loader) loadStep(n *yaml.Node, visible map[string]*Step, ids map[string]*yaml.Node) *Step {
	if n.Kind != yaml.MappingNode {
		l.errorf(RuleValueType, n, "a step must be a mapping with keys %s, got %s", strings.Join(stepKeys, ", "), kindName(n))
		return nil
	}
	st := &Step{Pos: l.pos(n)}
	f := l.mapping(n, "a step", stepKeys)
	if id := f["id"]; id == nil {
		l.errorf(RuleRequiredKey, n, "the step has no id: add `id: ...` (lower case letters, digits and _)")
	} else if s, ok := l.scalarString(id, "id"); ok {
		switch {
		case !stepIDPattern.MatchString(s):
			l.errorf(RuleName, id, "step id %q must match [a-z][a-z0-9_]*", s)
		case ids[s] != nil:
			prev := ids[s]
			l.errorf(RuleDuplicateID, id, "step id %q is duplicated; previously defined at line %d, column %d", s, prev.Line, prev.Column)
		default:
			ids[s] = id
			st.ID = s
		}
		st.Pos = l.pos(id)
	}
	what := "step " + strconv.Quote(st.ID)
	if u := f["uses"]; u == nil {
		l.errorf(RuleRequiredKey, n, "%s has no `uses`: name a step type (see `flow steps`)", what)
	} else if s, ok := l.scalarString(u, "uses"); ok {
		st.Uses = s
		if s == WorkflowStep {
			if t := l.loadCall(n, f["with"]); t != nil {
				st.Type = t
			}
		} else if t, found := l.cat.Lookup(s); found {
			st.Type = t
		} else {
			l.errorf(RuleUnknownStepType, u, "unknown step type %q%s", s, suggest(s, append(l.cat.Names(), WorkflowStep)))
		}
	}
	st.reads = map[string]bool{}
	if nd := f["needs"]; nd != nil {
		l.loadNeeds(nd, st, visible)
	}
	if fe := f["for_each"]; fe != nil {
		sc := &scope{inputs: l.inputs, steps: visible, declared: l.declared, self: st.ID, what: "for_each", reads: st.reads}
		st.ForEach = l.collection(fe, sc)
		if p := f["parallel"]; p != nil {
			l.loadParallel(p, st, sc)
		}
		if ff := f["fail_fast"]; ff != nil {
			st.FailFast, _ = l.scalarBool(ff, "fail_fast")
		}
	} else {
		for _, key := range []string{"parallel", "fail_fast"} {
			if k := f[key]; k != nil {
				l.errorf(RuleValueType, k, "%s", forEachOnly(key))
			}
		}
	}
	sc := &scope{inputs: l.inputs, steps: visible, declared: l.declared, self: st.ID, what: what, reads: st.reads}
	if st.ForEach != nil {
		sc.item = st.ForEach.itemType
	}
	if c := f["if"]; c != nil {
		csc := *sc
		csc.what = "the if of " + what
		st.If = l.condition(c, &csc)
	}
	if r := f["retry"]; r != nil {
		st.Retry = l.retry(r)
	}
	if t := f["timeout"]; t != nil {
		st.Timeout, _ = l.duration(t, "timeout", MaxStepTimeout)
	}
	if c := f["continue_on_error"]; c != nil {
		st.ContinueOnError, _ = l.scalarBool(c, "continue_on_error")
	}
	if o := f["once"]; o != nil {
		if s, ok := l.scalarString(o, "once"); ok {
			if s != OnceInstance {
				l.errorf(RuleValueType, o, "once must be %q (run once per instance), got %q", OnceInstance, s)
			}
			st.Once, st.OncePos = s, l.pos(o)
		}
	}
	if st.Type != nil {
		l.loadWith(st, n, f["with"], sc)
	}
	return st
}

// loadWith loads a step's with: each argument against the step type's inputs, then the required
// inputs, then the step type's own checks and remarks on the literal arguments.
func (l *loader) loadWith(st *Step, stepNode, w *yaml.Node, sc *scope) {
	errsBefore := len(l.errs)
	at := stepNode // where a problem with the arguments as a whole is reported
	if w != nil {
		at = w
	}
	args := withArgs{set: map[string]bool{}, literals: map[string]any{}, pos: map[string]Pos{}}
	if w != nil && w.Tag != "!!null" {
		if w.Kind != yaml.MappingNode {
			l.errorf(RuleValueType, w, "with must be a mapping of %s's inputs, got %s", st.Uses, kindName(w))
			return
		}
		l.loadArgs(st, w, sc, &args)
	}
	for _, f := range st.Type.Inputs() {
		if f.Required && f.Default == nil && !args.set[f.Name] {
			l.errorf(RuleStepInput, at, "step %q (%s) is missing the required input %q", st.ID, st.Uses, f.Name)
		}
	}
	if len(args.literals) == len(st.With) && len(l.errs) == errsBefore && !l.checkArgs(st, at, w, args.literals) {
		return
	}
	if lt, ok := st.Type.(Linter); ok {
		for _, warn := range lt.Lint(args.literals) {
			pos, found := args.pos[warn.Field]
			if !found {
				pos = st.Pos
			}
			l.warns.add(RuleStepLint, pos, "%s", warn.Msg)
			l.warns[len(l.warns)-1].Secret = warn.Secret
		}
	}
}

// withArgs is what loading a step's with found: the inputs it sets, and the literal ones with
// the positions of their values.
type withArgs struct {
	set      map[string]bool
	literals map[string]any
	pos      map[string]Pos
}

// loadArgs loads the arguments of the mapping w into st.With and args, each checked against its
// input's type and, when literal, its input's Check.
func (l *loader) loadArgs(st *Step, w *yaml.Node, sc *scope, args *withArgs) {
	inputs := st.Type.Inputs()
	names := make([]string, len(inputs))
	for i, f := range inputs {
		names[i] = f.Name
	}
	sort.Strings(names)
	keys, vals := l.pairs(w, "with")
	for i, k := range keys {
		var field *Field
		for j := range inputs {
			if inputs[j].Name == k.Value {
				field = &inputs[j]
			}
		}
		if field == nil {
			l.errorf(RuleUnknownKey, k, "%s has no input %q%s", st.Uses, k.Value, suggest(k.Value, names))
			continue
		}
		args.set[field.Name] = true
		v := l.value(vals[i], field.Type, sc, field.Name)
		if v == nil {
			continue
		}
		if lit, ok := v.Literal(); ok {
			if err := field.Validate(lit); err != nil {
				l.errorf(RuleStepInput, vals[i], "%s: %v", field.Name, err)
			}
			args.literals[field.Name] = lit
			args.pos[field.Name] = l.pos(vals[i])
		}
		st.With = append(st.With, &Arg{Field: field, Pos: l.pos(k), Value: v})
	}
}

// checkArgs runs the step type's Check, if it has one, on arguments that are all literal, with
// the inputs' defaults filled in. It reports the problem and returns false if there is one: a
// FieldError at the value it names inside w (the step's with), any other at at.
func (l *loader) checkArgs(st *Step, at, w *yaml.Node, literals map[string]any) bool {
	ck, ok := st.Type.(Checker)
	if !ok {
		return true
	}
	args := make(map[string]any, len(st.Type.Inputs()))
	for k, v := range literals {
		args[k] = v
	}
	for _, f := range st.Type.Inputs() {
		if _, set := args[f.Name]; !set && f.Default != nil {
			args[f.Name] = f.Default
		}
	}
	err := ck.Check(args)
	if err == nil {
		return true
	}
	var se *StepError
	if errors.As(err, &se) {
		if fes := fieldErrors(se.Err); len(fes) > 0 {
			for _, fe := range fes {
				l.errorf(RuleStepInput, fieldNode(w, at, fe), "step %q: %s: %v", st.ID, se.Type, fe)
			}
			return false
		}
	}
	l.errorf(RuleStepInput, at, "step %q: %v", st.ID, err)
	return false
}

// fieldNode finds the node a FieldError is about, following its path into w, the step's with:
// as deep as the path leads, or at when w does not set the input (a default is at fault).
func fieldNode(w, at *yaml.Node, fe *FieldError) *yaml.Node {
	cur, found := w, false
	for i, p := range fe.Path {
		var next *yaml.Node
		switch {
		case cur == nil:
		case cur.Kind == yaml.MappingNode:
			for j := 0; j+1 < len(cur.Content); j += 2 {
				if cur.Content[j].Value == p {
					next = cur.Content[j+1]
					if fe.Key && i == len(fe.Path)-1 {
						next = cur.Content[j]
					}
				}
			}
		case cur.Kind == yaml.SequenceNode:
			if n, err := strconv.Atoi(p); err == nil && n >= 0 && n < len(cur.Content) {
				next = cur.Content[n]
			}
		}
		if next == nil {
			break
		}
		cur, found = next, true
	}
	if !found {
		return at
	}
	return cur
}

// collection loads a for_each: a list or map, literal or computed.
func (l *loader) collection(n *yaml.Node, sc *scope) *ForEach {
	v := l.value(n, Any(), sc, "")
	if v == nil {
		return nil
	}
	fe := &ForEach{Value: v}
	switch {
	case v.expr != nil:
		elem := Any()
		if st := v.expr.static; st != nil && (st.Kind == KindList || st.Kind == KindMap) {
			elem = st.Elem
		}
		switch rt := v.expr.result; {
		case rt == nil || rt.Kind() == reflect.Interface:
			fe.itemType = Any()
		case rt.Kind() == reflect.Slice || rt.Kind() == reflect.Array:
			fe.itemType = elem
		case rt.Kind() == reflect.Map:
			fe.itemType = ObjectOf(Field{Name: "key", Type: String()}, Field{Name: "value", Type: elem})
		default:
			l.errs.add(RuleExprType, v.expr.Pos(), "for_each needs a list or a map, but this expression is %s", describeReflect(rt))
			return nil
		}
	case v.isLit && isList(v.lit):
		fe.itemType = commonType(v.lit.([]any))
	case v.isLit && isMap(v.lit):
		m := v.lit.(map[string]any)
		values := make([]any, 0, len(m))
		for _, x := range m {
			values = append(values, x)
		}
		fe.itemType = ObjectOf(Field{Name: "key", Type: String()}, Field{Name: "value", Type: commonType(values)})
	case v.list != nil:
		fe.itemType = Any()
	case v.keys != nil:
		fe.itemType = ObjectOf(Field{Name: "key", Type: String()}, Field{Name: "value", Type: Any()})
	default:
		l.errorf(RuleValueType, n, "for_each needs a list or a map, got %s", kindName(n))
		return nil
	}
	return fe
}

// commonType is the type every one of the literal values has, so that `item` over a literal
// collection is checked as strictly as over a typed one (a misspelt field of a literal object is
// an error before anything runs); values of different types have only any in common.
func commonType(values []any) *Type {
	var common *Type
	for _, x := range values {
		t := literalType(x)
		if common == nil {
			common = t
		} else if common.String() != t.String() {
			return Any()
		}
	}
	if common == nil {
		return Any()
	}
	return common
}

// literalType is the type of a literal value as the loader decodes it: an object's fields are its
// keys, a list's element type is its items' common type.
func literalType(x any) *Type {
	switch x := x.(type) {
	case []any:
		return ListOf(commonType(x))
	case map[string]any:
		names := slices.Sorted(maps.Keys(x))
		fields := make([]Field, len(names))
		for i, name := range names {
			fields[i] = Field{Name: name, Type: literalType(x[name])}
		}
		return ObjectOf(fields...)
	}
	return typeOfValue(x)
}

func isList(v any) bool { _, ok := v.([]any); return ok }
func isMap(v any) bool  { _, ok := v.(map[string]any); return ok }

// ForEach is a step's for_each: the collection it runs over.
type ForEach struct {
	Value    *Value
	itemType *Type
}

func (l *loader) condition(n *yaml.Node, sc *scope) *Expr {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		e := &Expr{Source: strconv.FormatBool(b), pos: func(int) Pos { return l.pos(n) }}
		return l.check.compile(e, sc, Bool())
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		l.errorf(RuleValueType, n, "if must be a bool expression such as ${{ inputs.enabled }}, got %s", kindName(n))
		return nil
	}
	segs, at, ok := splitTemplate(n.Value)
	posAt := l.scalarPos(n)
	if !ok {
		l.errs.add(RuleExprSyntax, posAt(at), "unterminated ${{: the expression has no closing }}%s", commentHint(l.text, n))
		return nil
	}
	if len(segs) != 1 || !segs[0].isExpr {
		l.errorf(RuleExprSyntax, n, "if must be one expression, written ${{ ... }}, that is true or false")
		return nil
	}
	e := &Expr{Source: segs[0].text, pos: offsetPos(posAt, segs[0].offset)}
	return l.check.compile(e, sc, Bool())
}

// MaxAttempts is the most tries a step's retry may ask for.
const MaxAttempts = 100

func (l *loader) retry(n *yaml.Node) *Retry {
	if n.Kind != yaml.MappingNode {
		l.errorf(RuleValueType, n, "retry must be a mapping with keys %s, got %s", strings.Join(retryKeys, ", "), kindName(n))
		return nil
	}
	r := &Retry{Attempts: 3, Delay: time.Second, Backoff: 2}
	f := l.mapping(n, "retry", retryKeys)
	if a := f["attempts"]; a != nil {
		v, err := decodeLiteral(a, Int())
		if err != nil || v.(int) < 1 || v.(int) > MaxAttempts {
			l.errorf(RuleValueType, a, "attempts must be a whole number of tries, from 1 to %d; got %s", MaxAttempts, kindName(a))
		} else {
			r.Attempts = v.(int)
		}
	}
	if d := f["delay"]; d != nil {
		r.Delay, _ = l.duration(d, "delay", MaxRetryDelay)
	}
	if b := f["backoff"]; b != nil {
		v, err := strconv.ParseFloat(b.Value, 64)
		if b.Kind != yaml.ScalarNode || err != nil || v < 1 || math.IsInf(v, 0) || math.IsNaN(v) {
			l.errorf(RuleValueType, b, "backoff must be a number of at least 1 (each delay is the previous one times backoff); got %s", kindName(b))
		} else {
			r.Backoff = v
		}
	}
	return r
}
