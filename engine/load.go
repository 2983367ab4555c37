package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/conf"
	exprtypes "github.com/expr-lang/expr/types"
	"go.yaml.in/yaml/v3"
)

// LoadFile reads and checks the workflow at path. See Load.
func LoadFile(path string, cat Catalog) (*Workflow, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, src, cat)
}

// Load parses src as the workflow file named file and checks all of it against cat: every key,
// every step type and argument, and every expression's names and types. All problems are returned
// together as Errors, in file order; a workflow with any problem is not returned. Warnings, which
// do not stop a run, are in Workflow.Warnings.
func Load(file string, src []byte, cat Catalog) (*Workflow, error) {
	l := &loader{file: file, src: src, cat: cat, stepExprTypes: map[string]exprtypes.Type{}, budget: maxNodes, exprTypes: map[*Type]exprtypes.Type{}}
	wf := l.load()
	if err := l.errs.err(); err != nil {
		return nil, err
	}
	l.warns.err() // sorts them
	wf.Warnings = l.warns
	return wf, nil
}

type loader struct {
	file          string
	src           []byte
	cat           Catalog
	errs          Errors
	warns         Errors
	wf            *Workflow
	inputs        *Type                     // object of every input, for steps and outputs
	declared      map[string]int            // step id -> line, for every step in the file
	stepExprTypes map[string]exprtypes.Type // step id -> its outputs as an expr type, built once
	budget        int                       // YAML nodes left to visit; see maxNodes
	lines         [][]byte                  // src split into lines, when first needed
	conf          *conf.Config              // expr-lang's configuration, shared by every expression
	exprTypes     map[*Type]exprtypes.Type  // Type -> expr type, built once
	field         string                    // "NAME: " while a with argument is loaded, for messages
}

var (
	topKeys   = []string{"name", "description", "inputs", "steps", "outputs"}
	inputKeys = []string{"type", "required", "default", "pattern", "enum", "secret", "description"}
	stepKeys  = []string{"id", "uses", "with", "if", "for_each", "retry", "timeout", "continue_on_error", "once"}
	retryKeys = []string{"attempts", "delay", "backoff"}

	stepIDPattern    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	namePattern      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	inputTypes       = map[string]*Type{"string": String, "int": Int, "bool": Bool, "list": ListOf(Any), "map": MapOf(Any)}
	inputTypeNames   = []string{"string", "int", "bool", "list", "map"}
	yamlLinePattern  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlLinePattern2 = regexp.MustCompile(`^yaml: (.*) at line (\d+), column (\d+)$`)
)

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	l.errs.add(l.pos(n), format, args...)
}

func (l *loader) load() *Workflow {
	wf := &Workflow{File: l.file, Source: l.src}
	l.wf = wf
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(l.src))
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			l.errs.add(Pos{File: l.file, Line: 1, Col: 1}, "the file is empty: a workflow needs at least name and steps")
		} else {
			l.yamlError(err)
		}
		return wf
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errorf(&extra, "a workflow file holds one YAML document; this is a second one")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		l.errorf(root, "a workflow is a mapping with keys %s; got %s", strings.Join(topKeys, ", "), kindName(root))
		return wf
	}
	fields := l.mapping(root, "the workflow", topKeys)
	if n := fields["name"]; n == nil {
		l.errorf(root, "the workflow has no name: add `name: ...`")
	} else if s, ok := l.scalarString(n, "name"); ok {
		if s == "" {
			l.errorf(n, "name must not be empty")
		}
		wf.Name = s
	}
	if n := fields["description"]; n != nil {
		wf.Description, _ = l.scalarString(n, "description")
	}
	l.loadInputs(fields["inputs"])
	l.loadSteps(root, fields["steps"])
	l.loadOutputs(fields["outputs"])
	return wf
}

// yamlError turns a YAML syntax error into positioned errors.
func (l *loader) yamlError(err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, m := range te.Errors {
			l.yamlMessage(m)
		}
		return
	}
	l.yamlMessage(err.Error())
}

func (l *loader) yamlMessage(msg string) {
	if m := yamlLinePattern.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		l.errs.add(Pos{File: l.file, Line: line}, "YAML syntax: %s", m[2])
		return
	}
	if m := yamlLinePattern2.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		l.errs.add(Pos{File: l.file, Line: line, Col: col}, "YAML syntax: %s", m[1])
		return
	}
	l.errs.add(Pos{File: l.file}, "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
}

