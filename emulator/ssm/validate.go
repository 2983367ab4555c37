package ssm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// The API model's constraints on each operation's input, as botocore's model
// (data/ssm/2014-11-06/service-2.json) states them, with the two AWS enforces beyond it (a
// value of 1 to 32,768 characters). AWS's service framework checks every request against them
// before the operation runs and answers every violation at once:
//
//	2 validation errors detected: Value 'Bogus' at 'type' failed to satisfy constraint: Member
//	must satisfy enum value set: [SecureString, StringList, String]; Value null at 'value' ...
//
// validate does the same from this table; the operations check only what the model cannot say.

// kind is the type of a value in the model.
type kind int

const (
	kindString kind = iota
	kindInteger
	kindBoolean
	kindList
	kindStructure
)

// unbounded is a bound the model does not give.
const unbounded = -1

// shape is what the model says of one value: its kind and constraints. A string's and a list's
// bounds are on its length (a string's in UTF-16 units, as the framework counts), an integer's on
// its value.
type shape struct {
	kind      kind
	min, max  int                   // unbounded when the model gives none
	pattern   string                // a string's regular expression as the model writes it; it must match whole
	re        func() *regexp.Regexp // pattern compiled, on first use: a boot that never serves SSM never compiles it
	enum      []string              // a string's values, in the order AWS's message lists them
	sensitive bool                  // never echoed: "Value at 'value'"
	member    *shape                // a list's members
	fields    []field               // a structure's members, in the model's order
}

// field is one member of a structure.
type field struct {
	name     string // as the JSON body spells it: Name, ParameterFilters
	shape    *shape
	required bool
}

