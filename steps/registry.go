// Package steps is flow's step registry and its step types, one file per family (env.go, exec.go,
// ec2.go, ...). A step type is a Go struct: its fields, tagged `flow:"name"`, are the inputs a
// workflow's `with` sets, and its Run method returns an output struct whose tagged fields are what
// later steps read as steps.ID.FIELD. Those two structs are the single definition of a step type:
// the checker, `flow steps`, and --dry-run all read them.
//
// Field tags:
//
//	flow:"name[,required][,secret]"  the YAML name; required: `with` must set it; secret: the
//	                                 value is masked wherever flow prints it
//	default:"..."                    the value when unset, written as in YAML (0600, 30s, true)
//	enum:"A,B,C"                     the only values a string field accepts (checked at load time)
//	doc:"..."                        one line for `flow steps NAME`
//
// Supported field types: string, int, bool, time.Duration (written "30s"), os.FileMode (written
// 0600, in octal), []T, map[string]T, structs of those, and pointers to them for inputs whose
// "unset" differs from every value (a *bool is true, false, or not given).
package steps

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flow-infra/flow/engine"
	"go.yaml.in/yaml/v3"
)

// Step is a step type's input struct. The lifecycle of one run of a step, in order:
//
//  1. New: Info().New returns a fresh zero value.
//  2. Decode: the registry sets its fields from the arguments the engine resolved and checked
//     (each of its field's type; defaults filled in).
//  3. Validate: if it is a Validator, checks that span fields (exactly one of two set, ...).
//  4. Run: does the work, honouring ctx, and returns a value of Info().Output's type.
//
// Optional phases are optional interfaces: Validator, Planner (what --dry-run shows), Previewer
// (what a dry run that reads shows instead), Linter (load-time warnings).
type Step interface {
	Info() Info
	Run(ctx context.Context, rt *engine.Runtime) (any, error)
}

// Info describes a step type.
type Info struct {
	// Name is what workflows write in `uses`: family.verb, e.g. "ssm.put".
	Name string
	// Doc is a paragraph for `flow steps NAME`; its first sentence is the listing's summary.
	Doc string
	// New returns a new, zero input value (a pointer to the step's struct).
	New func() Step
	// Output is a zero value of the struct Run returns.
	Output any
	// WritesFiles is true for a step type that writes files on the machine it runs on (under
	// the run's root), itself or through a program it runs.
	WritesFiles bool
	// ReadOnly is true for a step type whose Run only reads (describes, gets, lists) and changes
	// nothing anywhere: a dry run that reads runs it for real, so the steps after it plan with
	// what it read. Its AWS calls in a dry run are refused unless they read.
	ReadOnly bool
}

// Validator is implemented by steps with checks across fields; it runs after decoding, before
// Run, and its error fails the step.
type Validator interface {
	Validate() error
}

// Planner is implemented by steps that can say what Run would do (the calls it would make)
// without doing it. An input whose value only a run would produce holds its plan text
// ("<steps.launch.vpc_id>") if it is a string, and its zero value otherwise; known says which
// inputs those are, so a plan never guesses from the text. rt is the Runtime the step would run
// with.
type Planner interface {
	Plan(rt *engine.Runtime, known Known) []string
}

// Previewer is implemented by steps that change things and can find, by reading only, exactly what
// Run would change: a dry run that reads calls Preview, every input known and validated, and shows
// its lines instead of Plan's. The lines are the calls Run would make, naming the very resources
// they act on (instance ids, parameter names, a record and its zone), or saying that there is
// nothing to change and why. Preview must not change anything: in a dry run the AWS clients
// refuse every call that does not read.
type Previewer interface {
	Preview(ctx context.Context, rt *engine.Runtime) ([]string, error)
}

// Known tells a Planner which of its inputs a dry run knows.
type Known struct{ args map[string]any }

// Input reports whether the inputs called names (their `flow` names) hold no value only a run
// would produce, anywhere inside them. An input that is not set is known.
func (k Known) Input(names ...string) bool {
	for _, n := range names {
		if !engine.Known(k.args[n]) {
			return false
		}
	}
	return true
}

// Linter is implemented by steps with load-time warnings. Only fields set by literals are
// decoded; the rest are zero.
type Linter interface {
	Lint() []engine.Warning
}

// Registry holds step types by name. The zero value is not usable; use NewRegistry. A registry is
// a value so tests can build one of their own; Default is the one flow uses.
type Registry struct {
	types map[string]*stepType
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]*stepType{}} }

// Default is the registry the step types in this package register into at init.
var Default = NewRegistry()

// Register adds s's type to the Default registry.
func Register(s Step) { Default.Register(s) }

