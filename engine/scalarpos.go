package engine

import (
	"bytes"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Positions inside scalars: where a rune of a scalar's value was written in the file, so an error
// in an expression points at its token. These are functions of the file's text and the node; the
// work is done on the first call, and each costs the length of the scalar, not of its line or of
// the file, so a file of many scalars on one long line is still checked in linear time.

// source is a file's text split into lines, each decoded to runes once, when first needed. It is
// safe for concurrent use: a run reports positions from concurrent steps.
type source struct {
	file  string
	lines [][]byte
	mu    sync.Mutex
	runes map[int][]rune // line index -> its runes
}

func newSource(file string, src []byte) *source {
	return &source{file: file, lines: bytes.Split(src, []byte("\n")), runes: map[int][]rune{}}
}

// line returns line i (0-based) as runes.
func (s *source) line(i int) []rune {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runes[i]
	if !ok {
		r = []rune(string(s.lines[i]))
		s.runes[i] = r
	}
	return r
}

// scalarPos returns a function from a rune offset in n.Value to its position in the file, worked
// out on the first call.
func (s *source) scalarPos(n *yaml.Node) func(int) Pos {
	pos := sync.OnceValue(func() func(int) Pos { return scalarPos(s, n) })
	return func(off int) Pos { return pos()(off) }
}

// scalarPos returns a function from a rune offset in n.Value to its position in the file: exact for
// plain and quoted scalars on one line and for literal blocks; the scalar's start otherwise.
func scalarPos(src *source, n *yaml.Node) func(int) Pos {
	start := Pos{File: src.file, Line: n.Line, Col: n.Column}
	switch {
	case n.Line < 1 || n.Line > len(src.lines):
		return func(int) Pos { return start }
	case n.Style == yaml.LiteralStyle:
		return literalBlockPos(src, n)
	case n.Style == yaml.FoldedStyle, strings.Contains(n.Value, "\n"):
		return foldedPos(src, n, start)
	}
	return oneLinePos(src, n, start)
}

// literalBlockPos maps offsets in a literal block (|): its content starts on the next line,
// indented like its first non-empty line, and keeps its line breaks.
func literalBlockPos(src *source, n *yaml.Node) func(int) Pos {
	indent := 0
	for i := n.Line; i < len(src.lines); i++ {
		s := string(src.lines[i])
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
		return Pos{File: src.file, Line: line, Col: col}
	}
}

// oneLinePos maps offsets in a plain or quoted scalar written on one line, counting the escapes
// and doubled quotes that take more columns than the rune they stand for. A scalar that turns out
// to continue on the next lines is handed to foldedPos.
func oneLinePos(src *source, n *yaml.Node, start Pos) func(int) Pos {
	raw := src.line(n.Line - 1)
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
		closed = len(raw) >= len(value) && string(raw[:len(value)]) == n.Value
	}
	// A scalar folded from several source lines has no newline in its value: check that it ends
	// on this line where the mapping says, else find its expressions in the source.
	if !closed {
		return foldedPos(src, n, start)
	}
	cols[len(value)] = end
	return func(off int) Pos {
		off = min(max(off, 0), len(value))
		return Pos{File: src.file, Line: n.Line, Col: n.Column + cols[off]}
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
func foldedPos(src *source, n *yaml.Node, start Pos) func(int) Pos {
	value := []rune(n.Value)
	open := []rune("${{")
	return func(off int) Pos {
		off = min(max(off, 0), len(value))
		at := lastIndex(value[:off], open)
		if at < 0 {
			return start
		}
		k := countSubstrings(value[:at], open)
		// Find the k-th ${{ from the scalar's start, line by line.
		for i := n.Line - 1; i < len(src.lines); i++ {
			line, col0 := src.line(i), 0
			if i == n.Line-1 {
				col0 = min(n.Column-1, len(line))
			}
			for j := col0; j+len(open) <= len(line); j++ {
				if string(line[j:j+len(open)]) != string(open) {
					continue
				}
				if k > 0 {
					k--
					j += len(open) - 1
					continue
				}
				// The expression sits on this line: off-at runes past its ${{.
				return Pos{File: src.file, Line: i + 1, Col: j + 1 + off - at}
			}
		}
		return start
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

// offsetPos returns the position function of an expression that starts offset runes into a scalar.
func offsetPos(scalar func(int) Pos, offset int) func(int) Pos {
	return func(i int) Pos { return scalar(offset + i) }
}

// commentHint explains the usual cause of an unterminated plain scalar: YAML took the rest of
// the line, from " #", as a comment.
func commentHint(src *source, n *yaml.Node) string {
	if n.Style != 0 {
		return ""
	}
	if n.Line >= 1 && n.Line <= len(src.lines) && bytes.Contains(src.lines[n.Line-1], []byte(" #")) {
		return " (a # after a space starts a YAML comment: quote the whole value)"
	}
	return ""
}