func stringShape(min, max int, pattern string) *shape {
	s := &shape{kind: kindString, min: min, max: max, pattern: pattern}
	if pattern != "" {
		s.re = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:` + pattern + `)$`) })
	}
	return s
}

func enumShape(values ...string) *shape {
	return &shape{kind: kindString, min: unbounded, max: unbounded, enum: values}
}

func integerShape(min, max int) *shape { return &shape{kind: kindInteger, min: min, max: max} }

func listShape(min, max int, member *shape) *shape {
	return &shape{kind: kindList, min: min, max: max, member: member}
}

func structureShape(fields ...field) *shape {
	return &shape{kind: kindStructure, min: unbounded, max: unbounded, fields: fields}
}

func optional(name string, s *shape) field { return field{name: name, shape: s} }
func required(name string, s *shape) field { return field{name: name, shape: s, required: true} }

var (
	boolean           = &shape{kind: kindBoolean, min: unbounded, max: unbounded}
	anyString         = stringShape(unbounded, unbounded, "")
	psName            = stringShape(1, maxModelNameLength, "")
	nameList          = listShape(1, 10, psName)
	stringFilterShape = structureShape(
		required("Key", stringShape(1, 132, `tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType`)),
		optional("Option", stringShape(1, 10, "")),
		optional("Values", listShape(1, 50, stringShape(1, 1024, ""))),
	)
	stringFilters = listShape(unbounded, unbounded, stringFilterShape)
)

// inputs is the model's input shape of every operation of the dispatch table (see operations).
var inputs = map[string]*shape{
	"PutParameter": structureShape(
		required("Name", psName),
		optional("Description", stringShape(0, 1024, "")),
		// The model gives the value no bounds; AWS answers an empty one, and one over 32,768
		// characters, as the framework does.
		required("Value", &shape{kind: kindString, min: 1, max: 32768, sensitive: true}),
		optional("Type", enumShape(typeEnum()...)),
		optional("KeyId", stringShape(1, 256, `^([a-zA-Z0-9:/_-]+)$`)),
		optional("Overwrite", boolean),
		optional("AllowedPattern", stringShape(0, 1024, "")),
		optional("Tags", listShape(unbounded, maxTagList, structureShape(
			required("Key", stringShape(1, maxTagKey, tagPattern)),
			required("Value", stringShape(0, maxTagValue, tagPattern)),
		))),
		optional("Tier", enumShape(tierEnum()...)),
		optional("Policies", stringShape(1, 4096, "")),
		optional("DataType", stringShape(0, 128, "")),
	),
	"GetParameter": structureShape(
		required("Name", psName),
		optional("WithDecryption", boolean),
	),
	"GetParameters": structureShape(
		required("Names", nameList),
		optional("WithDecryption", boolean),
	),
	"GetParametersByPath": structureShape(
		required("Path", psName),
		optional("Recursive", boolean),
		optional("ParameterFilters", stringFilters),
		optional("WithDecryption", boolean),
		optional("MaxResults", integerShape(1, 10)),
		optional("NextToken", anyString),
	),
	"DeleteParameter": structureShape(
		required("Name", psName),
	),
	"DeleteParameters": structureShape(
		required("Names", nameList),
	),
	"DescribeParameters": structureShape(
		optional("Filters", listShape(unbounded, unbounded, structureShape(
			required("Key", enumShape("Name", "Type", "KeyId")),
			required("Values", listShape(1, 50, stringShape(1, 1024, ""))),
		))),
		optional("ParameterFilters", stringFilters),
		optional("MaxResults", integerShape(1, 50)),
		optional("NextToken", anyString),
		optional("Shared", boolean),
	),
}

// violation is one constraint a value of the request fails, as the framework words it.
type violation struct {
	value      string // as the message shows it: 'x', '[a, b]', null; "" for none (sensitive)
	path       string // names.1.member.key
	constraint string // Member must not be null
}

func (v violation) String() string {
	value := v.value
	if value != "" {
		value += " "
	}
	return fmt.Sprintf("Value %sat '%s' failed to satisfy constraint: %s", value, v.path, v.constraint)
}

// violations is what validate found, in the model's order of the members.
type violations []violation

// err is the ValidationException that answers vs, or nil when there are none: "1 validation
// error detected: ..." or "N validation errors detected: a; b".
func (vs violations) err() *wire.Error {
	if len(vs) == 0 {
		return nil
	}
	clauses := make([]string, len(vs))
	for i, v := range vs {
		clauses[i] = v.String()
	}
	noun := "errors"
	if len(vs) == 1 {
		noun = "error"
	}
	return newError(codeValidation, "%d validation %s detected: %s", len(vs), noun, strings.Join(clauses, "; "))
}

// validationError is the framework's message for a request that breaks one constraint, e.g.
// `1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member
// must have value less than or equal to 10`.
func validationError(value, path, constraint string) *wire.Error {
	return violations{{value: value, path: path, constraint: constraint}}.err()
}

// validate checks the JSON body of the operation op against its input shape and returns the
// ValidationException that lists every violation, or nil. A body that is not of the shape's
// types is left to decode (SerializationException).
func validate(op string, body []byte) *wire.Error {
	in := inputs[op]
	if in == nil {
		return nil
	}
	var v any = map[string]any{}
	if body = bytes.TrimSpace(body); len(body) > 0 && json.Unmarshal(body, &v) != nil {
		return nil
	}
	var vs violations
	in.check(v, "", &vs)
	return vs.err()
}

// check appends to vs every constraint of s that v, the value at path, fails: its own, then its
// members' in the model's order.
func (s *shape) check(v any, path string, vs *violations) {
	switch s.kind {
	case kindStructure:
		m, _ := v.(map[string]any)
		for _, f := range s.fields {
			p := lowerFirst(f.name)
			if path != "" {
				p = path + "." + p
			}
			fv, ok := m[f.name]
			if !ok || fv == nil {
				if f.required {
					*vs = append(*vs, violation{value: f.shape.show(nil), path: p, constraint: "Member must not be null"})
				}
				continue
			}
			f.shape.check(fv, p, vs)
		}
	case kindList:
		list, ok := v.([]any)
		if !ok {
			return
		}
		s.bounds(len(list), "length", list, path, vs)
		if s.member.kind == kindStructure {
			for i, mv := range list {
				s.member.check(mv, fmt.Sprintf("%s.%d.member", path, i+1), vs)
			}
			return
		}
		// The members of a list of scalars are answered as one constraint on the list, naming
		// every constraint of the member's shape.
		for _, mv := range list {
			var each violations
			s.member.check(mv, path, &each)
			if mv == nil || len(each) > 0 {
				*vs = append(*vs, violation{value: s.show(list), path: path,
					constraint: "Member must satisfy constraint: [" + strings.Join(s.member.constraints(), ", ") + "]"})
				return
			}
		}
	case kindString:
		str, ok := v.(string)
		if !ok {
			return
		}
		if s.re != nil && !s.re().MatchString(str) {
			*vs = append(*vs, violation{value: s.show(str), path: path, constraint: "Member must satisfy regular expression pattern: " + s.pattern})
		}
		if s.enum != nil && !slices.Contains(s.enum, str) {
			*vs = append(*vs, violation{value: s.show(str), path: path, constraint: "Member must satisfy enum value set: [" + strings.Join(s.enum, ", ") + "]"})
		}
		if s.min != unbounded || s.max != unbounded {
			s.bounds(utf16Len(str), "length", str, path, vs)
		}
	case kindInteger:
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) {
			return // not an integer: decode answers it
		}
		s.bounds(int(n), "value", n, path, vs)
	}
}

