package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Given is a value given for an input on the command line or in a vars file.
type Given struct {
	// Value is a string from -v NAME=VALUE (Text true), converted by the input's type, or a
	// typed value decoded from a vars file.
	Value any
	Text  bool
	// From says where the value was given: "-v client=..." or vars.yaml:3:9.
	From string
	// Pos is where a vars file holds the value; the zero Pos for -v and a called workflow's with.
	Pos Pos
}

// ParseVar splits a -v NAME=VALUE argument.
func ParseVar(arg string) (name string, g Given, err error) {
	name, value, ok := strings.Cut(arg, "=")
	if !ok || name == "" {
		// The argument is not echoed: it may hold a secret typed with a space for the =.
		return "", Given{}, fmt.Errorf("-v takes NAME=VALUE, and one -v argument has no name before an =")
	}
	return name, Given{Value: value, Text: true, From: "-v " + name}, nil
}

// ReadVarsFile reads a YAML (or JSON) mapping of input names to values. A file named *.json is
// read as JSON (surrogate pairs and all); anything else as YAML. Errors do not quote values. The
// file is read as ReadSource reads it: a regular file of at most MaxFileSize bytes.
func ReadVarsFile(path string) (map[string]Given, error) {
	src, err := ReadSource(path)
	if err != nil {
		return nil, fmt.Errorf("--vars-file: %w", err)
	}
	return parseVars(path, src)
}

// parseVars reads src, the vars file named path, as ReadVarsFile does.
func parseVars(path string, src []byte) (map[string]Given, error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return readJSONVars(path, src)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]Given{}, nil
		}
		var errs Errors
		yamlError(path, src, err, &errs)
		return nil, errs.err()
	}
	var errs Errors
	if secondDocument(path, src, dec, &doc, "a vars file", &errs); len(errs) > 0 {
		return nil, errs.err()
	}
	if !checkNodes(path, &doc, &errs) {
		return nil, errs.err()
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Pos: Pos{File: path, Line: root.Line, Col: root.Column}, Msg: "a vars file is a mapping of input names to values", Rule: RuleInputValue}
	}
	out := map[string]Given{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		at := Pos{File: path, Line: k.Line, Col: k.Column}
		if _, dup := out[k.Value]; dup {
			errs.add(RuleInputValue, at, "input %q is given twice", k.Value)
			continue
		}
		val, err := decodeLiteral(v, Any())
		if err != nil {
			errs.add(RuleInputValue, at, "input %q: %v", k.Value, err)
			continue
		}
		valueAt := Pos{File: path, Line: v.Line, Col: v.Column}
		out[k.Value] = Given{Value: val, From: valueAt.String(), Pos: valueAt}
	}
	return out, errs.err()
}

// readJSONVars reads src, the JSON vars file named path: one object, each value with the position
// where it is written, so an error about it can point there.
func readJSONVars(path string, src []byte) (map[string]Given, error) {
	fail := func(off int, format string, args ...any) (map[string]Given, error) {
		return nil, &Error{Pos: bytePos(path, src, off), Msg: fmt.Sprintf(format, args...), Rule: RuleInputValue}
	}
	if !utf8.Valid(src) {
		off := 0
		for r, size := utf8.DecodeRune(src); r != utf8.RuneError || size > 1; r, size = utf8.DecodeRune(src[off:]) {
			off += size
		}
		return fail(off, "invalid JSON: the file is not UTF-8 text")
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	// next returns the offset of the next token after the decoder's, past spaces and sep.
	next := func(sep string) int {
		off := int(dec.InputOffset())
		for off < len(src) && strings.IndexByte(" \t\r\n"+sep, src[off]) >= 0 {
			off++
		}
		return off
	}
	syntax := func(err error) (map[string]Given, error) {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(max(int(se.Offset)-1, 0), "invalid JSON: %s", se.Error())
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fail(len(src), "invalid JSON: the file ends before its object does")
		}
		return fail(next(""), "invalid JSON: %v", err)
	}
	start := next("")
	if tok, err := dec.Token(); err != nil {
		return syntax(err)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fail(start, "a JSON vars file is an object of input names to values")
	}
	out := map[string]Given{}
	var errs Errors
	for dec.More() {
		keyAt := next(",")
		tok, err := dec.Token()
		if err != nil {
			return syntax(err)
		}
		key, _ := tok.(string)
		valueAt := bytePos(path, src, next(":"))
		var v any
		if err := dec.Decode(&v); err != nil {
			return syntax(err)
		}
		if _, dup := out[key]; dup {
			errs.add(RuleInputValue, bytePos(path, src, keyAt), "input %q is given twice", key)
			continue
		}
		out[key] = Given{Value: fromJSON(v), From: valueAt.String(), Pos: valueAt}
	}
	if _, err := dec.Token(); err != nil {
		return syntax(err)
	}
	if at := next(""); at < len(src) {
		return fail(at, "invalid JSON: a second value after the object; a JSON vars file is one object")
	}
	return out, errs.err()
}

// fromJSON turns json.Numbers into ints where they are whole, float64 otherwise.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
	}
	return v
}

