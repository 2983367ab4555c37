package engine

import (
	"context"
	"errors"
	"fmt"
)

// Plan reports through opt.Events what a run would do, and changes nothing: for each step a plan
// event with its arguments resolved as far as the inputs and env allow (a value only a run would
// produce is an Unknown, shown as "<expression>"), its conditions, and, for step types that are
// Planners, the calls it would make. A for_each whose items are already known is planned item by
// item.
//
// With opt.Reads, the plan reads what it can instead of leaving it unknown: a step whose type is
// a Reader runs for real once its arguments are known (its plan event has status "read" and its
// outputs), and the steps after it plan with its outputs; a step whose type is a Previewer lists
// exactly what it would change. Nothing else runs. Every read and preview is given a context for
// which DryRun is true. A read that fails fails the plan (ReadFailed tells such an error).
func Plan(ctx context.Context, wf *Workflow, opt Options) (err error) {
	r := newRunner(wf, opt)
	root := ""
	if wf.WritesFiles() { // as a run says it
		root = opt.Root
	}
	r.emit(Event{Event: "run_started", Workflow: wf.Name, File: wf.File, DryRun: true, Root: root})
	defer func() {
		if err != nil { // run_finished comes last, whatever happened
			err = maskedError{msg: r.mask(err.Error()), err: err}
			r.emit(Event{Event: "run_finished", Workflow: wf.Name, Status: StatusFailed, Error: err.Error(), DryRun: true})
		}
	}()
	ctx = WithDryRun(ctx)
	ev := &evaluation{env: r.env, masker: r.opt.Masker, plan: true}
	if err := r.planSteps(ctx, ev); err != nil {
		return err
	}
	outs := map[string]any{}
	for _, o := range wf.Outputs {
		v, err := o.Value.eval(ev)
		if err != nil {
			return err
		}
		outs[o.Name] = v
	}
	if len(outs) == 0 {
		outs = nil
	}
	r.emit(Event{Event: "run_finished", Workflow: wf.Name, Status: "planned", Outputs: outs, DryRun: true})
	return nil
}

type dryRunKey struct{}

// DryRun reports whether ctx is a dry run's: Plan gives one to the reads and previews it makes, so
// that what they call can refuse anything that is not a read.
func DryRun(ctx context.Context) bool {
	dry, _ := ctx.Value(dryRunKey{}).(bool)
	return dry
}

// WithDryRun returns a context for which DryRun is true, as Plan gives its reads and previews;
// tests of step types use it to see that a dry run's calls only read.
func WithDryRun(ctx context.Context) context.Context {
	return context.WithValue(ctx, dryRunKey{}, true)
}

// StatusRead is the status of a plan event for a step that a dry run ran for real, because it only
// reads (Options.Reads).
const StatusRead = "read"

// readFailed is a read of a dry run that failed.
type readFailed struct{ err error }

func (e *readFailed) Error() string { return e.err.Error() }
func (e *readFailed) Unwrap() error { return e.err }

// ReadFailed reports whether err, returned by Plan, is a read that failed: a plan that does not
// read (Options.Reads false) would not have met it.
func ReadFailed(err error) bool {
	var m maskedError
	if errors.As(err, &m) {
		err = m.err
	}
	var rf *readFailed
	return errors.As(err, &rf)
}

// planSteps plans every step, item by item where the items are known, and keeps the outputs the
// plan knows: those of the steps it read, and the zero outputs of the steps it found skipped.
func (r *runner) planSteps(ctx context.Context, ev *evaluation) error {
	for _, st := range r.wf.Steps {
		if st.ForEach == nil {
			out, known, err := r.planStep(ctx, st, ev, nil)
			if err != nil {
				return err
			}
			if known {
				r.store(st, out)
			}
			continue
		}
		if ev.unknown(st.ForEach.Value) {
			env := make(map[string]any, len(r.env)+1)
			for k, v := range r.env {
				env[k] = v
			}
			env["item"] = Unknown{Text: "<item>"}
			if _, _, err := r.planStep(ctx, st, &evaluation{env: env, masker: r.opt.Masker, plan: true}, nil); err != nil {
				return err
			}
			continue
		}
		items, err := st.ForEach.items(ev)
		if err != nil {
			return err
		}
		outs, all := make([]any, len(items)), true
		for i, item := range items {
			env := make(map[string]any, len(r.env)+1)
			for k, v := range r.env {
				env[k] = v
			}
			env["item"] = item
			idx := i
			out, known, err := r.planStep(ctx, st, &evaluation{env: env, masker: r.opt.Masker, plan: true}, &idx)
			if err != nil {
				return err
			}
			outs[i], all = out, all && known
		}
		if all {
			r.store(st, outs)
		}
	}
	return nil
}