// Register adds s's type. It panics on an empty or duplicate name, or on an input or output struct
// it cannot describe: those are programming errors found at init.
func (r *Registry) Register(s Step) {
	info := s.Info()
	if info.Name == "" {
		panic("steps: Register of a step type with no name")
	}
	if _, dup := r.types[info.Name]; dup {
		panic("steps: step type " + info.Name + " registered twice")
	}
	if info.New == nil || info.Output == nil {
		panic("steps: step type " + info.Name + " has no New or no Output")
	}
	in := reflect.TypeOf(info.New())
	if in.Kind() != reflect.Pointer || in.Elem().Kind() != reflect.Struct {
		panic("steps: " + info.Name + ": New must return a pointer to a struct")
	}
	t := &stepType{info: info, in: in.Elem(), out: reflect.TypeOf(info.Output)}
	var err error
	if t.inputs, err = fieldsOf(t.in, true); err != nil {
		panic(fmt.Sprintf("steps: %s input: %v", info.Name, err))
	}
	if t.outputs, err = fieldsOf(t.out, false); err != nil {
		panic(fmt.Sprintf("steps: %s output: %v", info.Name, err))
	}
	t.engine = t
	if _, ok := info.New().(Previewer); ok {
		t.engine = previewingType{t}
	}
	r.types[info.Name] = t
}

// Lookup returns the step type called name.
func (r *Registry) Lookup(name string) (engine.StepType, bool) {
	t, ok := r.types[name]
	if !ok {
		return nil, false
	}
	return t.engine, true
}

// Names returns every registered name, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	_ engine.Catalog   = (*Registry)(nil)
	_ engine.Reader    = (*stepType)(nil)
	_ engine.Previewer = previewingType{}
)

// stepType adapts a Step's structs to the engine's StepType.
type stepType struct {
	info    Info
	in, out reflect.Type
	inputs  []engine.Field
	outputs []engine.Field
	// engine is how the engine sees the type: t itself, or a previewingType of it for a step
	// that is a Previewer, so that the engine finds the optional phases a step has, and only those.
	engine engine.StepType
}

// previewingType is the stepType of a step that is a Previewer.
type previewingType struct{ *stepType }

func (t *stepType) Name() string            { return t.info.Name }
func (t *stepType) Doc() string             { return t.info.Doc }
func (t *stepType) Inputs() []engine.Field  { return t.inputs }
func (t *stepType) Outputs() []engine.Field { return t.outputs }

// decode checks args against the inputs' specs (the engine does too; a caller that is not the
// engine may not have) and sets a new input value's fields from them.
func (t *stepType) decode(args map[string]any) (Step, error) {
	for _, f := range t.inputs {
		if v, set := args[f.Name]; set && v != nil {
			if err := f.Validate(v); err != nil {
				return nil, field(f.Name).errorf("%v", err)
			}
		}
	}
	s := t.info.New()
	if err := decodeStruct(reflect.ValueOf(s).Elem(), args, false); err != nil {
		return nil, err
	}
	return s, nil
}

// Run decodes args into a new input value, validates it, runs it, and encodes its output. Its
// error starts with the step type's name: this is the one place that adds it.
func (t *stepType) Run(ctx context.Context, rt *engine.Runtime, args map[string]any) (map[string]any, error) {
	out, err := t.run(ctx, rt, args)
	if err != nil {
		return nil, t.named(err)
	}
	return out, nil
}

// named prefixes err with the step type's name, keeping err for errors.As.
func (t *stepType) named(err error) error { return &engine.StepError{Type: t.info.Name, Err: err} }

// field starts a FieldError about the value at path: the input's name, then list indexes and map
// keys.
func field(path ...string) fieldPath { return fieldPath(path) }

type fieldPath []string

// errorf returns a FieldError about the value at p.
func (p fieldPath) errorf(format string, args ...any) *engine.FieldError {
	return &engine.FieldError{Path: p, Msg: fmt.Sprintf(format, args...)}
}

// orNil returns fe as an error, or nil when it holds none.
func orNil(fe engine.FieldErrors) error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// warnings turns field errors into load-time warnings about their inputs.
func warnings(fe engine.FieldErrors) []engine.Warning {
	var out []engine.Warning
	for _, e := range fe {
		out = append(out, engine.Warning{Field: e.Path[0], Msg: e.Msg})
	}
	return out
}

// keyErrorf returns a FieldError about the map key at p, not its value.
func (p fieldPath) keyErrorf(format string, args ...any) *engine.FieldError {
	return &engine.FieldError{Path: p, Key: true, Msg: fmt.Sprintf(format, args...)}
}

func (t *stepType) run(ctx context.Context, rt *engine.Runtime, args map[string]any) (map[string]any, error) {
	s, err := t.decode(args)
	if err != nil {
		return nil, err
	}
	if v, ok := s.(Validator); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	out, err := s.Run(ctx, rt)
	if err != nil {
		return nil, err
	}
	if reflect.TypeOf(out) != t.out {
		return nil, fmt.Errorf("returned %T, not its declared output %s", out, t.out)
	}
	return encodeStruct(reflect.ValueOf(out)), nil
}

