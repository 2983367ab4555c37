package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Positions of YAML syntax errors. yaml.v3 names a line in some of its messages and none in
// others, and the line it names is often not the problem's: the line before it for a parser
// error, the end of the file for a string left open on the first line, the line where an
// enclosing mapping began. It never names a column. So the position is worked out here, from the
// file's bytes and from yaml.v3 itself:
//
//   - a reader error (invalid UTF-8, a control character) is at the first byte the YAML reader
//     refuses, found by the same left-to-right check the reader makes;
//   - every other error is at the end of the shortest prefix of the file that yaml.v3 refuses with
//     the same message: the parser reads left to right, so the character that completes that
//     prefix is the one it could not accept (the opening quote of a string never closed, the tab in
//     an indentation, the second ':' of "a: b: c", the end of an alias to no anchor);
//   - then the position is moved to the start of the token it is about: the backslash of a bad
//     escape, the '*' of an alias, the '%' of a directive, the bracket that opens a flow
//     collection never closed.
//
// The search decodes a handful of prefixes (see failingChar), and runs only for a file that failed
// to parse: a 1 MiB file with a problem on its last line is placed in about a second on 2 cores
// (BenchmarkYAMLErrorPosition).

// yamlMessagePrefix is what yaml.v3 puts before its messages: "yaml: " and sometimes a line.
var yamlMessagePrefix = regexp.MustCompile(`^yaml: (line \d+: )?`)

// yamlProblem is one syntax error yaml.v3 found in a file, with the offset it is at.
type yamlProblem struct {
	msg    string // yaml.v3's message, without "yaml: " and its line
	offset int    // byte offset in the file of the character the problem is at
	hint   string // what the problem usually means, or ""
}

// decodeYAMLError returns the message yaml.v3 gives for src, without its prefix and line, or ""
// when src decodes.
func decodeYAMLError(src []byte) string {
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc)
	if err == nil {
		return ""
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return yamlMessagePrefix.ReplaceAllString(te.Errors[0], "")
	}
	return yamlMessagePrefix.ReplaceAllString(err.Error(), "")
}

// locateYAMLError places message, the error yaml.v3 gave for src, at the character it is about.
func locateYAMLError(src []byte, message string) yamlProblem {
	msg := yamlMessagePrefix.ReplaceAllString(message, "")
	if isReaderError(msg) {
		if off, ok := firstUnreadable(src); ok {
			return yamlProblem{msg: msg, offset: off, hint: readerHint(src, off)}
		}
	}
	p := yamlProblem{msg: msg}
	switch {
	case msg == "found incompatible YAML document":
		p.offset = directiveLine(src, func(line []byte) bool {
			return bytes.HasPrefix(line, []byte("%YAML")) && string(bytes.Fields(line)[1]) != "1.1"
		}, 1)
		p.hint = "flow reads YAML 1.1: write %YAML 1.1 or no %YAML directive"
		return p
	case msg == "found duplicate %YAML directive":
		p.offset = directiveLine(src, func(line []byte) bool { return bytes.HasPrefix(line, []byte("%YAML")) }, 2)
		return p
	case strings.Contains(msg, "directive"):
		p.offset = directiveLine(src, func(line []byte) bool { return true }, 1)
		return p
	case strings.HasPrefix(msg, "unknown anchor "):
		// The alias is the last one with that name yaml.v3 read before it stopped.
		name := strings.TrimSuffix(strings.TrimPrefix(msg, "unknown anchor '"), "' referenced")
		p.offset = lastAlias(src[:readBeforeError(src)], name)
		p.hint = "an alias (*name) refers to an anchor (&name) defined before it in the file"
		return p
	case msg == "found unexpected end of stream":
		if i, ok := unclosed(src, '"'); ok {
			p.offset, p.hint = i, "the quoted string opened here is not closed"
			return p
		}
	case msg == "did not find expected ',' or '}'":
		if i, ok := unclosed(src, '{'); ok {
			p.offset, p.hint = i, "the flow mapping opened here is not closed"
			return p
		}
	case msg == "did not find expected ',' or ']'":
		if i, ok := unclosed(src, '['); ok {
			p.offset, p.hint = i, "the flow list opened here is not closed"
			return p
		}
	}
	fails := func(prefix []byte) bool { return decodeYAMLError(prefix) == msg }
	if strings.HasPrefix(msg, "did not find expected ',' or ") {
		// Every cut inside a flow collection leaves it open, which fails the same way: the
		// prefix is closed before it is decoded, so only the problem inside it fails.
		fails = func(prefix []byte) bool { return decodeYAMLError(closeFlows(prefix)) == msg }
	}
	p.offset = failingChar(src, readBeforeError(src), fails)
	if p.offset > 0 && src[p.offset] == ' ' && src[p.offset-1] == ':' {
		p.offset-- // a colon is a mapping's only once the space after it is read
	}
	switch {
	case strings.Contains(msg, "escape") || msg == "did not find expected hexdecimal number":
		// The prefix ends inside the escape: its backslash is the last one before.
		if i := bytes.LastIndexByte(src[:p.offset+1], '\\'); i >= 0 {
			p.offset = i
		}
	case msg == "found character that cannot start any token" && src[p.offset] == '\t':
		p.hint = "YAML indents with spaces, not tabs"
	}
	return p
}

