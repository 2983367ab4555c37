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
	Inputs      []*Input
	Steps       []*Step
	Outputs     []*Output
	// Warnings are remarks from the checks that do not stop a run.
	Warnings Errors
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
