package engine

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Positions inside scalars: where a rune of a scalar's value was written in the file, so an error
// in an expression points at its token. These are pure functions of the file's lines and the node.

// scalarPos returns a function from a rune offset in n.Value to its position in the file: exact for
// plain and quoted scalars on one line and for literal blocks; the scalar's start otherwise.
func scalarPos(file string, lines [][]byte, n *yaml.Node) func(int) Pos {
	start := Pos{File: file, Line: n.Line, Col: n.Column}
	switch {
	case n.Line < 1 || n.Line > len(lines):
		return func(int) Pos { return start }
	case n.Style == yaml.LiteralStyle:
		return literalBlockPos(file, lines, n)
	case n.Style == yaml.FoldedStyle, strings.Contains(n.Value, "\n"):
		return foldedPos(file, lines, n, start)
	}
	return oneLinePos(file, lines, n, start)
}

// literalBlockPos maps offsets in a literal block (|): its content starts on the next line,
// indented like its first non-empty line, and keeps its line breaks.
func literalBlockPos(file string, lines [][]byte, n *yaml.Node) func(int) Pos {
	indent := 0
	for i := n.Line; i < len(lines); i++ {
		s := string(lines[i])
		if strings.TrimSpace(s) != "" {
			indent = len(s) - len(strings.TrimLeft(s, " "))
			break
		}
	}
	value := []rune(n.Value)
	return func(off int) Pos {
		line, col := n.Line+1, indent+1
		for i := 0; i < off && i < len(value); i++ {
			if value[i] == '\n' {
				line, col = line+1, indent+1
			} else {
				col++
			}
		}
		return Pos{File: file, Line: line, Col: col}
	}
}

// oneLinePos maps offsets in a plain or quoted scalar written on one line, counting the escapes
// and doubled quotes that take more columns than the rune they stand for. A scalar that turns out
// to continue on the next lines is handed to foldedPos.
func oneLinePos(file string, lines [][]byte, n *yaml.Node, start Pos) func(int) Pos {
	raw := []rune(string(lines[n.Line-1]))
	if n.Column-1 > len(raw) {
		return func(int) Pos { return start }
	}
	raw = raw[n.Column-1:]
	value := []rune(n.Value)
	var cols []int // cols[i] is the column of value rune i, from the scalar's start
	var end int    // the column just past the value
	var closed bool
	switch n.Style {
	case yaml.SingleQuotedStyle:
		cols, end = singleQuotedCols(value)
		closed = end < len(raw) && raw[end] == '\''
	case yaml.DoubleQuotedStyle:
		cols, end = doubleQuotedCols(value, raw)
		closed = end < len(raw) && raw[end] == '"'
	default:
		cols, end = plainCols(value)
		closed = strings.HasPrefix(string(raw), n.Value)
	}
	// A scalar folded from several source lines has no newline in its value: check that it ends
	// on this line where the mapping says, else find its expressions in the source.
	if !closed {
		return foldedPos(file, lines, n, start)
	}
	cols[len(value)] = end
	return func(off int) Pos {
		off = min(max(off, 0), len(value))
		return Pos{File: file, Line: n.Line, Col: n.Column + cols[off]}
	}
}

// plainCols: each rune of a plain scalar takes one column.
func plainCols(value []rune) (cols []int, end int) {
	cols = make([]int, len(value)+1)
	for i := range value {
		cols[i] = i
	}
	return cols, len(value)
}

// singleQuotedCols: after the opening quote, each rune takes one column, a quote two (written twice).
func singleQuotedCols(value []rune) (cols []int, end int) {
	cols = make([]int, len(value)+1)
	r := 1
	for i, c := range value {
		cols[i] = r
		if c == '\'' {
			r += 2
		} else {
			r++
		}
	}
	return cols, r
}

// doubleQuotedCols: after the opening quote, each rune takes one column, or as many as the escape
// written for it in raw (\n two, \x41 four, \u00e9 six, \U0001F600 ten).
func doubleQuotedCols(value, raw []rune) (cols []int, end int) {
	cols = make([]int, len(value)+1)
	r := 1
	for i := range value {
		cols[i] = r
		if r < len(raw) && raw[r] == '\\' && r+1 < len(raw) {
			switch raw[r+1] {
			case 'x':
				r += 4
			case 'u':
				r += 6
			case 'U':
				r += 10
			default:
				r += 2
			}
		} else {
			r++
		}
	}
	return cols, r
}

// foldedPos maps offsets in a scalar folded from several lines: an offset inside the k-th
// `${{` of the value is placed that far past the k-th `${{` of the source from the scalar's
// start, exact while the expression itself sits on one line without escapes.
func foldedPos(file string, lines [][]byte, n *yaml.Node, start Pos) func(int) Pos {
	value := []rune(n.Value)
	var src []rune // the source from the scalar's start to the end of the file
	for i := n.Line - 1; i < len(lines); i++ {
		line := []rune(string(lines[i]))
		if i == n.Line-1 {
			line = line[min(n.Column-1, len(line)):]
		}
		src = append(append(src, line...), '\n')
	}
	open := []rune("${{")
	return func(off int) Pos {
		off = min(max(off, 0), len(value))
		at := lastIndex(value[:off], open)
		if at < 0 {
			return start
		}
		k := countSubstrings(value[:at], open)
		srcAt := nthIndex(src, open, k)
		if srcAt < 0 {
			return start
		}
		line, col := n.Line, n.Column
		for _, c := range src[:srcAt+off-at] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return Pos{File: file, Line: line, Col: col}
	}
}

// lastIndex returns the index of the last sub in s, or -1.
func lastIndex(s, sub []rune) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if string(s[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}

// countSubstrings counts the non-overlapping occurrences of sub in s.
func countSubstrings(s, sub []rune) int {
	n := 0
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == string(sub) {
			n++
			i += len(sub) - 1
		}
	}
	return n
}

// nthIndex returns the index of the k-th (from 0) non-overlapping occurrence of sub in s, or -1.
func nthIndex(s, sub []rune, k int) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == string(sub) {
			if k == 0 {
				return i
			}
			k--
			i += len(sub) - 1
		}
	}
	return -1
}

// offsetPos returns the position function of an expression that starts offset runes into a scalar.
func offsetPos(scalar func(int) Pos, offset int) func(int) Pos {
	return func(i int) Pos { return scalar(offset + i) }
}

// commentHint explains the usual cause of an unterminated plain scalar: YAML took the rest of
// the line, from " #", as a comment.
func commentHint(lines [][]byte, n *yaml.Node) string {
	if n.Style != 0 {
		return ""
	}
	if n.Line >= 1 && n.Line <= len(lines) && bytes.Contains(lines[n.Line-1], []byte(" #")) {
		return " (a # after a space starts a YAML comment: quote the whole value)"
	}
	return ""
}