// isReaderError says msg is one of the YAML reader's, about the bytes rather than the syntax.
func isReaderError(msg string) bool {
	return strings.Contains(msg, "UTF-8") || msg == "invalid Unicode character" || msg == "control characters are not allowed"
}

// firstUnreadable returns the offset of the first byte the YAML reader refuses in a UTF-8 file:
// invalid UTF-8, or a character YAML does not allow in a document (the C0 and C1 controls but
// tab, line feed, carriage return and next line; a surrogate; U+FFFE and U+FFFF). A file in UTF-16
// (it starts with a UTF-16 byte order mark) is not looked at.
func firstUnreadable(src []byte) (int, bool) {
	if bytes.HasPrefix(src, []byte{0xFF, 0xFE}) || bytes.HasPrefix(src, []byte{0xFE, 0xFF}) {
		return 0, false
	}
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 || !yamlPrintable(r) {
			return i, true
		}
		i += size
	}
	return 0, false
}

// yamlPrintable is the set of characters YAML 1.1 allows in a stream.
func yamlPrintable(r rune) bool {
	switch {
	case r == 0x09, r == 0x0A, r == 0x0D, r >= 0x20 && r <= 0x7E, r == 0x85,
		r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// readerHint says what the refused byte at off is.
func readerHint(src []byte, off int) string {
	r, size := utf8.DecodeRune(src[off:])
	switch {
	case r == utf8.RuneError && size <= 1:
		return "the file is not UTF-8 text"
	case r == 0:
		return "a NUL byte: the file is not text"
	}
	return fmt.Sprintf("character %U is not allowed in YAML", r)
}

// readBeforeError returns how many bytes of src yaml.v3 reads before it stops at its error, when
// given one byte at a time: the problem is at most a few characters before that (the parser looks
// ahead no further than a token), unless it is one that is found only at the end of the file.
func readBeforeError(src []byte) int {
	r := &byteReader{src: src}
	var doc yaml.Node
	_ = yaml.NewDecoder(r).Decode(&doc)
	return r.n
}

// byteReader reads src one byte a call.
type byteReader struct {
	src []byte
	n   int
}

func (r *byteReader) Read(p []byte) (int, error) {
	if r.n >= len(r.src) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.src[r.n]
	r.n++
	return 1, nil
}

// failingChar returns the offset of the last character of the shortest prefix of src that fails
// (that yaml.v3 refuses with the file's message: it reads left to right, so a prefix that holds
// the problem fails the same way). That prefix ends at most at upto, and usually a few characters
// before: it is searched for by bisection in a window before upto of 4 characters, widened 4
// times over until the window's start does not fail. For a problem on a line of ordinary length,
// that is about four decodes of the file, however large it is. Prefixes end on character
// boundaries, so a cut never makes an encoding error of its own.
func failingChar(src []byte, upto int, fails func(prefix []byte) bool) int {
	hi := len(src) // src[:hi] fails; src[:lo] does not
	if upto < hi && fails(src[:upto]) {
		hi = upto
	}
	lo := 0
	for w := 4; w < hi; w *= 4 {
		if !fails(src[:runeStartBefore(src, hi-w)]) {
			lo = runeStartBefore(src, hi-w)
			break
		}
	}
	for hi-lo > 1 {
		mid := runeStartBefore(src, lo+(hi-lo)/2)
		if mid <= lo {
			mid = lo + (hi-lo)/2
			for mid < hi && !utf8.RuneStart(src[mid]) {
				mid++
			}
		}
		if mid >= hi {
			break
		}
		if fails(src[:mid]) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return runeStartBefore(src, max(hi-1, 0))
}

// runeStartBefore returns the offset of the character that holds byte i.
func runeStartBefore(src []byte, i int) int {
	for i > 0 && i < len(src) && !utf8.RuneStart(src[i]) {
		i--
	}
	return i
}

// lastAlias returns the offset of the last alias *name in src, or 0.
func lastAlias(src []byte, name string) int {
	for end := len(src); end > 0; {
		i := bytes.LastIndex(src[:end], []byte("*"+name))
		if i < 0 {
			break
		}
		after := i + 1 + len(name)
		if after == len(src) || strings.IndexByte(" \t\r\n,[]{}", src[after]) >= 0 {
			return i
		}
		end = i
	}
	return 0
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(src []byte, off int) int {
	return bytes.LastIndexByte(src[:off], '\n') + 1
}

// directiveLine returns the offset of the nth directive line (from the file's start to its first
// document marker) that match accepts, or 0.
func directiveLine(src []byte, match func([]byte) bool, nth int) int {
	start := 0
	for start < len(src) {
		end := bytes.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src) - start
		}
		line := bytes.TrimRight(src[start:start+end], "\r")
		if bytes.HasPrefix(line, []byte("---")) {
			break
		}
		if bytes.HasPrefix(line, []byte("%")) && len(bytes.Fields(line)) >= 2 && match(line) {
			if nth--; nth == 0 {
				return start
			}
		}
		start += end + 1
	}
	return 0
}

// unclosed returns the offset of what src opens and never closes: for open '"', the first quoted
// string (single or double) with no closing quote; for '{' or '[', the innermost flow collection
// of that kind not closed where its closing bracket is due (at a bracket of the other kind, or at
// the end of the file). It reads a YAML file as its scanner does, as far as quotes and brackets go:
// a quote or a bracket opens something at the start of a value only; comments and block scalars
// (| and >) hide them, and in a block a plain value may hold both ("echo ${x} it's").
func unclosed(src []byte, open byte) (int, bool) {
	i, ok, _ := scanFlow(src, open)
	return i, ok
}

// closeFlows returns prefix followed by the brackets that close the flow collections still open
// at its end, innermost first.
func closeFlows(prefix []byte) []byte {
	_, _, stack := scanFlow(prefix, 0)
	out := append([]byte(nil), prefix...)
	for j := len(stack) - 1; j >= 0; j-- {
		out = append(out, map[byte]byte{'{': '}', '[': ']'}[prefix[stack[j]]])
	}
	return out
}

// scanFlow is unclosed, returning too the offsets of the flow collections open at the end of src.
func scanFlow(src []byte, open byte) (int, bool, []int) {
	var stack []int // offsets of the open brackets
	closer := map[byte]byte{'{': '}', '[': ']'}
	valueStart := true     // at the start of a value: a quote or a bracket here opens one
	indent, block := 0, -1 // the line's indentation; inside a block scalar, the indentation of its parent
	for i := 0; i < len(src); i++ {
		c := src[i]
		if i == 0 || src[i-1] == '\n' {
			indent = 0
			for i+indent < len(src) && src[i+indent] == ' ' {
				indent++
			}
			if block >= 0 && (indent > block || i+indent == len(src) || strings.IndexByte("\r\n", src[i+indent]) >= 0) {
				j := bytes.IndexByte(src[i:], '\n')
				if j < 0 {
					break
				}
				i += j // the line feed; the next line is looked at next
				continue
			}
			block = -1
		}
		switch {
		case c == '\n':
			valueStart = true
			continue
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == '#' && (i == 0 || strings.IndexByte(" \t\n", src[i-1]) >= 0):
			i = lineEnd(src, i)
			continue
		case (c == '"' || c == '\'') && valueStart:
			end, ok := quotedEnd(src, i)
			if !ok && open == '"' {
				return i, true, stack
			}
			i, valueStart = end, false
			continue
		case (c == '|' || c == '>') && valueStart && len(stack) == 0:
			block = indent
			i = lineEnd(src, i)
			continue
		case (c == '{' || c == '[') && (valueStart || len(stack) > 0):
			stack = append(stack, i)
			valueStart = true
			continue
		case (c == '}' || c == ']') && len(stack) > 0:
			top := stack[len(stack)-1]
			if closer[src[top]] != c {
				return top, src[top] == open, stack
			}
			stack = stack[:len(stack)-1]
			valueStart = false
			continue
		case c == ',' && len(stack) > 0:
			valueStart = true
			continue
		case (c == ':' || c == '-' || c == '?') && (i+1 == len(src) || strings.IndexByte(" \t\r\n", src[i+1]) >= 0 ||
			len(stack) > 0 && c == ':'):
			valueStart = true
			continue
		}
		// A plain scalar: to the end of the line in a block, to a flow indicator in a collection.
		for i+1 < len(src) && src[i+1] != '\n' {
			n := src[i+1]
			if len(stack) > 0 && strings.IndexByte(",[]{}", n) >= 0 ||
				n == ':' && (i+2 == len(src) || strings.IndexByte(" \t\r\n,[]{}", src[i+2]) >= 0) ||
				n == '#' && (src[i] == ' ' || src[i] == '\t') {
				break
			}
			i++
		}
		valueStart = false
	}
	for j := len(stack) - 1; j >= 0; j-- {
		if src[stack[j]] == open {
			return stack[j], true, stack
		}
	}
	return 0, false, stack
}

// lineEnd returns the offset of the last byte of the line holding i, before its line feed.
func lineEnd(src []byte, i int) int {
	if j := bytes.IndexByte(src[i:], '\n'); j >= 0 {
		return i + j - 1
	}
	return len(src) - 1
}

// quotedEnd returns the offset of the quote that closes the string opened at i, and false when it
// is not closed.
func quotedEnd(src []byte, i int) (int, bool) {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch {
		case q == '"' && src[j] == '\\':
			j++
		case src[j] == q && q == '\'' && j+1 < len(src) && src[j+1] == '\'':
			j++
		case src[j] == q:
			return j, true
		}
	}
	return len(src) - 1, false
}

// bytePos is the position of byte offset off in src, the file named file: its line, and its
// column in characters (a byte that is not UTF-8 counts as one).
func bytePos(file string, src []byte, off int) Pos {
	off = min(max(off, 0), len(src))
	start := lineStart(src, off)
	return Pos{File: file, Line: bytes.Count(src[:start], []byte("\n")) + 1, Col: utf8.RuneCount(src[start:off]) + 1}
}
