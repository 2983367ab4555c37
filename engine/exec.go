package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one thing that happened in a run, as `flow run -o json` writes it, one JSON object a
// line. Its fields are a stable, documented schema; every string in it has been masked.
type Event struct {
	// Event is run_started, step_started, step_progress, step_retrying, step_finished,
	// run_finished, or plan (one per step of a dry run).
	Event    string    `json:"event"`
	Time     time.Time `json:"time"`
	Workflow string    `json:"workflow,omitempty"`
	File     string    `json:"file,omitempty"`
	Step     string    `json:"step,omitempty"`
	Uses     string    `json:"uses,omitempty"`
	// Iteration is the item's index in a for_each step.
	Iteration *int `json:"iteration,omitempty"`
	// Status is succeeded, failed or skipped for a step; succeeded, failed or cancelled for a run.
	Status string `json:"status,omitempty"`
	// Reason says why a step was skipped.
	Reason string `json:"reason,omitempty"`
	// Attempt counts tries of a step, from 1.
	Attempt int            `json:"attempt,omitempty"`
	Outputs map[string]any `json:"outputs,omitempty"`
	Error   string         `json:"error,omitempty"`
	// DurationMS is how long the step or run took, in milliseconds.
	DurationMS *float64 `json:"duration_ms,omitempty"`
	// RetryInMS is the wait before the next attempt (step_retrying).
	RetryInMS *float64 `json:"retry_in_ms,omitempty"`
	// DryRun is true on a dry run's run_started and run_finished.
	DryRun bool `json:"dry_run,omitempty"`
	// Root is where the run writes files (run_started, when --root or --local sets one).
	Root string `json:"root,omitempty"`
	// With is a plan's resolved arguments; values only a run would produce are Unknown.
	With map[string]any `json:"with,omitempty"`
	// If, ForEach and Once describe a planned step's conditions.
	If      string `json:"if,omitempty"`
	ForEach any    `json:"for_each,omitempty"`
	Once    string `json:"once,omitempty"`
	// Calls are what a planned step would do (the API calls it would make).
	Calls []string `json:"calls,omitempty"`
	// Waiting is what a step waits for (step_progress): "instance i-0abc to be running (pending)".
	Waiting string `json:"waiting,omitempty"`
	// ElapsedMS is how long the step has waited for it so far (step_progress), in milliseconds.
	ElapsedMS *float64 `json:"elapsed_ms,omitempty"`
	// Needs are the steps a step waited for (plan, step_started, step_finished), given only when
	// that is not simply the step before it: in a workflow that uses needs. [] means nothing.
	Needs *[]string `json:"needs,omitempty"`

	from *Step // the step (of the runner that emitted it) the event is about, for ordering
	item *int  // and its item
}

// OnceStore records which `once: instance` steps have run on this instance.
type OnceStore interface {
	// Done reports whether the step named key already ran to success on this instance; detail
	// says where and when, for the skip reason.
	Done(ctx context.Context, key string) (done bool, detail string, err error)
	// Record durably records that key ran to success on this instance.
	Record(ctx context.Context, key string) error
}

// OnceHolder is a OnceStore that makes a step exclusive to one run on the instance, from a Done
// that found it not done until its Record: Release lets go of a step that ended without a
// Record (it failed, or was skipped), so that another run may do it.
type OnceHolder interface {
	OnceStore
	Release(key string)
}

// Options are what a run needs besides the workflow.
type Options struct {
	// Inputs are the resolved inputs (Workflow.ResolveInputs).
	Inputs map[string]any
	// Env is the process environment, read as env.NAME.
	Env map[string]string
	// Root prefixes every path a step writes ("" = the real root).
	Root string
	// Once keeps `once: instance` records; nil fails any step that has `once`.
	Once OnceStore
	// Masker knows the run's secrets; the same one must have resolved the inputs.
	Masker *Masker
	// Events receives every event, already masked. It may be nil. It is called from one goroutine
	// at a time, but not always the same one.
	Events func(Event)
	// ProgressEvery is how often a step that waits (Runtime.Waiting) is reported in a
	// step_progress event; 0 means never.
	ProgressEvery time.Duration
	// Reads makes a dry run (Plan) read: steps whose type is a Reader run for real once their
	// arguments are known, and Previewers say exactly what they would change. Without it a dry
	// run makes no call at all.
	Reads bool
	// Now, Sleep and Jitter may be replaced in tests; nil means time.Now, a sleep that honours
	// ctx, and a random spread of each retry delay over [d/2, 3d/2).
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
}