// Check implements engine.Checker: a step whose arguments are all literal is decoded and
// validated at load time, so one that could only fail is an error before anything runs. Its error
// starts with the step type's name, as Run's does.
func (t *stepType) Check(args map[string]any) error {
	s, err := t.decode(args)
	if err == nil {
		if v, ok := s.(Validator); ok {
			err = v.Validate()
		}
	}
	if err != nil {
		return t.named(err)
	}
	return nil
}

// WritesFiles implements engine.FileWriter.
func (t *stepType) WritesFiles() bool { return t.info.WritesFiles }

// Plan implements engine.Planner for steps that are Planners.
func (t *stepType) Plan(rt *engine.Runtime, args map[string]any) []string {
	s := t.info.New()
	decodeStruct(reflect.ValueOf(s).Elem(), args, true)
	if p, ok := s.(Planner); ok {
		return p.Plan(rt, Known{args: args})
	}
	return nil
}

// ReadOnly implements engine.Reader.
func (t *stepType) ReadOnly() bool { return t.info.ReadOnly }

// Preview implements engine.Previewer: args are decoded and validated as Run's are. Its error
// starts with the step type's name, as Run's does.
func (t previewingType) Preview(ctx context.Context, rt *engine.Runtime, args map[string]any) ([]string, error) {
	s, err := t.decode(args)
	if err == nil {
		if v, ok := s.(Validator); ok {
			err = v.Validate()
		}
	}
	var lines []string
	if err == nil {
		lines, err = s.(Previewer).Preview(ctx, rt)
	}
	if err != nil {
		return nil, t.named(err)
	}
	return lines, nil
}

// Lint implements engine.Linter for steps that are Linters.
func (t *stepType) Lint(args map[string]any) []engine.Warning {
	s := t.info.New()
	if _, ok := s.(Linter); !ok {
		return nil
	}
	decodeStruct(reflect.ValueOf(s).Elem(), args, true)
	return s.(Linter).Lint()
}

// ---- structs <-> the engine's types and values

type tag struct {
	name     string
	required bool
	secret   bool
}

func parseTag(f reflect.StructField) (tag, bool) {
	raw, ok := f.Tag.Lookup("flow")
	if !ok || raw == "-" {
		return tag{}, false
	}
	parts := strings.Split(raw, ",")
	t := tag{name: parts[0]}
	for _, p := range parts[1:] {
		switch p {
		case "required":
			t.required = true
		case "secret":
			t.secret = true
		}
	}
	return t, true
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	fileModeType = reflect.TypeFor[os.FileMode]()
)

// fieldsOf describes a struct's tagged fields as engine fields.
func fieldsOf(st reflect.Type, input bool) ([]engine.Field, error) {
	if st.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s is not a struct", st)
	}
	var out []engine.Field
	for i := 0; i < st.NumField(); i++ {
		sf := st.Field(i)
		tg, ok := parseTag(sf)
		if !ok {
			continue
		}
		typ, check, err := typeOf(sf.Type)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", sf.Name, err)
		}
		f := engine.Field{Name: tg.name, Type: typ, Required: tg.required, Secret: tg.secret, Doc: sf.Tag.Get("doc"), Check: check}
		if enum, ok := sf.Tag.Lookup("enum"); ok {
			if typ.Kind != engine.KindString {
				return nil, fmt.Errorf("field %s: enum applies to strings", sf.Name)
			}
			f.Enum = strings.Split(enum, ",")
		}
		if d, ok := sf.Tag.Lookup("default"); ok {
			if !input {
				return nil, fmt.Errorf("field %s: outputs have no defaults", sf.Name)
			}
			v, err := parseDefault(d, typ)
			if err != nil {
				return nil, fmt.Errorf("field %s: default %q: %w", sf.Name, d, err)
			}
			if err := f.Validate(v); err != nil {
				return nil, fmt.Errorf("field %s: default %q: %w", sf.Name, d, err)
			}
			f.Default = v
		}
		out = append(out, f)
	}
	return out, nil
}

// typeOf maps a Go field type to the language's type, with a check for types that are more than
// their kind (durations).
func typeOf(t reflect.Type) (*engine.Type, func(any) error, error) {
	switch t {
	case durationType:
		return engine.String(), func(v any) error {
			if _, err := time.ParseDuration(v.(string)); err != nil {
				return fmt.Errorf("%q is not a duration such as 30s or 5m", v)
			}
			return nil
		}, nil
	case fileModeType:
		return engine.String(), func(v any) error {
			_, err := parseMode(v.(string))
			return err
		}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeOf(t.Elem())
	case reflect.String:
		return engine.String(), nil, nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return engine.Int(), nil, nil
	case reflect.Bool:
		return engine.Bool(), nil, nil
	case reflect.Interface:
		return engine.Any(), nil, nil
	case reflect.Slice:
		e, _, err := typeOf(t.Elem())
		return engine.ListOf(e), nil, err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, nil, fmt.Errorf("map keys must be strings")
		}
		e, _, err := typeOf(t.Elem())
		return engine.MapOf(e), nil, err
	case reflect.Struct:
		fields, err := fieldsOf(t, true)
		return engine.ObjectOf(fields...), nil, err
	}
	return nil, nil, fmt.Errorf("unsupported type %s", t)
}