// mapping returns the values of a mapping by key, reporting unknown and duplicate keys. what names
// the mapping in messages.
func (l *loader) mapping(n *yaml.Node, what string, known []string) map[string]*yaml.Node {
	keys, vals := l.pairs(n, what)
	out := make(map[string]*yaml.Node, len(keys))
	for i, k := range keys {
		if known != nil && !contains(known, k.Value) {
			l.errorf(k, "unknown key %q in %s%s", k.Value, what, suggest(k.Value, known))
			continue
		}
		out[k.Value] = vals[i]
	}
	return out
}

// pairs returns a mapping's keys and values in order, reporting duplicates.
func (l *loader) pairs(n *yaml.Node, what string) (keys []*yaml.Node, vals []*yaml.Node) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, "keys in %s must be plain names", what)
			continue
		}
		if prev := seen[k.Value]; prev != nil {
			l.errorf(k, "key %q is duplicated in %s; previously defined at line %d, column %d", k.Value, what, prev.Line, prev.Column)
			continue
		}
		seen[k.Value] = k
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals
}

func (l *loader) scalarString(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errorf(n, "%s must be a string, got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (l *loader) scalarBool(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return b, true
		}
	}
	l.errorf(n, "%s must be true or false, got %s", what, kindName(n))
	return false, false
}

func (l *loader) duration(n *yaml.Node, what string) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		d, err := time.ParseDuration(n.Value)
		if err == nil && d > 0 {
			return d, true
		}
	}
	l.errorf(n, "%s must be a positive duration such as 30s, 1m30s or 500ms; got %s", what, kindName(n))
	return 0, false
}

// kindName names what a node holds, for "expected X, got Y" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int":
			return "int " + n.Value
		case "!!float":
			return "float " + n.Value
		case "!!bool":
			return "bool " + n.Value
		}
		return fmt.Sprintf("string %q", n.Value)
	}
	return "nothing"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---- inputs

func (l *loader) loadInputs(n *yaml.Node) {
	l.inputs = ObjectOf()
	if n == nil || n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "inputs must be a mapping of input names to their declarations, got %s", kindName(n))
		return
	}
	keys, vals := l.pairs(n, "inputs")
	for i, k := range keys {
		in := l.loadInput(k, vals[i])
		if in == nil {
			continue
		}
		l.wf.Inputs = append(l.wf.Inputs, in)
		l.inputs.Fields = append(l.inputs.Fields, Field{Name: in.Name, Type: in.Type, Secret: in.Secret, Doc: in.Description})
	}
}

func (l *loader) loadInput(k, n *yaml.Node) *Input {
	in := &Input{Name: k.Value, Pos: l.pos(k), Type: String}
	if !namePattern.MatchString(k.Value) {
		l.errorf(k, "input name %q must be letters, digits and _ (and not begin with a digit), to be usable as inputs.NAME", k.Value)
	}
	if n.Tag == "!!null" {
		return in // `client:` alone declares an optional string
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "input %q must be a mapping with keys %s, got %s", k.Value, strings.Join(inputKeys, ", "), kindName(n))
		return nil
	}
	f := l.mapping(n, fmt.Sprintf("input %q", k.Value), inputKeys)
	if t := f["type"]; t != nil {
		if s, ok := l.scalarString(t, "type"); ok {
			if typ, known := inputTypes[s]; known {
				in.Type = typ
			} else {
				l.errorf(t, "unknown input type %q%s", s, suggest(s, inputTypeNames))
			}
		}
	}
	if r := f["required"]; r != nil {
		in.Required, _ = l.scalarBool(r, "required")
	}
	if s := f["secret"]; s != nil {
		in.Secret, _ = l.scalarBool(s, "secret")
	}
	if d := f["description"]; d != nil {
		in.Description, _ = l.scalarString(d, "description")
	}
	if p := f["pattern"]; p != nil {
		if s, ok := l.scalarString(p, "pattern"); ok {
			if in.Type != String {
				l.errorf(p, "pattern applies to string inputs only; input %q is %s", in.Name, in.Type)
			} else if re, err := regexp.Compile(s); err != nil {
				l.errorf(p, "pattern is not a valid regular expression: %v", err)
			} else {
				in.Pattern = re
			}
		}
	}
	if e := f["enum"]; e != nil {
		if e.Kind != yaml.SequenceNode || len(e.Content) == 0 {
			l.errorf(e, "enum must be a non-empty list of allowed values, got %s", kindName(e))
		} else {
			for _, item := range e.Content {
				v, err := decodeLiteral(item, in.Type)
				if err != nil {
					l.errorf(item, "enum value: %v", err)
					continue
				}
				in.Enum = append(in.Enum, v)
			}
		}
	}
	if d := f["default"]; d != nil {
		if in.Required {
			l.errorf(d, "input %q is required and has a default; a default means it is never missing: drop one of them", in.Name)
		}
		sc := &scope{inputs: ObjectOf(l.inputs.Fields...), what: "an input's default"}
		in.Default = l.value(d, in.Type, sc)
		if in.Default != nil {
			if v, ok := in.Default.Literal(); ok && v != nil {
				if err := in.Validate(v); err != nil {
					l.errorf(d, "default of input %q: %v", in.Name, err)
				}
			}
		}
	}
	return in
}

