package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// WorkflowStep is the `uses` of a step that runs another workflow file:
//
//	uses: workflow
//	with: {file: provision.yaml, inputs: {client: acme}}
//
// The engine handles it itself, as its inputs and outputs are the called workflow's: the file is
// loaded and checked with the caller, relative to the caller's file, so a call is type-checked
// (unknown inputs, wrong types, missing required ones) before anything runs, and steps.ID.NAME
// has the type of the callee's output NAME.
const WorkflowStep = "workflow"

// callType is the step type of one `uses: workflow` step, made for the workflow it calls.
type callType struct {
	callee  *Workflow
	inputs  []Field
	outputs []Field
}

func (c *callType) Name() string { return WorkflowStep }

func (c *callType) Doc() string {
	return "Run the workflow file " + c.callee.File + " with inputs; its outputs are this step's."
}

func (c *callType) Inputs() []Field  { return c.inputs }
func (c *callType) Outputs() []Field { return c.outputs }

// Run runs the callee through the runner that runs this step (see runner.call).
func (c *callType) Run(ctx context.Context, rt *Runtime, args map[string]any) (map[string]any, error) {
	given, _ := args["inputs"].(map[string]any)
	return rt.call(ctx, c.callee, given)
}

// Check runs the callee's pattern and enum checks on the inputs written literally in the call.
func (c *callType) Check(args map[string]any) error {
	given, _ := args["inputs"].(map[string]any)
	for _, in := range c.callee.Inputs {
		if v, ok := given[in.Name]; ok {
			if err := in.Validate(v); err != nil {
				return fmt.Errorf("input %q of %s: %w", in.Name, c.callee.File, err)
			}
		}
	}
	return nil
}

var (
	_ StepType = (*callType)(nil)
	_ Checker  = (*callType)(nil)
)

// callees are the workflow files a load has read through `uses: workflow`, shared by the loads of
// the files they call.
type callees struct {
	loaded map[string]*Workflow // by clean path; nil: it did not load (reported once)
	stack  []string             // the files being loaded, the first one first
}

// loadCall makes the step type of a `uses: workflow` step: it reads with.file (written as it is,
// relative to this file), loads and checks that workflow, and types the call from its inputs and
// outputs. It returns nil when the callee cannot be used, having said why.
func (l *loader) loadCall(stepNode, w *yaml.Node) StepType {
	if w == nil || w.Kind != yaml.MappingNode {
		at := stepNode
		if w != nil {
			at = w
		}
		l.errorf(RuleStepInput, at, "a workflow step needs with: {file: FILE, inputs: {...}}, the workflow to run (relative to this file) and its inputs")
		return nil
	}
	var file *yaml.Node
	for i := 0; i+1 < len(w.Content); i += 2 {
		if w.Content[i].Value == "file" {
			file = w.Content[i+1]
		}
	}
	if file == nil {
		l.errorf(RuleStepInput, w, "a workflow step needs file: the workflow to run, relative to this file")
		return nil
	}
	if file.Kind != yaml.ScalarNode || file.ShortTag() != "!!str" || file.Value == "" || strings.Contains(file.Value, "${{") {
		l.errorf(RuleStepInput, file, "file must be a path written as it is, relative to this file (it is loaded and checked before anything runs), got %s", kindName(file))
		return nil
	}
	path := file.Value
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(l.file), path)
	}
	key := filepath.Clean(path)
	for i, f := range l.callees.stack {
		if f == key {
			cycle := append(append([]string{}, l.callees.stack[i:]...), key)
			l.errorf(RuleWorkflowCall, file, "workflows call each other in a cycle: %s", strings.Join(cycle, " -> "))
			return nil
		}
	}
	callee, seen := l.callees.loaded[key]
	if !seen {
		callee = l.loadCallee(path, key, file)
		l.callees.loaded[key] = callee
	}
	if callee == nil {
		return nil
	}
	c := &callType{callee: callee}
	inputs := make([]Field, len(callee.Inputs))
	required := false
	for i, in := range callee.Inputs {
		inputs[i] = Field{Name: in.Name, Type: in.Type, Required: in.Required, Secret: in.Secret, Doc: in.Description}
		required = required || in.Required
	}
	fileCheck := func(v any) error {
		if v != file.Value {
			return fmt.Errorf("file is %q", file.Value)
		}
		return nil
	}
	c.inputs = []Field{
		{Name: "file", Type: String(), Required: true, Doc: "The workflow file to run, relative to this one.", Check: fileCheck},
		{Name: "inputs", Type: ObjectOf(inputs...), Required: required, Doc: "The called workflow's inputs."},
	}
	for _, o := range callee.Outputs {
		c.outputs = append(c.outputs, Field{Name: o.Name, Type: o.Value.typeOf(), Doc: "Output " + o.Name + " of " + callee.File + "."})
	}
	return c
}

