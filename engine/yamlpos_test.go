package engine

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// yamlSyntaxCases are files yaml.v3 refuses, each with where the problem is (line:col, the column in
// characters) and what the message must say. yaml.v3 alone names no column for any of them, and for
// most no line or the wrong one.
var yamlSyntaxCases = []struct {
	name, src, at, msg string
}{
	{"invalid UTF-8", "name: x\nsteps:\n  - id: a\n    uses: \xff\xfe\n", "4:11", "invalid leading UTF-8 octet; the file is not UTF-8 text"},
	{"invalid UTF-8 after multibyte", "name: é\xe9t\xe9\n", "1:8", "the file is not UTF-8 text"},
	{"truncated UTF-8 at the end", "name: x\ndescription: caf\xc3", "2:17", "UTF-8"},
	{"surrogate in UTF-8", "name: x\ndescription: \xed\xa0\x80\n", "2:14", "invalid Unicode character"},
	{"NUL", "name: x\nsteps: \x00\n", "2:8", "control characters are not allowed; a NUL byte"},
	{"control character", "name: x\nsteps: aé\x01b\n", "2:10", "character U+0001 is not allowed"},
	{"escape character", "name: x\ndescription: \x1b[31mred\n", "2:14", "U+001B"},
	{"DEL", "name: x\x7f\n", "1:8", "U+007F"},
	{"control character in a comment", "# \x07 bell\nname: x\n", "1:3", "U+0007"},
	{"unknown alias", "name: x\nsteps: *nope\n", "2:8", "unknown anchor 'nope' referenced; an alias (*name) refers to an anchor (&name) defined before it"},
	{"unknown alias in a flow list", "name: x\nsteps: [a, *nope]\n", "2:12", "unknown anchor 'nope'"},
	{"alias before its anchor", "name: x\ndescription: \"*later\"\nsteps: [*later, &later b]\n", "3:9", "unknown anchor 'later'"},
	{"bad escape", "name: x\ndescription: \"a\\qb\"\nsteps: []\n", "2:16", "found unknown escape character"},
	{"bad escape on the first line", "name: \"tab\\t ok, \\z not\"\n", "1:18", "found unknown escape character"},
	{"bad hex escape", "name: x\nsteps: \"\\x4\"\n", "2:9", "did not find expected hexdecimal number"},
	{"surrogate escape", "name: x\nsteps: \"é\\uD800\"\n", "2:10", "found invalid Unicode character escape code"},
	{"YAML 9.9", "%YAML 9.9\n---\nname: x\n", "1:1", "found incompatible YAML document; flow reads YAML 1.1"},
	{"YAML 1.2 after a comment", "# a workflow\n%YAML 1.2\n---\nname: x\n", "2:1", "found incompatible YAML document"},
	{"two YAML directives", "%YAML 1.1\n%YAML 1.1\n---\nname: x\n", "2:1", "found duplicate %YAML directive"},
	{"unknown directive", "%FOO bar\n---\nname: x\n", "1:1", "found unknown directive name"},
	{"unclosed double quote on the first line", "name: \"x\nsteps: []\nmore: 1\n", "1:7", "found unexpected end of stream; the quoted string opened here is not closed"},
	{"unclosed single quote", "name: x\nsteps: 'x\nsteps: []\nmore: 1\n", "2:8", "the quoted string opened here is not closed"},
	{"unclosed quote in a list", "name: x\nsteps:\n  - id: a\n    with: {argv: [sh, \"-c]}\n", "4:23", "the quoted string opened here is not closed"},
	{"unclosed flow mapping", "name: x\nsteps: {a: 1\nmore: 1\n", "2:8", "did not find expected ',' or '}'; the flow mapping opened here is not closed"},
	{"unclosed flow list", "name: x\nsteps: [a, b\nmore: 1\n", "2:8", "did not find expected ',' or ']'; the flow list opened here is not closed"},
	{"unclosed outer list", "name: x\nsteps: [a, [b, c]\nmore: 1\n", "2:8", "the flow list opened here is not closed"},
	{"mapping closed by a bracket", "a: [b, {c: d]\n", "1:8", "the flow mapping opened here is not closed"},
	{"unclosed after braces in a plain value", "a: echo ${x} [y]\nb: [1, {c: 2}\n", "2:4", "the flow list opened here is not closed"},
	{"unclosed after a quoted bracket", "a: \"[\"\nb: {c: '{'\n", "2:4", "the flow mapping opened here is not closed"},
	{"bad indentation", "name: x\n  steps: []\n", "2:8", "mapping values are not allowed in this context"},
	{"value after a value", "a: b: c\n", "1:5", "mapping values are not allowed in this context"},
	{"tab in indentation", "name: x\nsteps:\n\t- id: a\n", "3:1", "found character that cannot start any token; YAML indents with spaces, not tabs"},
	{"key indented less", "name: x\nsteps:\n  - id: a\n   uses: b\n", "4:4", "did not find expected '-' indicator"},
	{"key dedented out of a mapping", "a:\n  b: 1\n c: 2\n", "3:2", "did not find expected key"},
	{"extra closing bracket", "name: x\nsteps: [a]]\n", "2:11", "did not find expected key"},
	{"sequence entry as a value", "name: x\nname2: - a\n", "2:8", "block sequence entries are not allowed in this context"},
	{"reserved character", "key: @bad\n", "1:6", "found character that cannot start any token"},
	{"empty anchor", "a: &\n", "1:4", "did not find expected alphabetic or numeric character"},
	{"undefined tag handle", "a: !e!x 1\n", "1:7", "found undefined tag handle"},
	{"missing comma in a flow mapping", "name: x\nsteps:\n  - {id: b uses: exec}\n", "3:16", "did not find expected ',' or '}'"},
	{"missing comma in a flow list", "name: x\nsteps: [a, b: c d: e]\n", "2:18", "did not find expected ',' or ']'"},
}