// Result is how a run ended.
type Result struct {
	// Status is succeeded, failed or cancelled.
	Status  string
	Outputs map[string]any // masked
	// Err is the error that stopped the run, masked; nil when it succeeded.
	Err error
}

// Run statuses.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusCancelled = "cancelled"
)

type runner struct {
	wf   *Workflow
	opt  Options
	env  map[string]any // inputs, env, steps
	outs map[string]any // steps.<id>
	// mu guards outs: steps running side by side store their outputs while others read theirs.
	mu sync.RWMutex
	// emitMu keeps events whole when steps or items run side by side.
	emitMu sync.Mutex
	// seq puts the steps' events in file order while they run; items holds the sequences of the
	// items of parallel for_each steps running now.
	seq      *sequence
	itemsMu  sync.Mutex
	itemSeqs map[*Step]*sequence
	// sink receives every event, masked and in order: opt.Events, or the calling step's stream.
	sink func(Event)
	// prefix names the step that called this workflow ("fleet[2]/"), before its steps' ids in events.
	prefix string
}

// Run runs the workflow's steps and reports each through opt.Events: in order, or, when steps
// declare needs, each as soon as the steps it waits for have finished, up to MaxConcurrentSteps at
// once. It stops at the first failed step (unless the step has continue_on_error): steps not yet
// started do not start, and running ones see their context cancelled. When ctx is cancelled the
// running steps see it and the result is cancelled.
func Run(ctx context.Context, wf *Workflow, opt Options) *Result {
	r := newRunner(wf, opt)
	start := r.now()
	root := ""
	if wf.WritesFiles() {
		root = opt.Root
	}
	r.emit(Event{Event: "run_started", Workflow: wf.Name, File: wf.File, Root: root})
	res := r.run(ctx)
	if res.Outputs != nil {
		res.Outputs = r.opt.Masker.MaskValue(res.Outputs).(map[string]any)
	}
	ev := Event{Event: "run_finished", Workflow: wf.Name, Status: res.Status, Outputs: res.Outputs, DurationMS: since(start, r.now())}
	if res.Err != nil {
		res.Err = maskedError{msg: r.mask(res.Err.Error()), err: res.Err}
		ev.Error = res.Err.Error()
	}
	r.emit(ev)
	return res
}

// run runs the steps and evaluates the outputs, unmasked.
func (r *runner) run(ctx context.Context) *Result {
	res := r.schedule(ctx)
	if res.Status == StatusSucceeded {
		outs, err := r.outputs()
		if err != nil {
			res.Status, res.Err = StatusFailed, err
		}
		res.Outputs = outs
	}
	return res
}

// stopped is the cause of the context of the steps still running when another step failed, so
// they report that they were cancelled, not that they failed.
type stopped struct{ what string }

func (s stopped) Error() string { return "cancelled: " + s.what + " failed" }