// bounds appends the violation of s's minimum or maximum by n, the length or the value of v.
func (s *shape) bounds(n int, of string, v any, path string, vs *violations) {
	switch {
	case s.min != unbounded && n < s.min:
		*vs = append(*vs, violation{value: s.show(v), path: path, constraint: fmt.Sprintf("Member must have %s greater than or equal to %d", of, s.min)})
	case s.max != unbounded && n > s.max:
		*vs = append(*vs, violation{value: s.show(v), path: path, constraint: fmt.Sprintf("Member must have %s less than or equal to %d", of, s.max)})
	}
}

// utf16Len is the length of s as the framework counts it: in UTF-16 units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// constraints lists every constraint of a scalar shape as the framework names them inside
// "Member must satisfy constraint: [...]": the maximum, the minimum, the pattern, the values.
func (s *shape) constraints() []string {
	of := "length"
	if s.kind == kindInteger {
		of = "value"
	}
	var out []string
	if s.max != unbounded {
		out = append(out, fmt.Sprintf("Member must have %s less than or equal to %d", of, s.max))
	}
	if s.min != unbounded {
		out = append(out, fmt.Sprintf("Member must have %s greater than or equal to %d", of, s.min))
	}
	if s.pattern != "" {
		out = append(out, "Member must satisfy regular expression pattern: "+s.pattern)
	}
	if s.enum != nil {
		out = append(out, "Member must satisfy enum value set: ["+strings.Join(s.enum, ", ")+"]")
	}
	return out
}

// show is v as the framework's message quotes it: 'text', '11', '[a, b]' for a list of scalars,
// null when absent; nothing at all for a sensitive value or a structure.
func (s *shape) show(v any) string {
	if s.sensitive {
		return ""
	}
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "'" + v + "'"
	case float64:
		return "'" + strconv.FormatFloat(v, 'f', -1, 64) + "'"
	case []any:
		if s.member == nil || s.member.kind == kindStructure || s.member.kind == kindList {
			return ""
		}
		items := make([]string, len(v))
		for i, item := range v {
			items[i] = "null"
			if item != nil {
				items[i] = fmt.Sprint(item)
			}
		}
		return "'[" + strings.Join(items, ", ") + "]'"
	}
	return ""
}

// lowerFirst is a member's name as the framework's paths spell it: Name -> name, KeyId -> keyId.
func lowerFirst(name string) string {
	return strings.ToLower(name[:1]) + name[1:]
}