// Validate checks a value already of the input's type against its pattern and enum.
// A secret input's value is never quoted in the error: it says "the secret value".
func (in *Input) Validate(v any) error {
	shown := fmt.Sprintf("%q", v)
	if in.Secret {
		shown = "the secret value"
	}
	if in.Pattern != nil {
		if s, ok := v.(string); ok && !in.Pattern.MatchString(s) {
			return fmt.Errorf("%s does not match the pattern %s", shown, in.Pattern)
		}
	}
	if len(in.Enum) > 0 {
		for _, e := range in.Enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				return nil
			}
		}
		allowed := make([]string, len(in.Enum))
		for i, e := range in.Enum {
			allowed[i] = fmt.Sprint(e)
		}
		if !in.Secret {
			shown = fmt.Sprint(v)
		}
		return fmt.Errorf("%s is not one of the allowed values: %s", shown, strings.Join(allowed, ", "))
	}
	return nil
}

// ---- steps

func (l *loader) loadSteps(root, n *yaml.Node) {
	if n == nil || n.Tag == "!!null" {
		l.errorf(root, "the workflow has no steps: add `steps:` with at least one step")
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "steps must be a list of steps, got %s", kindName(n))
		return
	}
	if len(n.Content) == 0 {
		l.errorf(n, "steps is empty: a workflow needs at least one step")
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
	visible := map[string]*Step{}
	ids := map[string]*yaml.Node{}
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
		l.errorf(n, "a step must be a mapping with keys %s, got %s", strings.Join(stepKeys, ", "), kindName(n))
		return nil
	}
	st := &Step{Pos: l.pos(n)}
	f := l.mapping(n, "a step", stepKeys)
	if id := f["id"]; id == nil {
		l.errorf(n, "the step has no id: add `id: ...` (lower case letters, digits and _)")
	} else if s, ok := l.scalarString(id, "id"); ok {
		switch {
		case !stepIDPattern.MatchString(s):
			l.errorf(id, "step id %q must match [a-z][a-z0-9_]*", s)
		case ids[s] != nil:
			prev := ids[s]
			l.errorf(id, "step id %q is duplicated; previously defined at line %d, column %d", s, prev.Line, prev.Column)
		default:
			ids[s] = id
			st.ID = s
		}
		st.Pos = l.pos(id)
	}
	what := "step " + strconv.Quote(st.ID)
	if u := f["uses"]; u == nil {
		l.errorf(n, "%s has no `uses`: name a step type (see `flow steps`)", what)
	} else if s, ok := l.scalarString(u, "uses"); ok {
		st.Uses = s
		if t, found := l.cat.Lookup(s); found {
			st.Type = t
		} else {
			l.errorf(u, "unknown step type %q%s", s, suggest(s, l.cat.Names()))
		}
	}
	if fe := f["for_each"]; fe != nil {
		sc := &scope{inputs: l.inputs, steps: visible, declared: l.declared, self: st.ID, what: "for_each"}
		st.ForEach = l.collection(fe, sc)
	}
	sc := &scope{inputs: l.inputs, steps: visible, declared: l.declared, self: st.ID, what: what}
	if st.ForEach != nil {
		sc.item = st.ForEach.itemType
		sc.itemRuntime = st.ForEach.runtime
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
		st.Timeout, _ = l.duration(t, "timeout")
	}
	if c := f["continue_on_error"]; c != nil {
		st.ContinueOnError, _ = l.scalarBool(c, "continue_on_error")
	}
	if o := f["once"]; o != nil {
		if s, ok := l.scalarString(o, "once"); ok {
			if s != OnceInstance {
				l.errorf(o, "once must be %q (run once per instance), got %q", OnceInstance, s)
			}
			st.Once, st.OncePos = s, l.pos(o)
		}
	}
	if st.Type != nil {
		l.loadWith(st, n, f["with"], sc)
	}
	return st
}