// schedule runs the steps as their After allows, at most MaxConcurrentSteps at a time, starting
// ready steps in file order. A step that is the only one able to run runs on the caller's
// goroutine, so a workflow without needs costs no goroutine or channel. The result does not depend
// on timing: a failure names the step that failed first; steps cancelled because of it say so.
func (r *runner) schedule(ctx context.Context) *Result {
	steps := r.wf.Steps
	waiting := make([]int, len(steps))
	for i, st := range steps {
		waiting[i] = len(st.After)
	}
	var ready []int // ascending
	for i := range steps {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.seq = newSequence(len(steps), r.sink)
	defer r.seq.endAll()
	type done struct {
		i   int
		err error
	}
	finished := make(chan done)
	started := make([]bool, len(steps))
	running, failed, interrupted := 0, -1, -1
	var failErr, interruptErr error
	settle := func(d done) {
		st := steps[d.i]
		r.seq.end(d.i)
		switch {
		case d.err == nil || (st.ContinueOnError && ctx.Err() == nil && runCtx.Err() == nil):
			for _, j := range st.next {
				if waiting[j]--; waiting[j] == 0 {
					at := sort.SearchInts(ready, j)
					ready = append(ready, 0)
					copy(ready[at+1:], ready[at:])
					ready[at] = j
				}
			}
		case ctx.Err() != nil:
			if interrupted < 0 || d.i < interrupted {
				interrupted, interruptErr = d.i, d.err
			}
		case failed < 0:
			failed, failErr = d.i, d.err
			stop(stopped{what: fmt.Sprintf("step %q", st.ID)})
		}
	}
	for {
		for len(ready) > 0 && running < MaxConcurrentSteps && runCtx.Err() == nil {
			i := ready[0]
			copy(ready, ready[1:])
			ready = ready[:len(ready)-1]
			started[i] = true
			if running == 0 && len(ready) == 0 {
				settle(done{i, r.step(runCtx, steps[i])})
				continue
			}
			running++
			go func() { finished <- done{i, r.step(runCtx, steps[i])} }()
		}
		if running == 0 {
			break
		}
		d := <-finished
		running--
		settle(d)
	}
	switch {
	case interrupted >= 0:
		return &Result{Status: StatusCancelled, Err: fmt.Errorf("cancelled during step %q: %w", steps[interrupted].ID, interruptErr)}
	case failed >= 0:
		return &Result{Status: StatusFailed, Err: fmt.Errorf("step %q failed: %w", steps[failed].ID, failErr)}
	case ctx.Err() != nil:
		for i, st := range steps {
			if !started[i] {
				return &Result{Status: StatusCancelled, Err: fmt.Errorf("cancelled before step %q", st.ID)}
			}
		}
	}
	return &Result{Status: StatusSucceeded}
}

func newRunner(wf *Workflow, opt Options) *runner {
	if opt.Masker == nil {
		opt.Masker = new(Masker)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Sleep == nil {
		opt.Sleep = sleep
	}
	if opt.Jitter == nil {
		opt.Jitter = jitter
	}
	outs := make(map[string]any, len(wf.Steps))
	env := map[string]any{"inputs": opt.Inputs, "env": envMap(opt.Env), "steps": outs}
	if opt.Inputs == nil {
		env["inputs"] = map[string]any{}
	}
	r := &runner{wf: wf, opt: opt, env: env, outs: outs, itemSeqs: map[*Step]*sequence{}}
	r.sink = func(e Event) {
		r.emitMu.Lock()
		defer r.emitMu.Unlock()
		r.opt.Events(e)
	}
	return r
}

func (r *runner) now() time.Time { return r.opt.Now() }

func (r *runner) mask(s string) string { return r.opt.Masker.Mask(s) }

func (r *runner) emit(e Event) {
	if r.opt.Events == nil {
		return
	}
	if e.Step != "" {
		e.Step = r.prefix + e.Step
	}
	if e.Outputs != nil {
		e.Outputs = r.opt.Masker.MaskValue(e.Outputs).(map[string]any)
	}
	if e.With != nil {
		e.With = r.opt.Masker.MaskValue(e.With).(map[string]any)
	}
	e.ForEach = r.opt.Masker.MaskValue(e.ForEach)
	e.Error, e.Reason, e.If, e.Waiting = r.mask(e.Error), r.mask(e.Reason), r.mask(e.If), r.mask(e.Waiting)
	for i, c := range e.Calls {
		e.Calls[i] = r.mask(c)
	}
	e.Time = r.now()
	r.route(e)
}

// route passes an event on in the order of the steps and items it is about.
func (r *runner) route(e Event) {
	if e.from == nil || r.seq == nil {
		r.sink(e)
		return
	}
	if e.item != nil {
		r.itemsMu.Lock()
		seq := r.itemSeqs[e.from]
		r.itemsMu.Unlock()
		if seq != nil {
			seq.emit(*e.item, e)
			return
		}
	}
	r.seq.emit(e.from.index, e)
}

// step runs one step, over each item of its for_each, and records its outputs. A once step is
// checked after its if (a step that would be skipped needs no instance identity) or, with
// for_each, before its items.
func (r *runner) step(ctx context.Context, st *Step) error {
	if h, ok := r.opt.Once.(OnceHolder); ok && st.Once != "" {
		defer h.Release(r.onceKey(st))
	}
	if st.ForEach == nil {
		out, ran, err := r.iteration(ctx, st, nil, nil, st.Once != "")
		r.store(st, out)
		if err == nil && ran && st.Once != "" {
			err = r.onceRecord(ctx, st)
		}
		return err
	}
	if st.Once != "" {
		if done, err := r.onceSkip(ctx, st, nil); done || err != nil {
			r.store(st, zero(st.outputType()))
			return err
		}
	}
	items, width, err := r.items(st)
	if err != nil {
		r.finish(ctx, st, nil, r.now(), 0, nil, err)
		r.store(st, []any{})
		return err
	}
	if len(items) == 0 {
		e := r.stepEvent("step_finished", st, nil)
		e.Status, e.Reason, e.DurationMS = StatusSkipped, "for_each: no items", new(float64)
		r.emit(e)
	}
	outs, anyRan, err := r.each(ctx, st, items, width)
	r.store(st, outs)
	if err == nil && anyRan && st.Once != "" {
		err = r.onceRecord(ctx, st)
	}
	return err
}

// store records a step's outputs for the steps after it.
func (r *runner) store(st *Step, out any) {
	r.mu.Lock()
	r.outs[st.ID] = out
	r.mu.Unlock()
}

// each runs a for_each step's items, width at a time, and returns their outputs in item order. An
// item that fails does not stop the others unless the step has fail_fast; the error is the first
// failing item's, by index, naming how many others failed.
func (r *runner) each(ctx context.Context, st *Step, items []any, width int) ([]any, bool, error) {
	none := zero(ObjectOf(st.Type.Outputs()...))
	outs := make([]any, len(items))
	for i := range outs {
		outs[i] = none
	}
	errs := make([]error, len(items))
	cancelled := make([]bool, len(items)) // failed after a fail_fast stop: a consequence, not a cause
	var anyRan atomic.Bool
	stopper := atomic.Int64{}
	stopper.Store(-1)
	ictx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	item := func(i int) {
		idx := i
		out, ran, err := r.iteration(ictx, st, items[i], &idx, false)
		if ran {
			anyRan.Store(true)
		}
		outs[i], errs[i] = out, err
		if err == nil {
			return
		}
		if ictx.Err() != nil && ctx.Err() == nil {
			cancelled[i] = true
		} else if st.FailFast && stopper.CompareAndSwap(-1, int64(i)) {
			stop(stopped{what: fmt.Sprintf("item %d", i)})
		}
	}
	if width <= 1 || len(items) <= 1 {
		for i := range items {
			if ictx.Err() != nil {
				break
			}
			item(i)
		}
	} else {
		seq := newSequence(len(items), func(e Event) { r.seq.emit(st.index, e) })
		r.itemsMu.Lock()
		r.itemSeqs[st] = seq
		r.itemsMu.Unlock()
		defer func() {
			seq.endAll()
			r.itemsMu.Lock()
			delete(r.itemSeqs, st)
			r.itemsMu.Unlock()
		}()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(width, len(items)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(items) || ictx.Err() != nil {
						return
					}
					item(i)
					seq.end(i)
				}
			}()
		}
		wg.Wait()
	}
	first, others := -1, []string(nil)
	if s := stopper.Load(); s >= 0 {
		first = int(s)
	}
	for i, err := range errs {
		switch {
		case err == nil || cancelled[i] || i == first:
		case first < 0:
			first = i
		default:
			others = append(others, strconv.Itoa(i))
		}
	}
	if first < 0 {
		return outs, anyRan.Load(), ctx.Err()
	}
	err := fmt.Errorf("item %d: %w", first, errs[first])
	if len(others) > 0 {
		err = fmt.Errorf("%w (items %s failed too)", err, strings.Join(others, ", "))
	}
	return outs, anyRan.Load(), err
}

