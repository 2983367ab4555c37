package engine

import (
	"errors"
	"strings"
)

// StepError is an error of a step type's Check or Run, named by its type: the step registry wraps
// every such error in one, so no step writes its own type's name into a message.
type StepError struct {
	// Type is the step type's name, e.g. "ssm.get".
	Type string
	Err  error
}

// Error returns "TYPE: message".
func (e *StepError) Error() string { return e.Type + ": " + e.Err.Error() }

// Unwrap returns the step type's own error.
func (e *StepError) Unwrap() error { return e.Err }

// stepMessage is a step's error as the step's events give it: they name the step type in their
// own field (uses), so the message is the StepError's without its "TYPE: ".
func stepMessage(err error) string {
	var se *StepError
	if !errors.As(err, &se) {
		return err.Error()
	}
	return strings.Replace(err.Error(), se.Error(), se.Err.Error(), 1)
}

// FieldError is a step type's complaint about one of its arguments. Path leads from the input's
// name to the value at fault through list indexes and map keys (["values", "0"], ["env", "1X"]);
// with Key, the fault is the last map key itself, not its value. The loader reports it at that
// place in the file, not at the step.
type FieldError struct {
	Path []string
	Key  bool
	Msg  string
}

// Error returns "INPUT: message".
func (e *FieldError) Error() string { return e.Path[0] + ": " + e.Msg }

// FieldErrors is several FieldErrors of one step, in the order they were found.
type FieldErrors []*FieldError

// Error returns each error's message, separated by "; ".
func (fe FieldErrors) Error() string {
	msgs := make([]string, len(fe))
	for i, e := range fe {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the errors, for errors.As.
func (fe FieldErrors) Unwrap() []error {
	out := make([]error, len(fe))
	for i, e := range fe {
		out[i] = e
	}
	return out
}

// fieldErrors returns the FieldErrors inside err, following Unwrap of one error and of many.
func fieldErrors(err error) []*FieldError {
	switch x := err.(type) {
	case *FieldError:
		return []*FieldError{x}
	case interface{ Unwrap() []error }:
		var out []*FieldError
		for _, e := range x.Unwrap() {
			out = append(out, fieldErrors(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		return fieldErrors(x.Unwrap())
	}
	return nil
}