// loadCallee reads and checks a called workflow; its problems are reported at their own place
// in its file, and the call says it cannot run.
func (l *loader) loadCallee(path, key string, at *yaml.Node) *Workflow {
	src, err := ReadSource(path)
	if err != nil {
		l.errorf(RuleWorkflowCall, at, "the workflow to run: %v", err)
		return nil
	}
	l.callees.stack = append(l.callees.stack, key)
	defer func() { l.callees.stack = l.callees.stack[:len(l.callees.stack)-1] }()
	wf, errs, warns := loadOne(path, src, l.cat, l.callees)
	l.warns = append(l.warns, warns...)
	if len(errs) > 0 {
		l.errs = append(l.errs, errs...)
		l.errorf(RuleWorkflowCall, at, "%s has %d problem(s), reported at their place: the call cannot be checked", path, len(errs))
		return nil
	}
	return wf
}

// typeOf is the type a workflow output has for a step that calls the workflow: the expression's
// when it is one (a member path keeps its full type), else what the literal or text is.
func (v *Value) typeOf() *Type {
	switch {
	case v.isLit:
		return typeOfValue(v.lit)
	case v.expr != nil:
		if v.expr.static != nil {
			return v.expr.static
		}
		return typeOfReflect(v.expr.result)
	case v.parts != nil:
		return String()
	case v.list != nil:
		return ListOf(Any())
	}
	return MapOf(Any())
}

func typeOfValue(x any) *Type {
	switch x.(type) {
	case string:
		return String()
	case int:
		return Int()
	case bool:
		return Bool()
	case []any:
		return ListOf(Any())
	case map[string]any:
		return MapOf(Any())
	}
	return Any()
}

func typeOfReflect(rt reflect.Type) *Type {
	if rt == nil {
		return Any()
	}
	switch describeReflect(rt) {
	case "string":
		return String()
	case "int":
		return Int()
	case "bool":
		return Bool()
	case "list":
		return ListOf(Any())
	case "map":
		return MapOf(Any())
	}
	return Any()
}

// call runs callee for step st (item idx) of this run, with the inputs the call gives: its events
// go into this run's, each step's id prefixed with the calling step's ("fleet[2]/launch"), in the
// place of the calling step; its once records are the callee's (its workflow name); it shares the
// run's secrets, so what is secret on one side of the call stays secret on the other.
func (r *runner) call(ctx context.Context, st *Step, idx *int, callee *Workflow, given map[string]any) (map[string]any, error) {
	name := r.prefix + stepLabel(st.ID, idx)
	gv := make(map[string]Given, len(given))
	for k, v := range given {
		gv[k] = Given{Value: v, From: "step " + name}
	}
	inputs, err := callee.ResolveInputs(gv, r.opt.Env, r.opt.Masker)
	if err != nil {
		return nil, err
	}
	opt := r.opt
	opt.Inputs = inputs
	sub := newRunner(callee, opt)
	sub.prefix = name + "/"
	sub.sink = func(e Event) {
		e.from, e.item = st, idx
		r.route(e)
	}
	res := sub.run(ctx)
	if res.Err != nil {
		return nil, fmt.Errorf("%s: %w", callee.File, res.Err)
	}
	return res.Outputs, nil
}

// stepLabel names a step, or one item of it, as events and text output do: launch, launch[2].
func stepLabel(id string, idx *int) string {
	if idx == nil {
		return id
	}
	return fmt.Sprintf("%s[%d]", id, *idx)
}
