package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// Pos is a place in a workflow file. Line and Col are 1-based; Col counts characters.
type Pos struct {
	File string
	Line int
	Col  int
}

// String returns FILE:LINE:COL, leaving out what is unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem found in a workflow or its inputs, at a position.
type Error struct {
	Pos Pos
	// End is where the offending text ends (the column just past it), when that is known; else
	// the zero Pos.
	End Pos
	Msg string
	// Rule names the check that found the problem (one of the Rule constants), for programs that
	// read diagnostics; "" for a problem found while running.
	Rule string
	// Secret says the source at Pos holds a secret: PrettyPrint shows no source line for it.
	Secret bool
}

// The checks that find problems before anything runs, by the names machines see them under
// (flow validate -o json and -o github).
const (
	RuleYAMLSyntax       = "yaml-syntax"       // the file is not one well-formed YAML document
	RuleRequiredKey      = "required-key"      // a key the workflow needs is missing or empty
	RuleUnknownKey       = "unknown-key"       // a key or step input that is not known there
	RuleDuplicateKey     = "duplicate-key"     // a key given twice in one mapping
	RuleValueType        = "value-type"        // a value of the wrong kind or form for its key
	RuleName             = "name-syntax"       // a step id, input or output name that breaks its pattern
	RuleDuplicateID      = "duplicate-id"      // two steps with one id
	RuleUnknownStepType  = "unknown-step-type" // uses names no registered step type
	RuleInputDeclaration = "input-declaration" // an input's type, pattern, enum or default
	RuleStepInput        = "step-input"        // a step's with: a required input missing, a value its field rejects
	RuleExprSyntax       = "expr-syntax"       // an expression that does not parse
	RuleExprName         = "expr-name"         // an expression reads a name that is not there (yet)
	RuleExprType         = "expr-type"         // an expression whose type does not fit where it is used
	RuleInputValue       = "input-value"       // a value given for an input (-v, --vars-file) or its absence
	RuleStepLint         = "step-lint"         // a step type's own warning
	RuleNeeds            = "needs"             // a step's needs: an unknown, later or own step, a cycle
	RuleWorkflowCall     = "workflow-call"     // a workflow step's file: unreadable, with problems, a cycle
)

// Error returns "FILE:LINE:COL: message", plain text.
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every problem found by loading and checking a workflow, in file order.
type Errors []*Error

// Error returns one problem a line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es *Errors) add(rule string, pos Pos, format string, args ...any) {
	*es = append(*es, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Rule: rule})
}

// err returns the list sorted by position as an error, or nil when it is empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return es
}

// capped returns the list, sorted, with at most max problems and a last one that counts the rest.
func (es Errors) capped(max int) Errors {
	if len(es) <= max {
		return es
	}
	rest := len(es) - max
	out := append(Errors{}, es[:max]...)
	return append(out, &Error{Pos: Pos{File: es[max].Pos.File}, Msg: fmt.Sprintf("and %d more problems", rest)})
}

// PrettyPrint writes err for a person: each positioned problem, then its source line with the line
// number and a caret under the column, as compilers do. sources maps file names to their content;
// a problem whose file is not there is written as plain text. color adds ANSI colour.
func PrettyPrint(w io.Writer, err error, sources map[string][]byte, color bool) {
	var list Errors
	var one *Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = Errors{one}
	default:
		fmt.Fprintln(w, err)
		return
	}
	red, bold, reset := "", "", ""
	if color {
		red, bold, reset = "\x1b[31m", "\x1b[1m", "\x1b[0m"
	}
	lines := map[string][][]byte{} // each file split once, however many errors it has
	for _, e := range list {
		fmt.Fprintf(w, "%s%s:%s %s%s%s\n", bold, e.Pos, reset, red, e.Msg, reset)
		src, ok := sources[e.Pos.File]
		if !ok || e.Secret {
			continue
		}
		if lines[e.Pos.File] == nil {
			lines[e.Pos.File] = bytes.Split(src, []byte("\n"))
		}
		if e.Pos.Line < 1 || e.Pos.Line > len(lines[e.Pos.File]) {
			continue
		}
		line := strings.TrimRight(string(lines[e.Pos.File][e.Pos.Line-1]), "\r")
		num := fmt.Sprintf("%5d", e.Pos.Line)
		fmt.Fprintf(w, "%s | %s\n", num, strings.ReplaceAll(line, "\t", " "))
		if e.Pos.Col > 0 {
			pad := strings.Repeat(" ", min(e.Pos.Col-1, utf8.RuneCountInString(line)))
			fmt.Fprintf(w, "%s | %s%s^%s\n", strings.Repeat(" ", len(num)), pad, red, reset)
		}
	}
}

// closest returns the candidate nearest to s by edit distance, if it is near enough to be a
// likely misspelling, or "".
func closest(s string, candidates []string) string {
	best, bestDist := "", len(s)/2+2
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// suggest returns " (did you mean X?)" or " (expected one of: a, b)" for an unknown name.
func suggest(name string, known []string) string {
	if c := closest(name, known); c != "" {
		return fmt.Sprintf("; did you mean %q?", c)
	}
	if len(known) == 0 {
		return ""
	}
	return "; expected one of: " + strings.Join(known, ", ")
}
