package engine

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadFile reads (see ReadSource) and checks the workflow at path. See Load.
func LoadFile(path string, cat Catalog) (*Workflow, error) {
	src, err := ReadSource(path)
	if err != nil {
		return nil, err
	}
	return Load(path, src, cat)
}

// Load parses src as the workflow file named file and checks all of it against cat: every key,
// every step type and argument, and every expression's names and types. All problems are returned
// together as Errors, in file order; a workflow with any problem is not returned. Warnings, which
// do not stop a run, are in Workflow.Warnings.
//
// It runs in passes: parse (bytes to YAML nodes, see parse.go), then the loader below walks the
// nodes into the model, decoding literals (literal.go) and handing every expression to the checker
// (check.go), which places its errors inside the scalar it was written in (scalarpos.go).
func Load(file string, src []byte, cat Catalog) (*Workflow, error) {
	calls := &callees{loaded: map[string]*Workflow{}, stack: []string{filepath.Clean(file)}}
	wf, errs, warns := loadOne(file, src, cat, calls)
	if err := errs.err(); err != nil {
		return nil, errs.capped(maxErrors)
	}
	warns.err() // sorts them
	wf.Warnings = warns
	return wf, nil
}

// loadOne loads one file, and the files it calls through calls, returning its problems and warnings.
func loadOne(file string, src []byte, cat Catalog, calls *callees) (*Workflow, Errors, Errors) {
	l := &loader{file: file, src: src, text: newSource(file, src), cat: cat, callees: calls}
	l.check = newChecker(&l.errs)
	wf := &Workflow{File: file, Source: src}
	l.wf = wf
	if root := parse(file, src, &l.errs); root != nil {
		l.loadDocument(root)
	}
	return wf, l.errs, l.warns
}

// maxErrors is how many problems Load reports; the rest are counted in a last line.
const maxErrors = 100

// loader walks a parsed workflow's YAML nodes into the model, reporting every problem with the
// position of the node it is about.
type loader struct {
	file     string
	src      []byte
	text     *source // src in lines, for positions inside scalars
	cat      Catalog
	check    *checker // compiles and checks the expressions, reporting into errs
	errs     Errors
	warns    Errors
	wf       *Workflow
	inputs   *Type          // object of every input, for steps and outputs
	declared map[string]int // step id -> line, for every step in the file
	// stepNodes are the steps as written, for needs' cycle messages.
	stepNodes []*yaml.Node
	callees   *callees // the workflows this load calls, and the calls being loaded
}

var (
	topKeys   = []string{"name", "description", "concurrency", "inputs", "steps", "outputs"}
	inputKeys = []string{"type", "required", "default", "pattern", "enum", "secret", "description"}
	stepKeys  = []string{"id", "uses", "with", "if", "needs", "for_each", "parallel", "fail_fast", "retry", "timeout", "continue_on_error", "once"}
	retryKeys = []string{"attempts", "delay", "backoff"}

	stepIDPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	namePattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	groupPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	inputTypeNames = []string{"string", "int", "bool", "list", "map"}
)

// inputType returns the type an input declares by name, or false.
func inputType(name string) (*Type, bool) {
	switch name {
	case "string":
		return String(), true
	case "int":
		return Int(), true
	case "bool":
		return Bool(), true
	case "list":
		return ListOf(Any()), true
	case "map":
		return MapOf(Any()), true
	}
	return nil, false
}

func (l *loader) pos(n *yaml.Node) Pos { return nodePos(l.file, n) }

// errorf adds a problem found by rule at n, ending where n's text ends when that is known.
func (l *loader) errorf(rule string, n *yaml.Node, format string, args ...any) {
	l.errs.add(rule, l.pos(n), format, args...)
	l.errs[len(l.errs)-1].End = nodeEnd(l.file, n)
}

// scalarPos maps rune offsets in scalar n's value to positions in the file.
func (l *loader) scalarPos(n *yaml.Node) func(int) Pos { return l.text.scalarPos(n) }

// loadDocument loads the workflow's top-level mapping.
func (l *loader) loadDocument(root *yaml.Node) {
	fields := l.mapping(root, "the workflow", topKeys)
	if n := fields["name"]; n == nil {
		l.errorf(RuleRequiredKey, root, "the workflow has no name: add `name: ...`")
	} else if s, ok := l.scalarString(n, "name"); ok {
		if s == "" {
			l.errorf(RuleRequiredKey, n, "name must not be empty")
		}
		l.wf.Name = s
	}
	if n := fields["description"]; n != nil {
		l.wf.Description, _ = l.scalarString(n, "description")
	}
	if n := fields["concurrency"]; n != nil {
		if s, ok := l.scalarString(n, "concurrency"); ok {
			if !groupPattern.MatchString(s) || len(s) > 100 {
				l.errorf(RuleName, n, "concurrency %q: a group's name is up to 100 letters, digits, '.', '_' or '-', starting with a letter or digit (it names a lock file)", s)
			}
			l.wf.Concurrency = s
		}
	}
	l.loadInputs(fields["inputs"])
	l.loadSteps(root, fields["steps"])
	l.loadOutputs(fields["outputs"])
}