func (l *loader) loadWith(st *Step, stepNode, w *yaml.Node, sc *scope) {
	errsBefore := len(l.errs)
	inputs := st.Type.Inputs()
	set := map[string]bool{}
	literals := map[string]any{}
	fieldPos := map[string]Pos{}
	if w != nil && w.Tag != "!!null" {
		if w.Kind != yaml.MappingNode {
			l.errorf(w, "with must be a mapping of %s's inputs, got %s", st.Uses, kindName(w))
			return
		}
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
				l.errorf(k, "%s has no input %q%s", st.Uses, k.Value, suggest(k.Value, names))
				continue
			}
			set[field.Name] = true
			l.field = field.Name + ": "
			v := l.value(vals[i], field.Type, sc)
			l.field = ""
			if v == nil {
				continue
			}
			if lit, ok := v.Literal(); ok && field.Check != nil {
				if err := field.Check(lit); err != nil {
					l.errorf(vals[i], "%s: %v", field.Name, err)
				}
			}
			if lit, ok := v.Literal(); ok {
				literals[field.Name] = lit
				fieldPos[field.Name] = l.pos(vals[i])
			}
			st.With = append(st.With, &Arg{Field: field, Pos: l.pos(k), Value: v})
		}
	}
	for _, f := range inputs {
		if f.Required && f.Default == nil && !set[f.Name] {
			at := stepNode
			if w != nil {
				at = w
			}
			l.errorf(at, "step %q (%s) is missing the required input %q", st.ID, st.Uses, f.Name)
		}
	}
	if ck, ok := st.Type.(Checker); ok && len(literals) == len(st.With) && len(l.errs) == errsBefore {
		args := make(map[string]any, len(inputs))
		for k, v := range literals {
			args[k] = v
		}
		for _, f := range inputs {
			if _, set := args[f.Name]; !set && f.Default != nil {
				args[f.Name] = f.Default
			}
		}
		if err := ck.Check(args); err != nil {
			at := stepNode
			if w != nil {
				at = w
			}
			l.errorf(at, "step %q (%s): %v", st.ID, st.Uses, err)
			return
		}
	}
	if lt, ok := st.Type.(Linter); ok {
		for _, warn := range lt.Lint(literals) {
			pos, found := fieldPos[warn.Field]
			if !found {
				pos = st.Pos
			}
			l.warns.add(pos, "%s", warn.Msg)
		}
	}
}

// collection loads a for_each: a list or map, literal or computed.
func (l *loader) collection(n *yaml.Node, sc *scope) *ForEach {
	v := l.value(n, Any, sc)
	if v == nil {
		return nil
	}
	fe := &ForEach{Value: v}
	switch {
	case v.expr != nil:
		fe.runtime = v.expr.runtime
		elem := Any
		if st := v.expr.static; st != nil && (st.Kind == KindList || st.Kind == KindMap) {
			elem = st.Elem
		}
		switch rt := v.expr.result; {
		case rt == nil || rt.Kind() == reflect.Interface:
			fe.itemType = Any
		case rt.Kind() == reflect.Slice || rt.Kind() == reflect.Array:
			fe.itemType = elem
		case rt.Kind() == reflect.Map:
			fe.itemType = ObjectOf(Field{Name: "key", Type: String}, Field{Name: "value", Type: elem})
		default:
			l.errs.add(v.expr.Pos(), "for_each needs a list or a map, but this expression is %s", describeReflect(rt))
			return nil
		}
	case v.list != nil || (v.isLit && isList(v.lit)):
		fe.itemType = Any
	case v.keys != nil || (v.isLit && isMap(v.lit)):
		fe.itemType = ObjectOf(Field{Name: "key", Type: String}, Field{Name: "value", Type: Any})
	default:
		l.errorf(n, "for_each needs a list or a map, got %s", kindName(n))
		return nil
	}
	return fe
}

