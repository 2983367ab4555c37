package ec2

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// params is the form of one EC2 Query request, or the part of it under a prefix such as
// "TagSpecification.1.". EC2 flattens a list as NAME.1, NAME.2, ... and a structure as
// NAME.MEMBER, using each member's queryName (or its capitalised locationName) from the model.
type params struct {
	values url.Values
	prefix string
}

// get returns the value of name, or "" when it is absent.
func (p params) get(name string) string { return p.values.Get(p.prefix + name) }

// has reports whether name was sent, even with an empty value.
func (p params) has(name string) bool {
	_, ok := p.values[p.prefix+name]
	return ok
}

// any reports whether name, or any member of the structure or list name, was sent.
func (p params) any(name string) bool {
	for key := range p.values {
		if key == p.prefix+name || strings.HasPrefix(key, p.prefix+name+".") {
			return true
		}
	}
	return false
}

// sub returns the members of the structure name.
func (p params) sub(name string) params { return params{p.values, p.prefix + name + "."} }

// indexes returns, in ascending order, every N for which some NAME.N or NAME.N.MEMBER was sent.
func (p params) indexes(name string) []int {
	pre := p.prefix + name + "."
	seen := map[int]bool{}
	for key := range p.values {
		rest, ok := strings.CutPrefix(key, pre)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		if n, err := strconv.Atoi(rest); err == nil && n >= 1 {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// list returns the values of the flattened list name (NAME.1, NAME.2, ...).
func (p params) list(name string) []string {
	var out []string
	for _, n := range p.indexes(name) {
		out = append(out, p.get(name+"."+strconv.Itoa(n)))
	}
	return out
}

// structs returns the members of the flattened list of structures name.
func (p params) structs(name string) []params {
	var out []params
	for _, n := range p.indexes(name) {
		out = append(out, p.sub(name+"."+strconv.Itoa(n)))
	}
	return out
}

// integer returns the value of name as an integer; ok is false when it is absent. A value that
// is not an integer is InvalidParameterValue.
func (p params) integer(name string) (v int, ok bool, err error) {
	if !p.has(name) {
		return 0, false, nil
	}
	raw := p.get(name)
	v, convErr := strconv.Atoi(raw)
	if convErr != nil {
		return 0, false, errorf(codeInvalidParameterValue, "Invalid value '%s' for %s", raw, p.prefix+name)
	}
	return v, true, nil
}

// boolean returns the value of name as a boolean, false when it is absent. A value other than
// true or false is InvalidParameterValue.
func (p params) boolean(name string) (bool, error) {
	switch raw := p.get(name); strings.ToLower(raw) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, errorf(codeInvalidParameterValue, "Invalid value '%s' for %s", raw, p.prefix+name)
	}
}

// require returns the value of name, or MissingParameter when it was not sent or is empty.
func (p params) require(name string) (string, error) {
	v := p.get(name)
	if v == "" {
		return "", errorf(codeMissingParameter, "The request must contain the parameter %s", p.prefix+name)
	}
	return v, nil
}
