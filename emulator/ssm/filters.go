package ssm

import (
	"slices"
	"strings"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// stringFilter is one validated ParameterStringFilter: every filter must match a parameter, and a
// filter matches when any of its values does.
type stringFilter struct {
	key    string // Name | Type | KeyId | Path | Label | Tier | DataType | tag:KEY
	option string // Equals | BeginsWith | Contains (Name) | OneLevel | Recursive (Path)
	values []string
}

// checkFilters validates the ParameterFilters of DescribeParameters (byPath false) or
// GetParametersByPath (byPath true) as AWS does once the model's constraints are met (see
// validate): which keys the operation accepts (InvalidFilterKey), their options
// (InvalidFilterOption) and their values.
func checkFilters(in []parameterStringFilter, byPath bool) ([]stringFilter, *wire.Error) {
	out := make([]stringFilter, 0, len(in))
	seen := map[string]bool{}
	for _, f := range in {
		key := *f.Key
		tag := strings.HasPrefix(key, "tag:")
		switch {
		case !byPath && key == "Label":
			return nil, newError(codeInvalidFilterKey,
				"The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier, DataType].")
		case byPath && (tag || key == "Name" || key == "Path" || key == "Tier" || key == "DataType"):
			return nil, newError(codeInvalidFilterKey,
				"The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId, Label].", key)
		case seen[key]:
			return nil, newError(codeInvalidFilterKey,
				"The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
		}
		seen[key] = true

		option := "Equals"
		if key == "Path" {
			option = "OneLevel"
		}
		if f.Option != nil {
			option = *f.Option
		}
		options := []string{"BeginsWith", "Equals"}
		switch {
		case key == "Path":
			options = []string{"Recursive", "OneLevel"}
		case key == "Label":
			options = []string{"Equals"}
		case key == "Name":
			options = []string{"BeginsWith", "Equals", "Contains"}
		}
		if !slices.Contains(options, option) {
			return nil, newError(codeInvalidFilterOption,
				"The following filter option is not valid: %s. Valid options include: [%s].", option, strings.Join(options, ", "))
		}
		if len(f.Values) == 0 && !tag {
			return nil, newError(codeInvalidFilterValue,
				"The following filter values are missing : null for filter key %s.", key)
		}
		if err := checkFilterValues(key, f.Values); err != nil {
			return nil, err
		}
		out = append(out, stringFilter{key: key, option: option, values: f.Values})
	}
	return out, nil
}

func checkFilterValues(key string, values []string) *wire.Error {
	var valid []string
	switch key {
	case "Type":
		valid = []string{typeString, typeStringList, typeSecureString}
	case "Tier":
		valid = []string{tierStandard, tierAdvanced, tierIntelligent}
	case "Path":
		for _, v := range values {
			lower := strings.ToLower(v)
			if strings.HasPrefix(lower, "/aws") || strings.HasPrefix(lower, "/ssm") {
				return newError(codeValidation, `Filters for common parameters can't be prefixed with "aws" or "ssm" `+
					`(case-insensitive). When using global parameters, please specify within a global namespace.`)
			}
			if err := checkPath(v); err != nil {
				return err
			}
		}
		return nil
	default:
		return nil
	}
	for _, v := range values {
		if !slices.Contains(valid, v) {
			return newError(codeInvalidFilterOption,
				"The following filter value is not valid: %s. Valid values include: [%s].", v, strings.Join(valid, ", "))
		}
	}
	return nil
}

// pathMessage is AWS's answer to a path it does not accept.
const pathMessage = `The parameter doesn't meet the parameter name requirements. The parameter name must begin with ` +
	`a forward slash "/". It can't be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, ` +
	`numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. ` +
	`All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.`

// checkPath validates a hierarchy path: it begins with a slash and uses the characters of names.
func checkPath(path string) *wire.Error {
	if !strings.HasPrefix(path, "/") || strings.Contains(path, "//") {
		return newError(codeValidation, pathMessage)
	}
	for _, c := range path {
		if !nameChar(c) {
			return newError(codeValidation, pathMessage)
		}
	}
	return nil
}

// normPath is a path as keys are compared with it: a leading slash and no trailing one, except
// for the root "/".
func normPath(path string) string {
	if p := strings.Trim(path, "/"); p != "" {
		return "/" + p
	}
	return "/"
}

// parentPath is the path of the level a key is in: "/a/b" for "/a/b/c", "/" for "/c".
func parentPath(key string) string {
	if i := strings.LastIndexByte(key, '/'); i > 0 {
		return key[:i]
	}
	return "/"
}

// underPath reports whether key is in the hierarchy path: directly in it, or at any depth when
// recursive.
func underPath(key, path string, recursive bool) bool {
	if !recursive {
		return parentPath(key) == path
	}
	return path == "/" || strings.HasPrefix(key, path+"/")
}

// matches reports whether the current version v of parameter p passes every filter.
func (p *storedParameter) matches(v *storedVersion, filters []stringFilter) bool {
	key := paramKey(p.Name)
	for _, f := range filters {
		ok := false
		switch {
		case f.key == "Name":
			ok = slices.ContainsFunc(f.values, func(want string) bool {
				switch f.option {
				case "Contains":
					return strings.Contains(p.Name, want)
				case "BeginsWith":
					return strings.HasPrefix(key, paramKey(want))
				}
				return key == paramKey(want)
			})
		case f.key == "Path":
			ok = slices.ContainsFunc(f.values, func(path string) bool {
				return underPath(key, normPath(path), f.option == "Recursive")
			})
		case f.key == "Type":
			ok = matchString(v.Type, f)
		case f.key == "KeyId":
			ok = v.KeyID != "" && matchString(v.KeyID, f)
		case f.key == "Tier":
			ok = matchString(v.Tier, f)
		case f.key == "DataType":
			ok = matchString(v.DataType, f)
		case strings.HasPrefix(f.key, "tag:"):
			value, tagged := p.Tags[strings.TrimPrefix(f.key, "tag:")]
			ok = tagged && (len(f.values) == 0 || matchString(value, f))
		case f.key == "Label":
			ok = false // no version of any parameter carries a label
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchString(s string, f stringFilter) bool {
	return slices.ContainsFunc(f.values, func(want string) bool {
		if f.option == "BeginsWith" {
			return strings.HasPrefix(s, want)
		}
		return s == want
	})
}

// legacyFilter is one validated entry of DescribeParameters' deprecated Filters.
type legacyFilter struct {
	key    string // Name | Type | KeyId
	values []string
}

// legacyFilters returns DescribeParameters' deprecated Filters, which validate has held to the
// model.
func legacyFilters(in []parametersFilter) []legacyFilter {
	out := make([]legacyFilter, 0, len(in))
	for _, f := range in {
		out = append(out, legacyFilter{key: *f.Key, values: f.Values})
	}
	return out
}

// matchesLegacy reports whether the current version v of parameter p passes every legacy filter:
// Name matches names beginning with a value, Type and KeyId match equal values.
func (p *storedParameter) matchesLegacy(v *storedVersion, filters []legacyFilter) bool {
	for _, f := range filters {
		var ok bool
		switch f.key {
		case "Name":
			ok = slices.ContainsFunc(f.values, func(want string) bool {
				return strings.HasPrefix(paramKey(p.Name), paramKey(want))
			})
		case "Type":
			ok = slices.Contains(f.values, v.Type)
		case "KeyId":
			ok = v.KeyID != "" && slices.Contains(f.values, v.KeyID)
		}
		if !ok {
			return false
		}
	}
	return true
}
