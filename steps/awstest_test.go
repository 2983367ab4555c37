package steps

// Shared test helpers for the AWS step types: an in-process emulator, an *AWS that talks to it,
// and ways to run one step or a whole workflow against it. Nothing here is specific to one
// family of steps.

import (
	"context"
	"testing"

	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/engine"
)

// newTestAWS starts an emulator (closed when the test ends) and returns an *AWS whose SDK
// clients and instance metadata client reach it in-process: LocalAWS, as `flow run --local`
// uses it. Put the *AWS in a context with WithAWS to run steps.
func newTestAWS(t *testing.T, opts emulator.Options) (*AWS, *emulator.Emulator) {
	t.Helper()
	e, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return LocalAWS(e.Transport(), e.Region()), e
}

// runStepT runs the step type name through the Default registry as the engine would: args as
// the engine gives them (strings, ints, bools, []any, map[string]any), with the Field.Default of
// every unset input filled in, under a Runtime for step "s" of workflow "test". ctx must carry
// the *AWS (WithAWS) for AWS steps. An unknown step type fails the test.
func runStepT(t *testing.T, ctx context.Context, name string, args map[string]any) (map[string]any, error) {
	t.Helper()
	typ, ok := Default.Lookup(name)
	if !ok {
		t.Fatalf("no step type %s", name)
	}
	full := make(map[string]any, len(args))
	for k, v := range args {
		full[k] = v
	}
	for _, f := range typ.Inputs() {
		if _, set := full[f.Name]; !set && f.Default != nil {
			full[f.Name] = f.Default
		}
	}
	return typ.Run(ctx, &engine.Runtime{Workflow: "test", Step: "s"}, full)
}

// runWorkflowT loads the workflow src against the Default registry (a load error fails the
// test), resolves its inputs from inputs (an error fails the test), runs it with ctx (which must
// carry the *AWS for AWS steps) and a Masker, and returns the result and every event the run
// reported, in order.
func runWorkflowT(t *testing.T, ctx context.Context, src string, inputs map[string]engine.Given) (*engine.Result, []engine.Event) {
	t.Helper()
	wf, err := engine.Load("test.yaml", []byte(src), Default)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	m := new(engine.Masker)
	values, err := wf.ResolveInputs(inputs, nil, m)
	if err != nil {
		t.Fatalf("inputs: %v", err)
	}
	var events []engine.Event
	res := engine.Run(ctx, wf, engine.Options{
		Inputs: values,
		Masker: m,
		Events: func(e engine.Event) { events = append(events, e) },
	})
	return res, events
}
