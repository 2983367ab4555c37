package iam

import (
	"fmt"
	"strings"
)

// Request is one authorization a service asks for: an action on a resource, with the condition
// keys the request carries. An operation that AWS authorizes on several resources (RunInstances:
// the instance, its image, subnet, security groups, ...) or with several actions (tagging at
// launch needs ec2:CreateTags too) is several Requests, every one of which must be allowed.
type Request struct {
	// Action is service:Operation, e.g. ssm:GetParameters.
	Action string
	// Resource is the ARN the action is evaluated on, or "*" for an action that supports no
	// resource-level permissions (then only a statement whose Resource matches "*" applies).
	Resource string
	// Context holds the condition keys and their values, e.g. aws:RequestedRegion.
	Context map[string][]string
}

// Decision is the outcome of evaluating a request.
type Decision int

// The decisions, as AWS's evaluation logic names them.
const (
	// ImplicitDeny: no statement allows the request (the default).
	ImplicitDeny Decision = iota
	// Allowed: a statement allows it and none denies it.
	Allowed
	// ExplicitDeny: a Deny statement matches it, whatever allows it.
	ExplicitDeny
)

// Evaluate decides req as AWS decides a request under one identity-based policy: a matching
// Deny statement wins, else a matching Allow allows, else it is denied by default.
func (p *Policy) Evaluate(req Request) Decision {
	allowed := false
	action := strings.ToLower(req.Action) // patterns are lowered by Parse
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.matches(req, action) {
			continue
		}
		if st.Effect == Deny {
			return ExplicitDeny
		}
		allowed = true
	}
	if allowed {
		return Allowed
	}
	return ImplicitDeny
}

// Denial is a request that was refused: the first of an operation's Requests not allowed.
type Denial struct {
	Request  Request
	Decision Decision // ImplicitDeny or ExplicitDeny
}

// Authorize evaluates every request of one operation, in order, and returns the first that is not
// allowed; nil when all are. A nil policy allows everything (no policy is enforced).
func (p *Policy) Authorize(reqs []Request) *Denial {
	if p == nil {
		return nil
	}
	for _, r := range reqs {
		if d := p.Evaluate(r); d != Allowed {
			return &Denial{Request: r, Decision: d}
		}
	}
	return nil
}

// Message is AWS's text for the denial of principal (an ARN): "User: ARN is not authorized to
// perform: ACTION on resource: RESOURCE because no identity-based policy allows the ACTION
// action", or "... with an explicit deny in an identity-based policy". A request on "*" names no
// resource, as AWS's message for an action without resource-level permissions does.
func (d *Denial) Message(principal string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "User: %s is not authorized to perform: %s", principal, d.Request.Action)
	if d.Request.Resource != "*" {
		fmt.Fprintf(&b, " on resource: %s", d.Request.Resource)
	}
	if d.Decision == ExplicitDeny {
		b.WriteString(" with an explicit deny in an identity-based policy")
	} else {
		fmt.Fprintf(&b, " because no identity-based policy allows the %s action", d.Request.Action)
	}
	return b.String()
}

// matches reports whether the statement applies to req, whose action lowered is action: its
// action, its resource and every condition.
func (st *Statement) matches(req Request, action string) bool {
	if st.Actions != nil && !anyMatch(st.Actions, action, glob) {
		return false
	}
	if st.NotActions != nil && anyMatch(st.NotActions, action, glob) {
		return false
	}
	if st.Resources != nil && !anyMatch(st.Resources, req.Resource, matchResource) {
		return false
	}
	if st.NotResources != nil && anyMatch(st.NotResources, req.Resource, matchResource) {
		return false
	}
	for _, c := range st.Conditions {
		if !c.holds(req.Context) {
			return false
		}
	}
	return true
}

func anyMatch(patterns []string, s string, match func(pattern, s string) bool) bool {
	for _, p := range patterns {
		if match(p, s) {
			return true
		}
	}
	return false
}

// matchResource matches an ARN pattern, case-sensitively: "*" matches every resource; otherwise
// the pattern and the ARN are compared field by field (arn:partition:service:region:account:
// resource, the resource keeping any further colons), with * and ? inside each field, so a
// wildcard in the region never reaches into the account.
func matchResource(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	if arn == "*" {
		return false // an action without resource-level permissions: only "*" applies
	}
	if strings.Count(pattern, ":") < 5 || strings.Count(arn, ":") < 5 {
		return glob(pattern, arn)
	}
	for range 5 {
		pf, prest, _ := strings.Cut(pattern, ":")
		af, arest, _ := strings.Cut(arn, ":")
		if !glob(pf, af) {
			return false
		}
		pattern, arn = prest, arest
	}
	return glob(pattern, arn)
}

// glob matches s against pattern, where * matches any run of characters (none included) and ?
// any one character.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// operator is a condition operator's comparison of one request value with one policy value.
type operator struct {
	match  func(policy, value string) bool
	negate bool // StringNotEquals, StringNotLike, ...: true when no value matches
}

// operators are the condition operators the emulator evaluates: the string, boolean and ARN
// families, each also with IfExists; Null is handled apart.
var operators = map[string]operator{
	"StringEquals":              {match: func(p, v string) bool { return p == v }},
	"StringNotEquals":           {match: func(p, v string) bool { return p == v }, negate: true},
	"StringEqualsIgnoreCase":    {match: strings.EqualFold},
	"StringNotEqualsIgnoreCase": {match: strings.EqualFold, negate: true},
	"StringLike":                {match: glob},
	"StringNotLike":             {match: glob, negate: true},
	"Bool":                      {match: strings.EqualFold},
	"ArnEquals":                 {match: matchResource},
	"ArnLike":                   {match: matchResource},
	"ArnNotEquals":              {match: matchResource, negate: true},
	"ArnNotLike":                {match: matchResource, negate: true},
}

// operatorOf returns the operator a condition names, and whether it ends in IfExists.
func operatorOf(name string) (operator, bool, error) {
	if name == "Null" {
		return operator{}, false, nil
	}
	base, ifExists := strings.CutSuffix(name, "IfExists")
	op, ok := operators[base]
	if !ok {
		return operator{}, false, fmt.Errorf("the emulator does not evaluate this condition operator; it evaluates Null and %s, each also with IfExists",
			strings.Join(sortedKeys(operators), ", "))
	}
	return op, ifExists, nil
}

// holds reports whether the condition is true of a request whose condition keys are ctx. Keys
// are case-insensitive, as AWS's are. A key the request does not carry makes a condition false,
// but true for a negated operator and for any operator with IfExists; Null is true when the key
// is absent and its value is "true".
func (c Condition) holds(ctx map[string][]string) bool {
	values, present := lookup(ctx, c.Key)
	if c.Operator == "Null" {
		for _, want := range c.Values {
			if strings.EqualFold(want, "true") == !present {
				return true
			}
		}
		return false
	}
	op, ifExists, err := operatorOf(c.Operator)
	if err != nil {
		return false // Parse refused it: never reached
	}
	if !present {
		return ifExists || op.negate
	}
	// A single-valued key: any policy value that matches satisfies it.
	for _, v := range values {
		matched := false
		for _, want := range c.Values {
			if op.match(want, v) {
				matched = true
				break
			}
		}
		if matched == op.negate {
			return false
		}
	}
	return true
}

func lookup(ctx map[string][]string, key string) ([]string, bool) {
	if v, ok := ctx[key]; ok {
		return v, len(v) > 0
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, len(v) > 0
		}
	}
	return nil, false
}