func isList(v any) bool { _, ok := v.([]any); return ok }
func isMap(v any) bool  { _, ok := v.(map[string]any); return ok }

// ForEach is a step's for_each: the collection it runs over.
type ForEach struct {
	Value    *Value
	itemType *Type
	runtime  bool
}

func (l *loader) condition(n *yaml.Node, sc *scope) *Expr {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		e := &Expr{Source: strconv.FormatBool(b), pos: func(int) Pos { return l.pos(n) }}
		return l.compile(e, sc, Bool)
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		l.errorf(n, "if must be a bool expression such as ${{ inputs.enabled }}, got %s", kindName(n))
		return nil
	}
	segs, at, ok := splitTemplate(n.Value)
	posAt := l.scalarPos(n)
	if !ok {
		l.errs.add(posAt(at), "unterminated ${{: the expression has no closing }}%s", l.commentHint(n))
		return nil
	}
	if len(segs) != 1 || !segs[0].isExpr {
		l.errorf(n, "if must be one expression, written ${{ ... }}, that is true or false")
		return nil
	}
	e := &Expr{Source: segs[0].text, pos: offsetPos(posAt, segs[0].offset)}
	return l.compile(e, sc, Bool)
}

func (l *loader) retry(n *yaml.Node) *Retry {
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "retry must be a mapping with keys %s, got %s", strings.Join(retryKeys, ", "), kindName(n))
		return nil
	}
	r := &Retry{Attempts: 3, Delay: time.Second, Backoff: 2}
	f := l.mapping(n, "retry", retryKeys)
	if a := f["attempts"]; a != nil {
		v, err := decodeLiteral(a, Int)
		if err != nil || v.(int) < 1 {
			l.errorf(a, "attempts must be a whole number of tries, at least 1; got %s", kindName(a))
		} else {
			r.Attempts = v.(int)
		}
	}
	if d := f["delay"]; d != nil {
		r.Delay, _ = l.duration(d, "delay")
	}
	if b := f["backoff"]; b != nil {
		v, err := strconv.ParseFloat(b.Value, 64)
		if b.Kind != yaml.ScalarNode || err != nil || v < 1 || math.IsInf(v, 0) || math.IsNaN(v) {
			l.errorf(b, "backoff must be a number of at least 1 (each delay is the previous one times backoff); got %s", kindName(b))
		} else {
			r.Backoff = v
		}
	}
	return r
}

// ---- outputs

func (l *loader) loadOutputs(n *yaml.Node) {
	if n == nil || n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "outputs must be a mapping of names to values, got %s", kindName(n))
		return
	}
	visible := map[string]*Step{}
	for _, st := range l.wf.Steps {
		if st.ID != "" && st.Type != nil {
			visible[st.ID] = st
		}
	}
	sc := &scope{inputs: l.inputs, steps: visible, declared: l.declared, what: "outputs"}
	keys, vals := l.pairs(n, "outputs")
	for i, k := range keys {
		if !namePattern.MatchString(k.Value) {
			l.errorf(k, "output name %q must be letters, digits and _", k.Value)
		}
		if v := l.value(vals[i], Any, sc); v != nil {
			l.wf.Outputs = append(l.wf.Outputs, &Output{Name: k.Value, Pos: l.pos(k), Value: v})
		}
	}
}

// ---- values