// onceSkip reports whether a once step already ran on this instance, reporting it skipped if so.
func (r *runner) onceSkip(ctx context.Context, st *Step, idx *int) (bool, error) {
	done, detail, err := r.onceDone(ctx, st)
	if err != nil {
		r.finish(ctx, st, idx, r.now(), 0, nil, err)
		return false, err
	}
	if done {
		e := r.stepEvent("step_finished", st, idx)
		e.Status, e.Reason, e.DurationMS = StatusSkipped, "once: "+detail, new(float64)
		r.emit(e)
	}
	return done, nil
}

func (r *runner) onceKey(st *Step) string { return r.wf.Name + "/" + st.ID }

func (r *runner) onceDone(ctx context.Context, st *Step) (bool, string, error) {
	if r.opt.Once == nil {
		return false, "", &Error{Pos: st.OncePos, Msg: "once: instance needs the instance's identity, and none is available here"}
	}
	done, detail, err := r.opt.Once.Done(ctx, r.onceKey(st))
	if err != nil {
		return false, "", fmt.Errorf("once: %w", err)
	}
	return done, detail, nil
}

func (r *runner) onceRecord(ctx context.Context, st *Step) error {
	if err := r.opt.Once.Record(ctx, r.onceKey(st)); err != nil {
		err = fmt.Errorf("the step succeeded, but recording that it ran once failed: %w", err)
		e := r.stepEvent("step_finished", st, nil)
		e.Status, e.Error, e.DurationMS = StatusFailed, err.Error(), new(float64)
		r.emit(e)
		return err
	}
	return nil
}