// TestYAMLSyntaxPositions: every YAML syntax error is at the line and column of its problem, in the
// workflow loader and in the vars file reader.
func TestYAMLSyntaxPositions(t *testing.T) {
	for _, c := range yamlSyntaxCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("f.yaml", []byte(c.src), catalog())
			assertYAMLError(t, err, "f.yaml:"+c.at+": YAML syntax: ", c.msg)
			_, err = parseVars("v.yaml", []byte(c.src))
			assertYAMLError(t, err, "v.yaml:"+c.at+": YAML syntax: ", c.msg)
		})
	}
}

func assertYAMLError(t *testing.T, err error, prefix, msg string) {
	t.Helper()
	var list Errors
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("got %v (%T), want Errors", err, err)
	}
	got := list[0].Error()
	if !strings.HasPrefix(got, prefix) || !strings.Contains(got, msg) || list[0].Rule != RuleYAMLSyntax {
		t.Errorf("got  %s\nwant %s...%s", got, prefix, msg)
	}
}

// TestYAMLSyntaxPositionLargeFile: the problem is found at the end of a file of many lines, and in
// the middle of a long line.
func TestYAMLSyntaxPositionLargeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: big\nsteps:\n")
	for range 20000 {
		b.WriteString("  - {id: s, uses: exec, with: {argv: [\"true\"]}}\n")
	}
	b.WriteString("  - {id: last, uses: exec, with: {argv: [\"a\\q\"]}}\n")
	_, err := Load("f.yaml", []byte(b.String()), catalog())
	assertYAMLError(t, err, "f.yaml:20003:44: ", "found unknown escape character")

	long := "name: x\ndescription: [" + strings.Repeat("a, ", 50000) + "*nope]\n"
	_, err = Load("f.yaml", []byte(long), catalog())
	assertYAMLError(t, err, "f.yaml:2:150015: ", "unknown anchor 'nope'")
}

// TestYAMLSyntaxPositionsShift: the position does not depend on what comes before the problem:
// comment lines of any length put before the file move it down by as many lines.
func TestYAMLSyntaxPositionsShift(t *testing.T) {
	for _, c := range yamlSyntaxCases {
		if strings.HasPrefix(c.src, "%") || strings.HasPrefix(c.name, "control character in a comment") {
			continue // a directive is at the top; a comment before it moves it anyway
		}
		line, col, _ := strings.Cut(c.at, ":")
		n, _ := strconv.Atoi(line)
		for _, head := range []string{"#\n", "# " + strings.Repeat("x", 37) + "\n", strings.Repeat("# "+strings.Repeat("y", 150)+"\n", 3)} {
			shift := strings.Count(head, "\n")
			_, err := Load("f.yaml", []byte(head+c.src), catalog())
			t.Run(c.name, func(t *testing.T) {
				assertYAMLError(t, err, "f.yaml:"+strconv.Itoa(n+shift)+":"+col+": YAML syntax: ", c.msg)
			})
		}
	}
}

// TestSecondDocument: a second document is refused in a workflow and in a vars file, whether it
// parses or not (one that does not was ignored, its syntax error unseen).
func TestSecondDocument(t *testing.T) {
	for _, c := range []struct{ src, at, msg string }{
		{"name: x\nsteps: [{id: a, uses: test.echo}]\n---\nname: y\n", "3:1", "holds one YAML document; this is a second one"},
		{"name: x\nsteps: [{id: a, uses: test.echo}]\n---\n{bad: \"y\n", "3:1", "holds one YAML document; a second one starts here, and does not parse: found unexpected end of stream"},
		{"name: x\nsteps: [{id: a, uses: test.echo}]\n...\n%YAML 9.9\n---\nx\n", "3:1", "a second one starts here, and does not parse: found incompatible YAML document"},
	} {
		_, err := Load("f.yaml", []byte(c.src), catalog())
		assertYAMLError(t, err, "f.yaml:"+c.at+": a workflow file ", c.msg)
		_, err = parseVars("v.yaml", []byte(c.src))
		assertYAMLError(t, err, "v.yaml:"+c.at+": a vars file ", c.msg)
	}
}