// value builds the Value of node n for a field of type t, compiling its expressions in scope sc.
// It returns nil, having reported why, when n cannot be such a value.
func (l *loader) value(n *yaml.Node, t *Type, sc *scope) *Value {
	if l.budget--; l.budget < 0 {
		if l.budget == -1 {
			l.errorf(n, "%v", errTooManyNodes)
		}
		return nil
	}
	v := &Value{Pos: l.pos(n)}
	switch {
	case n.Kind == yaml.AliasNode:
		return l.value(n.Alias, t, sc)
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && strings.Contains(n.Value, "${{"):
		segs, at, ok := splitTemplate(n.Value)
		posAt := l.scalarPos(n)
		if !ok {
			l.errs.add(posAt(at), "unterminated ${{: the expression has no closing }}%s", l.commentHint(n))
			return nil
		}
		if len(segs) == 1 && segs[0].isExpr {
			e := &Expr{Source: segs[0].text, pos: offsetPos(posAt, segs[0].offset)}
			if v.expr = l.compile(e, sc, t); v.expr == nil {
				return nil
			}
			return v
		}
		if t.Kind != KindString && t.Kind != KindAny {
			l.errorf(n, "expected %s, but text with ${{ }} in it is a string; to compute a %s write the whole value as one ${{ expression }}", t, t)
			return nil
		}
		failed := false
		for _, s := range segs {
			if !s.isExpr {
				v.parts = append(v.parts, part{text: s.text})
				continue
			}
			e := l.compile(&Expr{Source: s.text, pos: offsetPos(posAt, s.offset)}, sc, Any)
			if e == nil {
				failed = true
				continue
			}
			v.parts = append(v.parts, part{expr: e})
		}
		if failed {
			return nil
		}
		return v
	case n.Kind == yaml.SequenceNode && (t.Kind == KindList || t.Kind == KindAny):
		elem := Any
		if t.Kind == KindList {
			elem = t.Elem
		}
		v.list = make([]*Value, 0, len(n.Content))
		failed := false
		for _, c := range n.Content {
			cv := l.value(c, elem, sc)
			if cv == nil {
				failed = true
				continue
			}
			v.list = append(v.list, cv)
		}
		if failed {
			return nil
		}
		return v.fold()
	case n.Kind == yaml.MappingNode && (t.Kind == KindMap || t.Kind == KindObject || t.Kind == KindAny):
		keys, vals := l.pairs(n, "the mapping")
		v.keys = []string{}
		failed := false
		for i, k := range keys {
			et := Any
			switch t.Kind {
			case KindMap:
				et = t.Elem
			case KindObject:
				f := t.Field(k.Value)
				if f == nil {
					l.errorf(k, "unknown key %q%s", k.Value, suggest(k.Value, t.FieldNames()))
					failed = true
					continue
				}
				et = f.Type
			}
			cv := l.value(vals[i], et, sc)
			if cv == nil {
				failed = true
				continue
			}
			v.keys, v.vals = append(v.keys, k.Value), append(v.vals, cv)
		}
		if t.Kind == KindObject {
			for _, f := range t.Fields {
				if f.Required && !contains(v.keys, f.Name) {
					l.errorf(n, "missing required key %q", f.Name)
					failed = true
				}
			}
		}
		if failed {
			return nil
		}
		return v.fold()
	}
	lit, err := decodeLiteralBudget(n, t, &l.budget)
	if err != nil {
		if err != errTooManyNodes || l.budget == -1 {
			l.errorf(n, "%s%v", l.field, err)
		}
		return nil
	}
	v.lit, v.isLit = lit, true
	return v
}

// fold turns a list or map whose members are all literal into one literal.
func (v *Value) fold() *Value {
	if v.list != nil {
		out := make([]any, len(v.list))
		for i, e := range v.list {
			if !e.isLit {
				return v
			}
			out[i] = e.lit
		}
		return &Value{Pos: v.Pos, lit: out, isLit: true}
	}
	out := make(map[string]any, len(v.keys))
	for i, e := range v.vals {
		if !e.isLit {
			return v
		}
		out[v.keys[i]] = e.lit
	}
	return &Value{Pos: v.Pos, lit: out, isLit: true}
}

// maxNodes bounds how many YAML nodes a document may expand to once its aliases are followed, so
// an "alias bomb" (aliases of aliases, each repeated) is an error rather than a hang.
const maxNodes = 200_000

var errTooManyNodes = fmt.Errorf("the document expands to more than %d values once its YAML aliases are followed", maxNodes)

// decodeLiteral converts a node with no expression in it to a value of type t.
func decodeLiteral(n *yaml.Node, t *Type) (any, error) {
	budget := maxNodes
	return decodeLiteralBudget(n, t, &budget)
}