// items evaluates a for_each into the items it runs over (a list's elements, or a map's entries
// as {key, value} in key order) and its parallel into how many run at a time.
func (r *runner) items(st *Step) ([]any, int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ev := &evaluation{env: r.env, masker: r.opt.Masker}
	items, err := st.ForEach.items(ev)
	if err != nil {
		return nil, 0, err
	}
	width, err := st.width(ev)
	return items, width, err
}

// width evaluates the step's parallel: at least 1, at most MaxParallel.
func (st *Step) width(ev *evaluation) (int, error) {
	if st.Parallel == nil {
		return 1, nil
	}
	v, err := st.Parallel.Value.eval(ev)
	if err != nil {
		return 0, err
	}
	n, err := Coerce(v, Int())
	if err != nil || n.(int) < 1 {
		return 0, &Error{Pos: st.Parallel.Value.Pos, Msg: fmt.Sprintf("parallel must be a whole number of at least 1, got %s", ev.masker.Mask(stringify(v)))}
	}
	return min(n.(int), MaxParallel), nil
}

// items evaluates the for_each.
func (fe *ForEach) items(ev *evaluation) ([]any, error) {
	v, err := fe.Value.eval(ev)
	if err != nil {
		return nil, err
	}
	switch c := v.(type) {
	case []any:
		return c, nil
	case map[string]any:
		return itemsOfMap(c), nil
	}
	if list, err := Coerce(v, ListOf(Any())); err == nil {
		return list.([]any), nil
	}
	if m, err := Coerce(v, MapOf(Any())); err == nil {
		return itemsOfMap(m.(map[string]any)), nil
	}
	return nil, &Error{Pos: fe.Value.Pos, Msg: fmt.Sprintf("for_each needs a list or a map, got %s", describeValue(v))}
}

// itemsOfMap returns a map's entries as {key, value} items in key order.
func itemsOfMap(c map[string]any) []any {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = map[string]any{"key": k, "value": c[k]}
	}
	return out
}

