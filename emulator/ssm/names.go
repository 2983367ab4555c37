package ssm

import (
	"strconv"
	"strings"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

const (
	maxHierarchyLevels = 15
	maxNameWithARN     = 1011 // the longest name, counted with its ARN's prefix
	maxModelNameLength = 2048 // the model's bound on any name field

	// namePatternMessage is AWS's answer to a name with a character it does not allow, or one
	// that begins with "ssm".
	namePatternMessage = `Parameter name: can't be prefixed with "ssm" (case-insensitive). If formed as a path, ` +
		`it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, ` +
		`numbers and the following 3 symbols .-_`
)

// paramKey is the identity of a parameter: AWS treats "/Name" and "Name" as one parameter, so a
// name is keyed with exactly one leading slash. Names of several levels always have it.
func paramKey(name string) string {
	return "/" + strings.TrimPrefix(name, "/")
}

// arnName is what follows "parameter/" in a parameter's ARN: the name without its leading slash,
// so that "/clients/acme/KEY" gives "parameter/clients/acme/KEY".
func arnName(name string) string {
	return strings.TrimPrefix(name, "/")
}

// checkWriteName validates the name of a parameter to create, overwrite or delete, trimmed of the
// spaces AWS removes: the reserved prefixes (an "aws" prefix is AccessDeniedException, an "ssm"
// prefix ValidationException, as AWS answers), the characters, the leading slash of a hierarchy,
// its depth and the length.
func checkWriteName(name, arnPrefix string) *wire.Error {
	if name == "" {
		return validationError("''", "name", "Member must have length greater than or equal to 1")
	}
	if err := checkReserved(name); err != nil {
		return err
	}
	for _, c := range name {
		if !nameChar(c) {
			return newError(codeValidation, namePatternMessage)
		}
	}
	if strings.Contains(name, "/") {
		if !strings.HasPrefix(name, "/") {
			return newError(codeValidation, "Parameter name must be a fully qualified name.")
		}
		if strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
			return newError(codeValidation, namePatternMessage)
		}
		if strings.Count(name, "/") > maxHierarchyLevels {
			return newError(codeHierarchyLevelLimit, "A hierarchy can have a maximum of %d levels.", maxHierarchyLevels)
		}
	}
	if n := len(arnPrefix) + len(arnName(name)); n > maxNameWithARN {
		return newError(codeValidation,
			"Parameter name: the fully qualified name, counted with the %d characters of the ARN prefix %s, "+
				"must be at most %d characters; it has %d.", len(arnPrefix), arnPrefix, maxNameWithARN, n)
	}
	return nil
}

// checkReserved refuses the names AWS keeps for itself: those beginning with "aws" or "ssm" in any
// case, with or without a leading slash.
func checkReserved(name string) *wire.Error {
	bare := strings.TrimPrefix(name, "/")
	lower := strings.ToLower(bare)
	switch {
	case strings.HasPrefix(lower, "aws"):
		return newError(codeAccessDenied, "No access to reserved parameter name: %s.", bare)
	case strings.HasPrefix(lower, "ssm"):
		return newError(codeValidation, namePatternMessage)
	}
	return nil
}

func nameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '/'
}

// selector is a parsed reference to a parameter as the read operations accept it: a name or an
// ARN, optionally followed by ":version" or ":label".
type selector struct {
	name    string // the name, as a key would be formed from it
	version int64  // 0 when the selector names none
	label   string // non-empty for a name:label selector
	suffix  string // ":3" or ":label", echoed as the answer's Selector
}

// parseSelector parses a name given to a read operation, trimmed of surrounding spaces. ok is false
// when it cannot name any parameter (a malformed ARN, an ARN of another account or region, an
// empty selector); such names are simply not found. A space inside a name is a ValidationException,
// as AWS answers.
func parseSelector(raw, region, account string) (sel selector, ok bool, err *wire.Error) {
	raw = strings.TrimSpace(raw)
	if strings.ContainsAny(raw, " \t") {
		return sel, false, newError(codeValidation, namePatternMessage)
	}
	name := raw
	if strings.HasPrefix(raw, "arn:") {
		parts := strings.SplitN(raw, ":", 6)
		if len(parts) < 6 || parts[2] != "ssm" || parts[3] != region || !strings.HasPrefix(parts[5], "parameter/") {
			return sel, false, nil
		}
		rest := strings.TrimPrefix(parts[5], "parameter/")
		public := strings.HasPrefix(rest, "aws/")
		if public && parts[4] != "" || !public && parts[4] != account {
			return sel, false, nil
		}
		name = rest
		if strings.Contains(rest, "/") {
			name = "/" + rest
		}
	}
	name, suffix, hasSuffix := strings.Cut(name, ":")
	sel.name = name
	if name == "" {
		return sel, false, nil
	}
	if !hasSuffix {
		return sel, true, nil
	}
	if suffix == "" || strings.Contains(suffix, ":") {
		return sel, false, nil
	}
	sel.suffix = ":" + suffix
	if v, perr := strconv.ParseInt(suffix, 10, 64); perr == nil {
		if v < 1 {
			return sel, false, nil
		}
		sel.version = v
	} else {
		sel.label = suffix
	}
	return sel, true, nil
}
