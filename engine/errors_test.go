package engine

import (
	"bytes"
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