// iteration runs a step once (for one item, when it has for_each) and returns its outputs, and
// whether it ran at all (false when its if was false, or checkOnce found it already ran).
func (r *runner) iteration(ctx context.Context, st *Step, item any, idx *int, checkOnce bool) (map[string]any, bool, error) {
	env := r.env
	if idx != nil {
		env = make(map[string]any, len(r.env)+1)
		for k, v := range r.env {
			env[k] = v
		}
		env["item"] = item
	}
	ev := &evaluation{env: env, masker: r.opt.Masker}
	start := r.now()
	none := func() map[string]any { return zero(ObjectOf(st.Type.Outputs()...)).(map[string]any) }
	if st.If != nil {
		r.mu.RLock()
		ok, err := st.If.eval(ev)
		r.mu.RUnlock()
		if err != nil {
			r.finish(ctx, st, idx, start, 0, nil, err)
			return none(), false, err
		}
		run, isBool := ok.(bool)
		if !isBool {
			err := &Error{Pos: st.If.Pos(), Msg: fmt.Sprintf("if must be true or false; ${{ %s }} is %s", st.If.Source, describeValue(ok))}
			r.finish(ctx, st, idx, start, 0, nil, err)
			return none(), false, err
		}
		if !run {
			e := r.stepEvent("step_finished", st, idx)
			e.Status, e.Reason, e.DurationMS = StatusSkipped, "if: ${{ "+st.If.Source+" }} is false", new(float64)
			r.emit(e)
			return none(), false, nil
		}
	}
	if checkOnce {
		if done, err := r.onceSkip(ctx, st, idx); done || err != nil {
			return none(), false, err
		}
	}
	r.mu.RLock()
	args, err := r.args(st, ev)
	r.mu.RUnlock()
	if err != nil {
		r.finish(ctx, st, idx, start, 0, nil, err)
		return none(), true, err
	}
	r.emit(r.stepEvent("step_started", st, idx))
	out, attempts, err := r.attempts(ctx, st, args, idx)
	if err != nil {
		r.finish(ctx, st, idx, start, attempts, nil, err)
		return none(), true, err
	}
	for _, f := range st.Type.Outputs() {
		if f.Secret {
			r.opt.Masker.AddValue(out[f.Name])
		}
	}
	r.finish(ctx, st, idx, start, attempts, out, nil)
	return out, true, nil
}

// stepEvent returns an event about step st (item idx), with what the step waited for when that is
// not simply the step before it.
func (r *runner) stepEvent(event string, st *Step, idx *int) Event {
	e := Event{Event: event, Step: st.ID, Uses: st.Uses, Iteration: idx, from: st, item: idx}
	if r.wf.Graph && !st.followsPrevious(r.wf) {
		needs := make([]string, len(st.After))
		for i, a := range st.After {
			needs[i] = a.ID
		}
		e.Needs = &needs
	}
	return e
}

// finish reports how a step (or one item) ended. A step whose context was cancelled because
// another step or item failed is reported cancelled, not failed.
func (r *runner) finish(ctx context.Context, st *Step, idx *int, start time.Time, attempts int, out map[string]any, err error) {
	e := r.stepEvent("step_finished", st, idx)
	e.Status, e.Outputs, e.DurationMS = StatusSucceeded, out, since(start, r.now())
	if attempts > 1 {
		e.Attempt = attempts
	}
	if err != nil {
		e.Status, e.Error, e.Outputs = StatusFailed, stepMessage(err), nil
		var s stopped
		if errors.As(context.Cause(ctx), &s) {
			e.Status, e.Error = StatusCancelled, s.Error()
		}
	}
	r.emit(e)
}

// args evaluates a step's arguments, converts them to their fields' types, fills in defaults and
// runs the fields' checks.
func (r *runner) args(st *Step, ev *evaluation) (map[string]any, error) {
	args := make(map[string]any, len(st.With))
	for _, a := range st.With {
		v, err := a.Value.eval(ev)
		if err != nil {
			return nil, err
		}
		if v, err = Coerce(v, a.Field.Type); err != nil {
			return nil, &Error{Pos: a.Value.Pos, Msg: fmt.Sprintf("%s: %s", a.Field.Name, r.mask(err.Error()))}
		}
		if err := a.Field.Validate(v); err != nil {
			return nil, &Error{Pos: a.Value.Pos, Msg: fmt.Sprintf("%s: %s", a.Field.Name, r.mask(err.Error()))}
		}
		r.opt.Masker.addSecretField(a.Field, v)
		args[a.Field.Name] = v
	}
	for _, f := range st.Type.Inputs() {
		if _, set := args[f.Name]; !set && f.Default != nil {
			args[f.Name] = f.Default
		}
	}
	return args, nil
}