// planStep plans one step (one item of it) and returns its outputs when the plan knows them: it
// was skipped (zero outputs, as a run gives), or, with Options.Reads, it only reads and was run.
func (r *runner) planStep(ctx context.Context, st *Step, ev *evaluation, idx *int) (map[string]any, bool, error) {
	e := r.stepEvent("plan", st, idx)
	e.Status, e.Once = "planned", st.Once
	if st.ForEach != nil && idx == nil {
		e.ForEach = "<" + exprSource(st.ForEach.Value) + ">"
	}
	if st.If != nil {
		v, err := st.If.eval(ev)
		if err != nil {
			return nil, false, err
		}
		switch v {
		case false:
			// Its arguments are not evaluated: a run would not evaluate them either.
			e.Status, e.Reason = StatusSkipped, "if: ${{ "+st.If.Source+" }} is false"
			r.emit(e)
			return zero(ObjectOf(st.Type.Outputs()...)).(map[string]any), true, nil
		case true:
		default:
			e.If = fmt.Sprint(v)
		}
	}
	args := make(map[string]any, len(st.With))
	for _, a := range st.With {
		v, err := a.Value.eval(ev)
		if err != nil {
			return nil, false, err
		}
		if c, err := Coerce(v, a.Field.Type); err == nil {
			v = c
		}
		r.opt.Masker.addSecretField(a.Field, v)
		args[a.Field.Name] = v
	}
	for _, f := range st.Type.Inputs() {
		if _, set := args[f.Name]; !set && f.Default != nil {
			args[f.Name] = f.Default
		}
	}
	e.With = args
	rt := NewRuntime(r.wf.Name, st.ID, r.opt.Root, r.opt.Masker)
	if p, ok := st.Type.(Planner); ok {
		e.Calls = p.Plan(rt, args)
	}
	var out map[string]any
	if r.opt.Reads && e.If == "" && Known(args) {
		var err error
		if out, err = r.planRead(ctx, st, ev, idx, &e); err != nil {
			return nil, false, err
		}
	}
	r.emit(e)
	if c, calls := st.Type.(*callType); calls {
		given, known := args["inputs"].(map[string]any)
		if !known { // the whole map only a run knows: so is each of the callee's inputs
			open, err := c.callee.OpenInputs(nil, r.opt.Env, r.opt.Masker)
			if err != nil {
				return nil, false, err
			}
			return nil, false, r.callee(st, idx, c, open).plan(ctx)
		}
		return nil, false, r.planCall(ctx, st, idx, c, given)
	}
	return out, out != nil, nil
}

