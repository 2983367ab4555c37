package engine

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestPrettyPrintSnippet pins what a person sees on a terminal: the problem, its source line with
// the line number, and a caret under the column (tabs shown as spaces so the caret lines up).
func TestPrettyPrintSnippet(t *testing.T) {
	src := []byte("name: x\nsteps:\n\t- id: a\n    uses: nope\n")
	errs := Errors{
		{Pos: Pos{File: "f.yaml", Line: 4, Col: 11}, Msg: `unknown step type "nope"`},
		{Pos: Pos{File: "other.yaml", Line: 1, Col: 1}, Msg: "not in sources"},
		{Pos: Pos{File: "f.yaml", Line: 9, Col: 1}, Msg: "past the end"},
	}
	var out bytes.Buffer
	PrettyPrint(&out, errs, map[string][]byte{"f.yaml": src}, false)
	want := "f.yaml:4:11: unknown step type \"nope\"\n" +
		"    4 |     uses: nope\n" +
		"      |           ^\n" +
		"other.yaml:1:1: not in sources\n" +
		"f.yaml:9:1: past the end\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// Without sources (not a terminal) each problem is one plain line.
	out.Reset()
	PrettyPrint(&out, errs[0], nil, false)
	if got, want := out.String(), "f.yaml:4:11: unknown step type \"nope\"\n"; got != want {
		t.Errorf("without sources: got %q, want %q", got, want)
	}
}

// TestEveryProblemNamesItsRule: whatever the check, a problem found before a run says which check
// found it, so programs reading diagnostics can tell them apart.
func TestEveryProblemNamesItsRule(t *testing.T) {
	known := map[string]bool{RuleYAMLSyntax: true, RuleRequiredKey: true, RuleUnknownKey: true, RuleDuplicateKey: true,
		RuleValueType: true, RuleName: true, RuleDuplicateID: true, RuleUnknownStepType: true, RuleInputDeclaration: true,
		RuleStepInput: true, RuleExprSyntax: true, RuleExprName: true, RuleExprType: true, RuleInputValue: true, RuleStepLint: true}
	for _, tc := range []struct{ src, rule string }{
		{"name: x\nsteps: [\n", RuleYAMLSyntax},
		{"", RuleRequiredKey},
		{"name: x\nstepz: []\n", RuleUnknownKey},
		{"name: x\nname: y\nsteps: [{id: a, uses: test.noop}]\n", RuleDuplicateKey},
		{"name: x\nsteps: [{id: a, uses: test.noop, timeout: soon}]\n", RuleValueType},
		{"name: x\nsteps: [{id: A, uses: test.noop}]\n", RuleName},
		{"name: x\nconcurrency: a/b\nsteps: [{id: a, uses: test.noop}]\n", RuleName},
		{"name: x\nconcurrency: " + strings.Repeat("g", 101) + "\nsteps: [{id: a, uses: test.noop}]\n", RuleName},
		{"name: x\nconcurrency: [g]\nsteps: [{id: a, uses: test.noop}]\n", RuleValueType},
		{"name: x\nsteps: [{id: a, uses: test.noop}, {id: a, uses: test.noop}]\n", RuleDuplicateID},
		{"name: x\nsteps: [{id: a, uses: test.nope}]\n", RuleUnknownStepType},
		{"name: x\ninputs: {a: {type: strng}}\nsteps: [{id: a, uses: test.noop}]\n", RuleInputDeclaration},
		{"name: x\nsteps: [{id: a, uses: test.secret}]\n", RuleStepInput},
		{"name: x\nsteps: [{id: a, uses: test.echo, with: {text: '${{ 1 + }}'}}]\n", RuleExprSyntax},
		{"name: x\nsteps: [{id: a, uses: test.echo, with: {text: '${{ inputs.nope }}'}}]\n", RuleExprName},
		{"name: x\nsteps: [{id: a, uses: test.echo, with: {count: '${{ \"x\" }}'}}]\n", RuleExprType},
	} {
		_, err := Load("wf.yaml", []byte(tc.src), catalog())
		var list Errors
		if !errors.As(err, &list) {
			t.Errorf("%q: got %v, want problems", tc.src, err)
			continue
		}
		found := false
		for _, e := range list {
			if !known[e.Rule] {
				t.Errorf("%q: %v has rule %q, not a known rule", tc.src, e, e.Rule)
			}
			found = found || e.Rule == tc.rule
		}
		if !found {
			t.Errorf("%q: no problem found by rule %s in %v", tc.src, tc.rule, list)
		}
	}
}
