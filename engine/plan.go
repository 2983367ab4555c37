package engine

import "fmt"

// Plan reports through opt.Events what a run would do, and does none of it: for each step a plan
// event with its arguments resolved as far as the inputs and env allow (a value only a run would
// produce is an Unknown, shown as "<expression>"), its conditions, and, for step types that are Planners, the
// calls it would make. A for_each whose items are already known is planned item by item.
func Plan(wf *Workflow, opt Options) (err error) {
	r := newRunner(wf, opt)
	r.emit(Event{Event: "run_started", Workflow: wf.Name, File: wf.File, DryRun: true, Root: opt.Root})
	defer func() {
		if err != nil { // run_finished comes last, whatever happened
			err = maskedError{msg: r.mask(err.Error()), err: err}
			r.emit(Event{Event: "run_finished", Workflow: wf.Name, Status: StatusFailed, Error: err.Error(), DryRun: true})
		}
	}()
	ev := &evaluation{env: r.env, masker: r.opt.Masker, plan: true}
	if err := r.planSteps(ev); err != nil {
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

// planSteps plans every step, item by item where the items are known.
func (r *runner) planSteps(ev *evaluation) error {
	for _, st := range r.wf.Steps {
		if st.ForEach == nil {
			if err := r.planStep(st, ev, nil); err != nil {
				return err
			}
			continue
		}
		if st.ForEach.runtime || ev.unknown(st.ForEach.Value) {
			env := make(map[string]any, len(r.env)+1)
			for k, v := range r.env {
				env[k] = v
			}
			env["item"] = Unknown{Text: "<item>"}
			if err := r.planStep(st, &evaluation{env: env, masker: r.opt.Masker, plan: true}, nil); err != nil {
				return err
			}
			continue
		}
		items, err := st.ForEach.items(ev)
		if err != nil {
			return err
		}
		for i, item := range items {
			env := make(map[string]any, len(r.env)+1)
			for k, v := range r.env {
				env[k] = v
			}
			env["item"] = item
			idx := i
			if err := r.planStep(st, &evaluation{env: env, masker: r.opt.Masker, plan: true}, &idx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *runner) planStep(st *Step, ev *evaluation, idx *int) error {
	e := r.stepEvent("plan", st, idx)
	e.Status, e.Once = "planned", st.Once
	if st.ForEach != nil && idx == nil {
		e.ForEach = "<" + exprSource(st.ForEach.Value) + ">"
	}
	if st.If != nil {
		v, err := st.If.eval(ev)
		if err != nil {
			return err
		}
		switch v {
		case false:
			// Its arguments are not evaluated: a run would not evaluate them either.
			e.Status, e.Reason = StatusSkipped, "if: ${{ "+st.If.Source+" }} is false"
			r.emit(e)
			return nil
		case true:
		default:
			e.If = fmt.Sprint(v)
		}
	}
	args := make(map[string]any, len(st.With))
	for _, a := range st.With {
		v, err := a.Value.eval(ev)
		if err != nil {
			return err
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
	if p, ok := st.Type.(Planner); ok {
		e.Calls = p.Plan(NewRuntime(r.wf.Name, st.ID, r.opt.Root, r.opt.Masker), args)
	}
	r.emit(e)
	if c, calls := st.Type.(*callType); calls {
		given, known := args["inputs"].(map[string]any)
		if !known { // the whole map only a run knows: so is each of the callee's inputs
			open, err := c.callee.OpenInputs(nil, r.opt.Env, r.opt.Masker)
			if err != nil {
				return err
			}
			return r.callee(st, idx, c, open).plan()
		}
		return r.planCall(st, idx, c, given)
	}
	return nil
}

// planCall plans the steps of the workflow a step calls, as the call would run them: inputs only
// a run would know stay unknown there, and so does whatever is computed from them.
func (r *runner) planCall(st *Step, idx *int, c *callType, given map[string]any) error {
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
	return r.callee(st, idx, c, inputs).plan()
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
func (r *runner) plan() error {
	return r.planSteps(&evaluation{env: r.env, masker: r.opt.Masker, plan: true})
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