func decodeLiteralBudget(n *yaml.Node, t *Type, budget *int) (any, error) {
	if *budget--; *budget < 0 {
		return nil, errTooManyNodes
	}
	if n.Kind == yaml.AliasNode {
		return decodeLiteralBudget(n.Alias, t, budget)
	}
	tag := n.ShortTag()
	if n.Kind == yaml.ScalarNode && tag == "!!null" {
		if t.Kind == KindAny {
			return nil, nil
		}
		return nil, fmt.Errorf("expected %s, got null", t)
	}
	switch t.Kind {
	case KindString:
		if n.Kind == yaml.ScalarNode {
			return n.Value, nil
		}
	case KindInt:
		if n.Kind == yaml.ScalarNode && tag == "!!int" {
			i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
			if err != nil {
				return nil, fmt.Errorf("the int is out of range (a 64-bit int is needed)")
			}
			return int(i), nil
		}
	case KindBool:
		if n.Kind == yaml.ScalarNode && tag == "!!bool" {
			return strconv.ParseBool(strings.ToLower(n.Value))
		}
	case KindList:
		if n.Kind == yaml.SequenceNode {
			out := make([]any, len(n.Content))
			for i, c := range n.Content {
				v, err := decodeLiteralBudget(c, t.Elem, budget)
				if err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err) // 0-based, as expressions index
				}
				out[i] = v
			}
			return out, nil
		}
	case KindMap, KindObject:
		if n.Kind == yaml.MappingNode {
			out := make(map[string]any, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				et := t.Elem
				if t.Kind == KindObject {
					f := t.Field(n.Content[i].Value)
					if f == nil {
						return nil, fmt.Errorf("unknown key %q%s", n.Content[i].Value, suggest(n.Content[i].Value, t.FieldNames()))
					}
					et = f.Type
				}
				v, err := decodeLiteralBudget(n.Content[i+1], et, budget)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", n.Content[i].Value, err)
				}
				out[n.Content[i].Value] = v
			}
			return out, nil
		}
	case KindAny:
		switch n.Kind {
		case yaml.ScalarNode:
			switch tag {
			case "!!int":
				return decodeLiteralBudget(n, Int, budget)
			case "!!bool":
				return decodeLiteralBudget(n, Bool, budget)
			case "!!float":
				var f float64 // as YAML reads it: .inf, -.Inf and .nan included
				if err := n.Decode(&f); err != nil {
					return nil, fmt.Errorf("not a number YAML can read")
				}
				return f, nil
			}
			return n.Value, nil
		case yaml.SequenceNode:
			return decodeLiteralBudget(n, ListOf(Any), budget)
		case yaml.MappingNode:
			return decodeLiteralBudget(n, MapOf(Any), budget)
		}
	}
	return nil, fmt.Errorf("expected %s, got %s", t, kindName(n))
}

// commentHint explains the usual cause of an unterminated plain scalar: YAML took the rest of
// the line, from " #", as a comment.
func (l *loader) commentHint(n *yaml.Node) string {
	if n.Style != 0 {
		return ""
	}
	if l.lines == nil {
		l.lines = bytes.Split(l.src, []byte("\n"))
	}
	if n.Line >= 1 && n.Line <= len(l.lines) && bytes.Contains(l.lines[n.Line-1], []byte(" #")) {
		return " (a # after a space starts a YAML comment: quote the whole value)"
	}
	return ""
}

// ---- positions inside scalars

// foldedPos maps offsets in a scalar folded from several lines: an offset inside the k-th
// `${{` of the value is placed that far past the k-th `${{` of the source from the scalar's
// start, exact while the expression itself sits on one line without escapes.
func (l *loader) foldedPos(n *yaml.Node, start Pos) func(int) Pos {
	value := []rune(n.Value)
	var src []rune // the source from the scalar's start to the end of the file
	for i := n.Line - 1; i < len(l.lines); i++ {
		line := []rune(string(l.lines[i]))
		if i == n.Line-1 {
			line = line[min(n.Column-1, len(line)):]
		}
		src = append(append(src, line...), '\n')
	}
	return func(off int) Pos {
		off = min(max(off, 0), len(value))
		open := lastIndex(value[:off], []rune("${{"))
		if open < 0 {
			return start
		}
		k := countRunes(value[:open], []rune("${{"))
		at := nthIndex(src, []rune("${{"), k)
		if at < 0 {
			return start
		}
		line, col := n.Line, n.Column
		for _, c := range src[:at+off-open] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return Pos{File: l.file, Line: line, Col: col}
	}
}