// mapping returns the values of a mapping by key, reporting unknown and duplicate keys. what names
// the mapping in messages.
func (l *loader) mapping(n *yaml.Node, what string, known []string) map[string]*yaml.Node {
	keys, vals := l.pairs(n, what)
	out := make(map[string]*yaml.Node, len(keys))
	for i, k := range keys {
		if known != nil && !contains(known, k.Value) {
			l.errorf(RuleUnknownKey, k, "unknown key %q in %s%s", k.Value, what, suggest(k.Value, known))
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
			l.errorf(RuleValueType, k, "keys in %s must be plain names", what)
			continue
		}
		if prev := seen[k.Value]; prev != nil {
			l.errorf(RuleDuplicateKey, k, "key %q is duplicated in %s; previously defined at line %d, column %d", k.Value, what, prev.Line, prev.Column)
			continue
		}
		seen[k.Value] = k
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals
}

func (l *loader) scalarString(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errorf(RuleValueType, n, "%s must be a string, got %s", what, kindName(n))
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
	l.errorf(RuleValueType, n, "%s must be true or false, got %s", what, kindName(n))
	return false, false
}

// MaxStepTimeout is the longest timeout a step may have: a day.
const MaxStepTimeout = 24 * time.Hour

// duration reads a positive duration of at most max.
func (l *loader) duration(n *yaml.Node, what string, max time.Duration) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		d, err := time.ParseDuration(n.Value)
		if err == nil && d > max {
			l.errorf(RuleValueType, n, "%s must be at most %s; got %s", what, max, n.Value)
			return 0, false
		}
		if err == nil && d > 0 {
			return d, true
		}
	}
	l.errorf(RuleValueType, n, "%s must be a positive duration such as 30s, 1m30s or 500ms; got %s", what, kindName(n))
	return 0, false
}

func (l *loader) loadInputs(n *yaml.Node) {
	l.inputs = ObjectOf()
	if n == nil || n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(RuleValueType, n, "inputs must be a mapping of input names to their declarations, got %s", kindName(n))
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
	in := &Input{Name: k.Value, Pos: l.pos(k), Type: String()}
	if !namePattern.MatchString(k.Value) {
		l.errorf(RuleName, k, "input name %q must be letters, digits and _ (and not begin with a digit), to be usable as inputs.NAME", k.Value)
	}
	if n.Tag == "!!null" {
		return in // `client:` alone declares an optional string
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(RuleValueType, n, "input %q must be a mapping with keys %s, got %s", k.Value, strings.Join(inputKeys, ", "), kindName(n))
		return nil
	}
	f := l.mapping(n, fmt.Sprintf("input %q", k.Value), inputKeys)
	if t := f["type"]; t != nil {
		if s, ok := l.scalarString(t, "type"); ok {
			if typ, known := inputType(s); known {
				in.Type = typ
			} else {
				l.errorf(RuleInputDeclaration, t, "unknown input type %q%s", s, suggest(s, inputTypeNames))
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
			if in.Type.Kind != KindString {
				l.errorf(RuleInputDeclaration, p, "pattern applies to string inputs only; input %q is %s", in.Name, in.Type)
			} else if re, err := regexp.Compile(s); err != nil {
				l.errorf(RuleInputDeclaration, p, "pattern is not a valid regular expression: %v", err)
			} else {
				in.Pattern = re
			}
		}
	}
	if e := f["enum"]; e != nil {
		if e.Kind != yaml.SequenceNode || len(e.Content) == 0 {
			l.errorf(RuleInputDeclaration, e, "enum must be a non-empty list of allowed values, got %s", kindName(e))
		} else {
			for _, item := range e.Content {
				v, err := decodeLiteral(item, in.Type)
				if err != nil {
					l.errorf(RuleInputDeclaration, item, "enum value: %v", err)
					continue
				}
				in.Enum = append(in.Enum, v)
			}
		}
	}
	if d := f["default"]; d != nil {
		if in.Required {
			l.errorf(RuleInputDeclaration, d, "input %q is required and has a default; a default means it is never missing: drop one of them", in.Name)
		}
		sc := &scope{inputs: ObjectOf(l.inputs.Fields...), allInputs: l.inputs, what: "an input's default"}
		in.Default = l.value(d, in.Type, sc, "")
		if in.Default != nil {
			if v, ok := in.Default.Literal(); ok && v != nil {
				if err := in.Validate(v); err != nil {
					l.errorf(RuleInputDeclaration, d, "default of input %q: %v", in.Name, err)
				}
			}
		}
	}
	return in
}

func (l *loader) loadOutputs(n *yaml.Node) {
	if n == nil || n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(RuleValueType, n, "outputs must be a mapping of names to values, got %s", kindName(n))
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
			l.errorf(RuleName, k, "output name %q must be letters, digits and _", k.Value)
		}
		if v := l.value(vals[i], Any(), sc, ""); v != nil {
			l.wf.Outputs = append(l.wf.Outputs, &Output{Name: k.Value, Pos: l.pos(k), Value: v})
		}
	}
}

// StepKeys returns the keys a step may have, in the order the documentation lists them.
func StepKeys() []string { return slices.Clone(stepKeys) }