// planRead is a dry run's read of a step whose arguments and conditions are known: a Reader step
// (not a once step: whether it runs depends on the instance's record) runs for real and its
// outputs are returned; a Previewer's lines replace e's calls. The arguments are evaluated and
// checked first as a run checks them: a step a run would fail before any call fails the plan,
// and that is not a failed read.
func (r *runner) planRead(ctx context.Context, st *Step, ev *evaluation, idx *int, e *Event) (map[string]any, error) {
	rd, reads := st.Type.(Reader)
	reads = reads && rd.ReadOnly() && st.Once == ""
	pv, previews := st.Type.(Previewer)
	if !reads && !previews {
		return nil, nil
	}
	args, err := r.args(st, ev)
	if err != nil {
		return nil, err
	}
	if c, ok := st.Type.(Checker); ok {
		if err := c.Check(args); err != nil {
			return nil, fmt.Errorf("step %q would fail: %w", r.prefix+stepLabel(st.ID, idx), err)
		}
	}
	if reads {
		out, _, err := r.attempts(ctx, st, args, idx)
		if err != nil {
			return nil, &readFailed{fmt.Errorf("step %q, read to plan exactly, failed: %w", r.prefix+stepLabel(st.ID, idx), err)}
		}
		for _, f := range st.Type.Outputs() {
			if f.Secret {
				r.opt.Masker.AddValue(out[f.Name])
			}
		}
		e.Status, e.Outputs = StatusRead, out
		return out, nil
	}
	lines, err := pv.Preview(ctx, NewRuntime(r.wf.Name, st.ID, r.opt.Root, r.opt.Masker), args)
	if err != nil {
		return nil, &readFailed{fmt.Errorf("step %q, read to preview what it would change, failed: %w", r.prefix+stepLabel(st.ID, idx), err)}
	}
	if lines != nil {
		e.Calls = lines
	}
	return nil, nil
}

// planCall plans the steps of the workflow a step calls, as the call would run them: inputs only
// a run would know stay unknown there, and so does whatever is computed from them.
func (r *runner) planCall(ctx context.Context, st *Step, idx *int, c *callType, given map[string]any) error {
	name := r.prefix + stepLabel(st.ID, idx)
	gv := make(map[string]Given, len(given))
	unknown := map[string]any{}
	for _, in := range c.callee.Inputs {
		v, ok := given[in.Name]
		switch {
		case !ok:
		case Known(v):
			gv[in.Name] = Given{Value: v, From: "step " + name}
		default:
			gv[in.Name] = Given{Value: zero(in.Type), From: "step " + name}
			unknown[in.Name] = v
		}
	}
	inputs, err := c.callee.ResolveInputs(gv, r.opt.Env, r.opt.Masker)
	if err != nil {
		return err
	}
	for k, v := range unknown {
		inputs[k] = v
	}
	return r.callee(st, idx, c, inputs).plan(ctx)
}

// callee returns the runner that plans the steps of the workflow st calls, with inputs, its
// events routed through r's.
func (r *runner) callee(st *Step, idx *int, c *callType, inputs map[string]any) *runner {
	opt := r.opt
	opt.Inputs = inputs
	sub := newRunner(c.callee, opt)
	sub.prefix = r.prefix + stepLabel(st.ID, idx) + "/"
	sub.sink = r.route
	return sub
}

// plan plans r's steps.
func (r *runner) plan(ctx context.Context) error {
	return r.planSteps(ctx, &evaluation{env: r.env, masker: r.opt.Masker, plan: true})
}

// OpenInputs returns inputs that stand for every run of wf: the values given, checked as
// ResolveInputs checks them, and every other input an Unknown ("<inputs.NAME>"), its default
// included, since a run may be given any value. Planned with them, a workflow shows what any run
// of it may do (flow iam derives the permissions every run needs this way).
func (wf *Workflow) OpenInputs(given map[string]Given, env map[string]string, m *Masker) (map[string]any, error) {
	closed := *wf // the inputs not given: neither required nor defaulted, so nothing is evaluated for them
	closed.Inputs = make([]*Input, len(wf.Inputs))
	for i, in := range wf.Inputs {
		closed.Inputs[i] = in
		if _, ok := given[in.Name]; !ok {
			open := *in
			open.Required, open.Default = false, nil
			closed.Inputs[i] = &open
		}
	}
	values, err := closed.ResolveInputs(given, env, m)
	if err != nil {
		return nil, err
	}
	for _, in := range wf.Inputs {
		if _, ok := given[in.Name]; !ok {
			values[in.Name] = Unknown{Text: "<inputs." + in.Name + ">"}
		}
	}
	return values, nil
}

// exprSource is the source of a for_each whose items only a run knows: always one expression.
func exprSource(v *Value) string { return v.expr.Source }