// ResolveInputs checks the given values against the declared inputs, fills in defaults (which may
// use env and earlier inputs), and returns the value of every input. A missing required input, a
// value that does not fit its input's type, pattern or enum, or a value for an input that is not
// declared is an error at the input's declaration. Secret inputs' values are registered with m.
func (wf *Workflow) ResolveInputs(given map[string]Given, env map[string]string, m *Masker) (map[string]any, error) {
	var errs Errors
	names := make([]string, len(wf.Inputs))
	for i, in := range wf.Inputs {
		names[i] = in.Name
	}
	unknown := make([]string, 0)
	for name := range given {
		if wf.input(name) == nil {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		if g := given[name]; g.Pos.Line > 0 {
			errs.add(RuleInputValue, g.Pos, "the workflow has no input %q%s", name, suggestOr(name, names, "it declares no inputs"))
		} else {
			errs.add(RuleInputValue, Pos{File: wf.File}, "%s: the workflow has no input %q%s", g.From, name, suggestOr(name, names, "it declares no inputs"))
		}
	}
	values := make(map[string]any, len(wf.Inputs))
	ev := &evaluation{env: map[string]any{"inputs": values, "env": envMap(env)}, masker: m}
	for _, in := range wf.Inputs {
		g, ok := given[in.Name]
		var v any
		switch {
		case ok:
			var err error
			if v, err = convertGiven(g, in.Type); err != nil {
				if in.Secret { // the conversion's message quotes the value
					err = fmt.Errorf("the secret value is not %s", in.Type)
				}
				if g.Pos.Line > 0 {
					errs.add(RuleInputValue, g.Pos, "input %q (declared at %s): %v", in.Name, in.Pos, m.Mask(err.Error()))
				} else {
					errs.add(RuleInputValue, in.Pos, "input %q (%s): %v", in.Name, g.From, m.Mask(err.Error()))
				}
				continue
			}
		case in.Default != nil:
			d, err := in.Default.eval(ev)
			if err != nil {
				e := asError(err, in.Pos)
				if e.Rule == "" {
					e.Rule = RuleInputDeclaration
				}
				errs = append(errs, e)
				continue
			}
			if v, err = Coerce(d, in.Type); err != nil {
				errs.add(RuleInputValue, in.Default.Pos, "default of input %q: %v", in.Name, err)
				continue
			}
		case in.Required:
			errs.add(RuleInputValue, in.Pos, "input %q is required: give it with -v %s=VALUE or in a --vars-file", in.Name, in.Name)
			continue
		default:
			v = zero(in.Type)
		}
		if in.Secret {
			m.AddValue(v)
			if _, isString := v.(string); !isString {
				m.Add(stringify(v))
			}
		}
		if err := in.Validate(v); err != nil && (ok || in.Default != nil) {
			if ok && g.Pos.Line > 0 {
				errs.add(RuleInputValue, g.Pos, "input %q (declared at %s): %s", in.Name, in.Pos, m.Mask(err.Error()))
			} else {
				errs.add(RuleInputValue, in.Pos, "input %q: %s", in.Name, m.Mask(err.Error()))
			}
			continue
		}
		values[in.Name] = v
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return values, nil
}

func (wf *Workflow) input(name string) *Input {
	for _, in := range wf.Inputs {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// convertGiven converts a given value to an input's type: text from -v is parsed (ints, booleans,
// and lists and maps written as YAML or JSON flow, e.g. '[a, b]' or '{A: "1"}').
func convertGiven(g Given, t *Type) (any, error) {
	if !g.Text {
		return Coerce(g.Value, t)
	}
	s := g.Value.(string)
	switch t.Kind {
	case KindString, KindAny:
		return s, nil
	case KindInt:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("expected int, got %q", s)
		}
		return int(i), nil
	case KindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("expected true or false, got %q", s)
		}
		return b, nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 {
		return nil, fmt.Errorf("expected %s written as YAML or JSON, e.g. %s", t, example(t))
	}
	var errs Errors
	if !checkNodes("", &n, &errs) {
		return nil, errors.New(errs[0].Msg)
	}
	v, err := decodeLiteral(n.Content[0], t)
	if err != nil {
		return nil, fmt.Errorf("%v (write it as YAML or JSON, e.g. %s)", err, example(t))
	}
	return v, nil
}

func example(t *Type) string {
	if t.Kind == KindList {
		return "'[a, b]'"
	}
	return `'{KEY: value}'`
}

// zero is the value of an unset optional input or a skipped step's output.
func zero(t *Type) any {
	switch t.Kind {
	case KindString:
		return ""
	case KindInt:
		return 0
	case KindBool:
		return false
	case KindList:
		return []any{}
	case KindMap:
		return map[string]any{}
	case KindObject:
		out := make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			out[f.Name] = zero(f.Type)
		}
		return out
	}
	return nil
}

func envMap(env map[string]string) map[string]any {
	out := make(map[string]any, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

// asError returns err as an *Error, placing it at pos if it has no position of its own.
func asError(err error, pos Pos) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Pos: pos, Msg: err.Error()}
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
