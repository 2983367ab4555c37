package engine

import (
	"regexp"
	"time"
)

// Workflow is a loaded, checked workflow. Every part keeps the position it was written at.
type Workflow struct {
	File        string
	Source      []byte
	Name        string
	Description string
	// Concurrency names a group whose runs on one machine go one at a time, as if one after the
	// other: a run takes the group's lock before its first step and lets it go at its end (the
	// command running the workflow does). Empty: none.
	Concurrency string
	Inputs      []*Input
	Steps       []*Step
	Outputs     []*Output
	// Warnings are remarks from the checks that do not stop a run.
	Warnings Errors
	// Graph is true when some step declares needs: the steps then run as their After allows, side
	// by side where nothing orders them. Otherwise every step follows the one before it.
	Graph bool
}

// Input is a declared input: its value comes from -v NAME=VALUE, a vars file, or its default.
type Input struct {
	Name        string
	Pos         Pos
	Type        *Type
	Required    bool
	Default     *Value // nil when none; may use inputs declared earlier and env
	Pattern     *regexp.Regexp
	Enum        []any
	Secret      bool
	Description string
}

// Step is one step of a workflow, bound to its step type.
type Step struct {
	ID              string
	Pos             Pos
	Uses            string
	Type            StepType
	With            []*Arg   // in the order written
	If              *Expr    // nil: always
	ForEach         *ForEach // nil: run once
	Retry           *Retry   // nil: one attempt
	Timeout         time.Duration
	ContinueOnError bool
	Once            string // "" or "instance"
	OncePos         Pos
	// Needs are the steps named in the step's `needs`, as written; nil when it has no needs.
	Needs []Need
	// After are the steps this one waits for: its needs, the steps its expressions read, and,
	// without needs, the step before it; reduced to those not already waited for through another
	// of them, in file order.
	After []*Step
	// Parallel is how many items of a for_each run at a time; nil: one.
	Parallel *Parallel
	// FailFast makes a failing item of a for_each stop the items not yet started and cancel those
	// running; without it every item runs and the step fails afterwards if any failed.
	FailFast bool
	index    int             // in Workflow.Steps
	next     []int           // the indexes of the steps whose After holds this one
	reads    map[string]bool // ids of the steps its expressions read
}

// Need is one step named in a step's needs.
type Need struct {
	ID  string
	Pos Pos
}

// Parallel is a for_each's `parallel`: a literal count or an int expression, evaluated before the
// items start.
type Parallel struct {
	Value *Value
}

// MaxParallel caps how many items of one for_each run at a time, whatever parallel says.
const MaxParallel = 64

// MaxConcurrentSteps caps how many steps of one run go on at the same time.
const MaxConcurrentSteps = 16

// followsPrevious reports whether the step simply waits for the step before it (or, first, for
// nothing): the order of a workflow without needs.
func (s *Step) followsPrevious(wf *Workflow) bool {
	if s.index == 0 {
		return len(s.After) == 0
	}
	return len(s.After) == 1 && s.After[0] == wf.Steps[s.index-1]
}

// Arg is one argument of a step: a field of its type's input set by a value.
type Arg struct {
	Field *Field
	Pos   Pos
	Value *Value
}

// Retry says how often and how patiently a failing step is tried again.
type Retry struct {
	Attempts int           // total tries, at least 1
	Delay    time.Duration // before the second try
	Backoff  float64       // each later delay is the previous one times Backoff, with jitter
}

// Output is one named output of the workflow.
type Output struct {
	Name  string
	Pos   Pos
	Value *Value
}

// OnceInstance is the value of a step's `once` key that makes it run once per instance.
const OnceInstance = "instance"

// outputType is the type `steps.<id>` has for later steps: the step type's outputs, or a list of
// them for a for_each step.
func (s *Step) outputType() *Type {
	t := ObjectOf(s.Type.Outputs()...)
	if s.ForEach != nil {
		return ListOf(t)
	}
	return t
}