func parseDefault(s string, t *engine.Type) (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 {
		return nil, fmt.Errorf("not YAML")
	}
	node := n.Content[0]
	switch t.Kind {
	case engine.KindString:
		return node.Value, nil
	case engine.KindInt:
		i, err := strconv.ParseInt(node.Value, 0, 64)
		return int(i), err
	case engine.KindBool:
		return strconv.ParseBool(node.Value)
	}
	var v any
	if err := node.Decode(&v); err != nil {
		return nil, err
	}
	return engine.Coerce(v, t)
}

// parseMode reads a file mode written in octal: 0600, 600 or 0o600.
func parseMode(s string) (os.FileMode, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0"), 8, 32)
	if s == "0" || s == "0o0" {
		n, err = 0, nil
	}
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("%q is not a file mode: write it in octal, 0000 to 07777, e.g. 0600", s)
	}
	return os.FileMode(n), nil
}

// decodeStruct sets the tagged fields of the struct sv from args. With lenient, values that do
// not fit (a plan's engine.Unknown in an int field) are left zero instead of failing.
func decodeStruct(sv reflect.Value, args map[string]any, lenient bool) error {
	st := sv.Type()
	for i := 0; i < st.NumField(); i++ {
		tg, ok := parseTag(st.Field(i))
		if !ok {
			continue
		}
		v, set := args[tg.name]
		if !set || v == nil {
			continue
		}
		if err := decodeValue(sv.Field(i), v); err != nil && !lenient {
			return fmt.Errorf("%s: %w", tg.name, err)
		}
	}
	return nil
}

func decodeValue(dst reflect.Value, v any) error {
	switch dst.Type() {
	case durationType:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected a duration, got %T", v)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		dst.SetInt(int64(d))
		return nil
	case fileModeType:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected a file mode, got %T", v)
		}
		m, err := parseMode(s)
		if err != nil {
			return err
		}
		dst.SetUint(uint64(m))
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		elem := reflect.New(dst.Type().Elem())
		if err := decodeValue(elem.Elem(), v); err != nil {
			return err
		}
		dst.Set(elem)
	case reflect.String:
		s, ok := v.(string)
		if u, unknown := v.(engine.Unknown); unknown {
			s, ok = u.Text, true // a plan's: Planners learn it from Known
		}
		if !ok {
			return fmt.Errorf("expected string, got %T", v)
		}
		dst.SetString(s)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, ok := v.(int)
		if !ok {
			return fmt.Errorf("expected int, got %T", v)
		}
		dst.SetInt(int64(n))
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("expected bool, got %T", v)
		}
		dst.SetBool(b)
	case reflect.Interface:
		dst.Set(reflect.ValueOf(v))
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("expected a list, got %T", v)
		}
		out := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, e := range list {
			if err := decodeValue(out.Index(i), e); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		dst.Set(out)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("expected a map, got %T", v)
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for k, e := range m {
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := decodeValue(ev, e); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			out.SetMapIndex(reflect.ValueOf(k), ev)
		}
		dst.Set(out)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("expected a mapping, got %T", v)
		}
		return decodeStruct(dst, m, false)
	default:
		return fmt.Errorf("unsupported type %s", dst.Type())
	}
	return nil
}

// encodeStruct converts an output struct to the engine's values: lists []any, maps map[string]any.
func encodeStruct(sv reflect.Value) map[string]any {
	st := sv.Type()
	out := make(map[string]any, st.NumField())
	for i := 0; i < st.NumField(); i++ {
		tg, ok := parseTag(st.Field(i))
		if !ok {
			continue
		}
		out[tg.name] = encodeValue(sv.Field(i))
	}
	return out
}

func encodeValue(v reflect.Value) any {
	switch v.Type() {
	case durationType:
		return time.Duration(v.Int()).String()
	case fileModeType:
		return fmt.Sprintf("%#o", v.Uint())
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return encodeValue(v.Elem())
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Bool:
		return v.Bool()
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = encodeValue(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out[iter.Key().String()] = encodeValue(iter.Value())
		}
		return out
	case reflect.Struct:
		return encodeStruct(v)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return v.Elem().Interface()
	}
	return v.Interface()
}
