package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Parsing: the first pass, from the file's bytes to a tree of YAML nodes, each with its line and
// column. It checks what YAML itself says (syntax, one document, a mapping at the top); what the
// keys mean is the loader's.

// parse decodes src, the workflow file named file, and returns its top-level mapping, or nil after
// adding to errs why there is none.
func parse(file string, src []byte, errs *Errors) *yaml.Node {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			errs.add(RuleRequiredKey, Pos{File: file, Line: 1, Col: 1}, "the file is empty: a workflow needs at least name and steps")
		} else {
			yamlError(file, src, err, errs)
		}
		return nil
	}
	secondDocument(file, src, dec, &doc, "a workflow file", errs)
	if !checkNodes(file, &doc, errs) {
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		errs.add(RuleValueType, nodePos(file, root), "a workflow is a mapping with keys %s; got %s", strings.Join(topKeys, ", "), kindName(root))
		return nil
	}
	return root
}

// secondDocument adds an error to errs when dec, which has decoded first, the first document of
// src, holds a second one, well-formed or not: a file of kind what holds one.
func secondDocument(file string, src []byte, dec *yaml.Decoder, first *yaml.Node, what string, errs *Errors) {
	var extra yaml.Node
	err := dec.Decode(&extra)
	switch {
	case err == nil:
		errs.add(RuleYAMLSyntax, nodePos(file, &extra), "%s holds one YAML document; this is a second one", what)
	case !errors.Is(err, io.EOF):
		msg := yamlMessagePrefix.ReplaceAllString(err.Error(), "")
		errs.add(RuleYAMLSyntax, documentMarker(file, src, first.Line), "%s holds one YAML document; a second one starts here, and does not parse: %s", what, msg)
	}
}

// documentMarker returns the position of the first document marker (--- or ...) at the start of a
// line after line after, or of the file's end when there is none.
func documentMarker(file string, src []byte, after int) Pos {
	for i, line := range bytes.Split(src, []byte("\n")) {
		if i+1 <= after || !(bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("..."))) {
			continue
		}
		if len(line) == 3 || strings.IndexByte(" \t\r", line[3]) >= 0 {
			return Pos{File: file, Line: i + 1, Col: 1}
		}
	}
	return bytePos(file, src, len(src))
}

// nodePos is where n was written in file.
func nodePos(file string, n *yaml.Node) Pos { return Pos{File: file, Line: n.Line, Col: n.Column} }

// nodeEnd is the position just past n's text when n is a scalar written on one line (plain or
// quoted, its value holding no escape); else the zero Pos.
func nodeEnd(file string, n *yaml.Node) Pos {
	if n.Kind != yaml.ScalarNode || n.Line == 0 || strings.ContainsAny(n.Value, "\n\\'\"") {
		return Pos{}
	}
	width := utf8.RuneCountInString(n.Value)
	switch n.Style {
	case 0:
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		width += 2
	default:
		return Pos{}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column + width}
}

// yamlError turns yaml.v3's error for src, the file named file, into a positioned error: the
// line and column are worked out from the file (see yamlpos.go), not taken from the message.
func yamlError(file string, src []byte, err error, errs *Errors) {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	p := locateYAMLError(src, msg)
	text := "YAML syntax: " + p.msg
	if p.hint != "" {
		text += "; " + p.hint
	}
	errs.add(RuleYAMLSyntax, bytePos(file, src, p.offset), "%s", text)
}

// kindName names what a node holds, for "expected X, got Y" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int":
			return "int " + n.Value
		case "!!float":
			return "float " + n.Value
		case "!!bool":
			return "bool " + n.Value
		}
		return fmt.Sprintf("string %q", n.Value)
	}
	return "nothing"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