func lastIndex(s, sub []rune) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if string(s[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}

func countRunes(s, sub []rune) int {
	n := 0
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == string(sub) {
			n++
			i += len(sub) - 1
		}
	}
	return n
}

func nthIndex(s, sub []rune, k int) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == string(sub) {
			if k == 0 {
				return i
			}
			k--
			i += len(sub) - 1
		}
	}
	return -1
}

// offsetPos returns the position function of an expression that starts offset runes into a scalar.
func offsetPos(scalar func(int) Pos, offset int) func(int) Pos {
	return func(i int) Pos { return scalar(offset + i) }
}

// scalarPos returns a function from a rune offset in n.Value to its position in the file: exact for
// plain and quoted scalars on one line and for literal blocks; the scalar's start otherwise.
func (l *loader) scalarPos(n *yaml.Node) func(int) Pos {
	start := l.pos(n)
	if l.lines == nil {
		l.lines = bytes.Split(l.src, []byte("\n"))
	}
	lines := l.lines
	if n.Line < 1 || n.Line > len(lines) {
		return func(int) Pos { return start }
	}
	switch n.Style {
	case yaml.LiteralStyle:
		// Content starts on the next line, indented like its first non-empty line.
		indent := 0
		for i := n.Line; i < len(lines); i++ {
			s := string(lines[i])
			if strings.TrimSpace(s) != "" {
				indent = len(s) - len(strings.TrimLeft(s, " "))
				break
			}
		}
		value := []rune(n.Value)
		return func(off int) Pos {
			line, col := n.Line+1, indent+1
			for i := 0; i < off && i < len(value); i++ {
				if value[i] == '\n' {
					line, col = line+1, indent+1
				} else {
					col++
				}
			}
			return Pos{File: l.file, Line: line, Col: col}
		}
	case yaml.FoldedStyle:
		return l.foldedPos(n, start)
	}
	if strings.Contains(n.Value, "\n") {
		return l.foldedPos(n, start)
	}
	raw := []rune(string(lines[n.Line-1]))
	if n.Column-1 > len(raw) {
		return func(int) Pos { return start }
	}
	raw = raw[n.Column-1:]
	value := []rune(n.Value)
	// cols[i] is the column of value rune i.
	cols := make([]int, len(value)+1)
	r := 0
	switch n.Style {
	case yaml.SingleQuotedStyle:
		r = 1
		for i, c := range value {
			cols[i] = r
			if c == '\'' {
				r += 2
			} else {
				r++
			}
		}
	case yaml.DoubleQuotedStyle:
		r = 1
		for i := range value {
			cols[i] = r
			if r < len(raw) && raw[r] == '\\' && r+1 < len(raw) {
				switch raw[r+1] {
				case 'x':
					r += 4
				case 'u':
					r += 6
				case 'U':
					r += 10
				default:
					r += 2
				}
			} else {
				r++
			}
		}
	default:
		for i := range value {
			cols[i] = i
		}
		r = len(value)
	}
	cols[len(value)] = r
	// A scalar folded from several source lines has no newline in its value: check that it ends
	// on this line where the mapping says, else find its expressions in the source.
	switch n.Style {
	case yaml.SingleQuotedStyle:
		if r >= len(raw) || raw[r] != '\'' {
			return l.foldedPos(n, start)
		}
	case yaml.DoubleQuotedStyle:
		if r >= len(raw) || raw[r] != '"' {
			return l.foldedPos(n, start)
		}
	default:
		if !strings.HasPrefix(string(raw), n.Value) {
			return l.foldedPos(n, start)
		}
	}
	return func(off int) Pos {
		if off < 0 {
			off = 0
		}
		if off > len(value) {
			off = len(value)
		}
		return Pos{File: l.file, Line: n.Line, Col: n.Column + cols[off]}
	}
}
