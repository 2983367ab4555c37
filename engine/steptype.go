package engine

import (
	"context"
	"path/filepath"
)

// StepType is one kind of step as the engine sees it; package steps builds them from typed Go
// input and output structs and keeps them in a registry that implements Catalog.
//
// A run of one step goes: the executor evaluates the step's `with` arguments, fills in defaults,
// converts each to its field's type and runs each field's Check; then it calls Run with them,
// under the step's timeout and retry policy; Run returns one value per output field. A step type
// may also implement Planner (for --dry-run), Reader and Previewer (for a dry run that reads) and
// Linter (for extra load-time checks).
type StepType interface {
	// Name is the name workflows use in `uses`, e.g. "env.write".
	Name() string
	// Doc is a one-paragraph description for `flow steps NAME`.
	Doc() string
	// Inputs are the fields `with` may set.
	Inputs() []Field
	// Outputs are the fields later steps read as steps.ID.FIELD.
	Outputs() []Field
	// Run does the step's work. args holds a value of the field's type for every input that was
	// set or has a default. Run must honour ctx's cancellation and must not print: it reports
	// through its outputs and its error. Secret values it learns go to rt.Secret.
	Run(ctx context.Context, rt *Runtime, args map[string]any) (map[string]any, error)
}

// Reader is implemented by step types that may say their Run only reads (describes, gets,
// lists) and changes nothing anywhere. A dry run that reads (Options.Reads) runs such a step for
// real once its arguments are known, so the steps after it plan with what it read instead of
// Unknowns. Run is then given a context for which DryRun is true.
type Reader interface {
	ReadOnly() bool
}

// Previewer is implemented by step types that change things and can find, by reading only,
// exactly what Run would change. A dry run that reads (Options.Reads) calls Preview, with every
// argument known, in place of Planner's Plan: its lines are the calls Run would make, naming the
// very resources they act on (instance ids, parameter names, a record and its zone). Preview must
// make no call that changes anything; its context is one for which DryRun is true. It returns nil
// when it has no preview to give, and Plan's lines are shown.
type Previewer interface {
	Preview(ctx context.Context, rt *Runtime, args map[string]any) ([]string, error)
}

// Planner is implemented by step types that can describe, without doing it, what Run would do:
// --dry-run shows the lines it returns (the API calls it would make). An argument only a run would
// produce is an Unknown (or holds one inside, in a list or map): Known tells which. rt is the
// Runtime the step would run with.
type Planner interface {
	Plan(rt *Runtime, args map[string]any) []string
}

// Linter is implemented by step types with checks beyond types: Lint sees the arguments that are
// literals (expressions are left out) and returns warnings that do not stop a run, each naming the
// field it is about.
type Linter interface {
	Lint(args map[string]any) []Warning
}

// Checker is implemented by step types with checks across their arguments (exactly one of two
// set, a CNAME that is not an IP address). When every argument of a step is written literally,
// the loader runs Check on them, defaults filled in, so a step that could only fail is an error
// before anything runs; steps with computed arguments are checked when they run.
type Checker interface {
	Check(args map[string]any) error
}

// FileWriter is implemented by step types that write files on the machine they run on, under
// Runtime.Root (a file, or a program run there that may write any); a run with such a step says
// where its files go.
type FileWriter interface {
	WritesFiles() bool
}

// WritesFiles reports whether running wf may write files on this machine: it has a step whose
// type is a FileWriter that says so, or a once step (its record is a file).
func (wf *Workflow) WritesFiles() bool {
	for _, st := range wf.Steps {
		if w, ok := st.Type.(FileWriter); (ok && w.WritesFiles()) || st.Once != "" {
			return true
		}
	}
	return false
}

// Warning is a load-time remark about a field that does not stop a run.
type Warning struct {
	Field string
	Msg   string
	// Secret says the field's value is a secret written literally: the warning is shown without
	// the source line, which would quote it.
	Secret bool
}

// Catalog finds step types by name. The step registry implements it.
type Catalog interface {
	Lookup(name string) (StepType, bool)
	// Names returns every registered name, sorted.
	Names() []string
}

// Runtime is what a running step may use of the engine.
type Runtime struct {
	// Workflow is the running workflow's name, Step the step's id.
	Workflow string
	Step     string
	// Root prefixes every path a step writes, as `rpm --root` does; "" means the real root.
	Root   string
	masker *Masker
	// waiting receives what the step says it waits for; nil when nobody listens.
	waiting func(what string)
	// call runs a workflow for a `uses: workflow` step, in the run of the step.
	call func(ctx context.Context, callee *Workflow, inputs map[string]any) (map[string]any, error)
}

// NewRuntime returns the Runtime of step in workflow, writing under root, registering secrets
// with m (which may be nil). The executor makes one for each step; tests of step types use it.
func NewRuntime(workflow, step, root string, m *Masker) *Runtime {
	return &Runtime{Workflow: workflow, Step: step, Root: root, masker: m}
}

// Secret marks v as secret: from now on flow prints it as *** wherever it appears.
func (rt *Runtime) Secret(v string) {
	if rt.masker != nil {
		rt.masker.Add(v)
	}
}

// Waiting says what the step is waiting for now, as the rest of "waiting for ...": "instance
// i-0abc to be running (pending)"; "" says it no longer waits. While a step waits, the run reports
// it with the time waited (a live line on a terminal, step_progress events in -o json). It is
// cheap: a step calls it at every poll.
func (rt *Runtime) Waiting(what string) {
	if rt.waiting != nil {
		rt.waiting(what)
	}
}

// Mask returns s with every secret replaced by ***, for step errors that quote what a program said.
func (rt *Runtime) Mask(s string) string {
	if rt.masker == nil {
		return s
	}
	return rt.masker.Mask(s)
}

// Path returns the real location of path p that a step writes: p under Root when Root is set.
func (rt *Runtime) Path(p string) string {
	if rt.Root == "" {
		return p
	}
	return filepath.Join(rt.Root, filepath.Clean("/"+p))
}