// attempts runs the step under its timeout, trying again on failure as its retry says. A cancelled
// run is never retried.
func (r *runner) attempts(ctx context.Context, st *Step, args map[string]any, idx *int) (map[string]any, int, error) {
	tries, delay := 1, time.Duration(0)
	if st.Retry != nil {
		tries, delay = st.Retry.Attempts, st.Retry.Delay
	}
	rt := &Runtime{Workflow: r.wf.Name, Step: st.ID, Root: r.opt.Root, masker: r.opt.Masker}
	defer r.reportProgress(st, idx, rt)()
	if _, calls := st.Type.(*callType); calls {
		rt.call = func(ctx context.Context, callee *Workflow, inputs map[string]any) (map[string]any, error) {
			return r.call(ctx, st, idx, callee, inputs)
		}
	}
	for attempt := 1; ; attempt++ {
		out, err := r.once(ctx, st, rt, args)
		if err == nil {
			return out, attempt, nil
		}
		if attempt >= tries || ctx.Err() != nil {
			return nil, attempt, err
		}
		wait := r.opt.Jitter(delay)
		ms := float64(wait) / float64(time.Millisecond)
		e := r.stepEvent("step_retrying", st, idx)
		e.Attempt, e.Error, e.RetryInMS = attempt, stepMessage(err), &ms
		r.emit(e)
		rt.Waiting(fmt.Sprintf("attempt %d of %d, after a %s back-off", attempt+1, tries, wait.Round(time.Millisecond)))
		serr := r.opt.Sleep(ctx, wait)
		rt.Waiting("")
		if serr != nil {
			return nil, attempt, err
		}
		delay = time.Duration(min(float64(delay)*st.Retry.Backoff, float64(MaxRetryDelay)))
	}
}

// once is one try of a step, under its timeout. A step type that panics fails its step; it
// does not take the run, or the terminal, down with a stack trace.
func (r *runner) once(ctx context.Context, st *Step, rt *Runtime, args map[string]any) (out map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%s failed unexpectedly, a bug in flow (please report it): %v", st.Uses, p)
		}
	}()
	sctx := ctx
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, st.Timeout)
		defer cancel()
	}
	out, err = st.Type.Run(sctx, rt, args)
	if err != nil {
		if ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("timed out after %s: %w", st.Timeout, err)
		}
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	for _, f := range st.Type.Outputs() {
		if _, ok := out[f.Name]; !ok {
			out[f.Name] = zero(f.Type)
		}
	}
	return out, nil
}

// MaxRetryDelay caps the wait between two tries of a step, however large backoff makes it.
const MaxRetryDelay = 15 * time.Minute

// jitter returns d spread at random over [d/2, d*3/2), so retries of many instances do not
// arrive together.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// outputs evaluates the workflow's outputs.
func (r *runner) outputs() (map[string]any, error) {
	if len(r.wf.Outputs) == 0 {
		return nil, nil
	}
	ev := &evaluation{env: r.env, masker: r.opt.Masker}
	out := make(map[string]any, len(r.wf.Outputs))
	for _, o := range r.wf.Outputs {
		v, err := o.Value.eval(ev)
		if err != nil {
			return nil, err
		}
		out[o.Name] = v
	}
	return out, nil
}

func since(start, end time.Time) *float64 {
	ms := float64(end.Sub(start).Microseconds()) / 1000
	return &ms
}

// maskedError is an error whose text has had secrets masked. It deliberately does not unwrap: the
// error inside may quote a secret.
type maskedError struct {
	msg string
	err error
}

func (e maskedError) Error() string { return e.msg }
