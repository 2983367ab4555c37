package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flow-infra/flow/engine"
)

// diagnostic is one problem found by the checks, as programs read it: a line of
// `flow validate -o json`, and an event of `flow run -o json` when the checks fail.
type diagnostic struct {
	Event     string     `json:"event"`
	Time      *time.Time `json:"time,omitempty"`
	File      string     `json:"file"`
	Line      int        `json:"line,omitempty"`
	Column    int        `json:"column,omitempty"`
	EndLine   int        `json:"end_line,omitempty"`
	EndColumn int        `json:"end_column,omitempty"`
	Severity  string     `json:"severity"`
	Rule      string     `json:"rule"`
	Message   string     `json:"message"`
}

// Severities.
const (
	severityError   = "error"
	severityWarning = "warning"
)

// ruleUnreadable is the rule of a workflow file that cannot be read at all.
const ruleUnreadable = "read-file"

// diagnosticsOf returns err's problems as diagnostics of severity; file names an error that has
// no position of its own (the file could not be read).
func diagnosticsOf(err error, severity, file string) []diagnostic {
	var list engine.Errors
	var one *engine.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = engine.Errors{one}
	default:
		return []diagnostic{{Event: "diagnostic", File: file, Severity: severity, Rule: ruleUnreadable, Message: err.Error()}}
	}
	out := make([]diagnostic, len(list))
	for i, e := range list {
		d := diagnostic{Event: "diagnostic", File: e.Pos.File, Line: e.Pos.Line, Column: e.Pos.Col,
			EndLine: e.End.Line, EndColumn: e.End.Col, Severity: severity, Rule: e.Rule, Message: e.Msg}
		if d.Rule == "" {
			d.Rule = "check"
		}
		out[i] = d
	}
	return out
}

// writeJSON writes diagnostics one JSON object a line.
func writeJSON(w io.Writer, ds []diagnostic) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, d := range ds {
		enc.Encode(d)
	}
}

// writeGitHub writes diagnostics as GitHub Actions workflow commands
// (::error file=F,line=L,col=C,endLine=...,endColumn=...,title=RULE::MESSAGE), which annotate the
// lines of a pull request's diff.
func writeGitHub(w io.Writer, ds []diagnostic) {
	for _, d := range ds {
		props := []string{"file=" + escapeProperty(d.File)}
		for _, p := range []struct {
			name  string
			value int
		}{{"line", d.Line}, {"endLine", d.EndLine}, {"col", d.Column}, {"endColumn", d.EndColumn}} {
			if p.value > 0 {
				props = append(props, p.name+"="+strconv.Itoa(p.value))
			}
		}
		props = append(props, "title="+escapeProperty("flow "+d.Rule))
		fmt.Fprintf(w, "::%s %s::%s\n", d.Severity, strings.Join(props, ","), escapeData(d.Message))
	}
}

// escapeData escapes a workflow command's message as the Actions runner unescapes it.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value: as a message, and : and , too.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// rejected reports that the checks rejected a run's workflow or inputs: with -o json, as
// diagnostic events on stdout besides the text on stderr. It returns the exit-2 error.
func (c *cli) rejected(format string, err error, sources map[string][]byte, file string) error {
	if format == "json" {
		now := time.Now()
		if t, perr := time.Parse(time.RFC3339, os.Getenv("FLOW_CLOCK")); perr == nil {
			now = t
		}
		ds := diagnosticsOf(err, severityError, file)
		for i := range ds {
			ds[i].Time = &now
		}
		writeJSON(c.stdout, ds)
	}
	return invalid(err, sources)
}
