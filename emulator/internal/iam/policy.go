// Package iam evaluates identity-based IAM policy documents as AWS does, for the emulated
// services: a policy is parsed once (Parse), then each request, one action on one or more
// resources with the condition keys the service knows, gets a Decision (Evaluate): an explicit
// Deny wins, then an Allow, and anything no statement allows is denied by default. It also
// writes AWS's words for a denial (Denial.Message), which each service sends in its protocol's
// error shape.
//
// It knows no service and no wire protocol; the services say which action and which resource
// ARNs each operation is evaluated against.
package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Effect is a statement's Effect.
type Effect string

// The two effects a statement can have.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed identity-based policy document.
type Policy struct {
	Statements []Statement
}

// Statement is one statement of a policy. Exactly one of Actions and NotActions is set, and
// exactly one of Resources and NotResources.
type Statement struct {
	Sid          string
	Effect       Effect
	Actions      []string // patterns, service:action with * and ?, lowered
	NotActions   []string
	Resources    []string // ARN patterns with * and ?, or *
	NotResources []string
	Conditions   []Condition
}

// Condition is one operator applied to one condition key: every value of the request's key is
// compared with Values as the operator says.
type Condition struct {
	Operator string // as written, e.g. StringLike, StringEqualsIfExists
	Key      string // e.g. aws:RequestedRegion, ec2:CreateAction
	Values   []string
}

// Versions a policy document may declare.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// MaxSize is the largest policy document Parse reads: AWS's own limit on a managed policy is
// 6,144 characters; more than 16 times that is not a policy.
const MaxSize = 100 << 10

// Parse reads a policy document as AWS accepts one: a JSON object with Version (2012-10-17 or
// 2008-10-17) and Statement (one statement or a list of them), each statement with Effect, one
// of Action and NotAction, one of Resource and NotResource, an optional Sid and Condition, and
// no Principal (that belongs to resource-based policies). Every problem is reported, each with
// where it is (Statement[1].Action).
func Parse(data []byte) (*Policy, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("the policy is %d bytes, more than the %d a policy document may hold", len(data), MaxSize)
	}
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("the policy is not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("the policy has more after its JSON object")
	}
	var p problems
	for k := range doc {
		if k != "Version" && k != "Statement" && k != "Id" {
			p.add("%s: unknown key; a policy has Version, Statement and Id", k)
		}
	}
	var version string
	if raw, ok := doc["Version"]; !ok {
		p.add("Version: missing; write \"Version\": %q", Version2012)
	} else if err := json.Unmarshal(raw, &version); err != nil || (version != Version2012 && version != Version2008) {
		p.add("Version: %s is not a policy version; write %q", raw, Version2012)
	}
	raw, ok := doc["Statement"]
	if !ok {
		p.add("Statement: missing")
		return nil, p.err()
	}
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := json.Unmarshal(raw, &list); err != nil {
			p.add("Statement: %v", err)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	pol := &Policy{}
	for i, r := range list {
		st := parseStatement(r, fmt.Sprintf("Statement[%d]", i), &p)
		pol.Statements = append(pol.Statements, st)
	}
	if len(list) == 0 && len(p) == 0 {
		p.add("Statement: empty; a policy needs at least one statement")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return pol, nil
}

// problems collects what is wrong with a document.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("the policy is not valid: %s", strings.Join(p, "; "))
}

// statementKeys are the keys of an identity-based policy's statement.
var statementKeys = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}

func parseStatement(raw json.RawMessage, at string, p *problems) Statement {
	var st Statement
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		p.add("%s: not a JSON object", at)
		return st
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "Principal" || k == "NotPrincipal":
			p.add("%s.%s: an identity-based policy names no principal (it applies to whoever it is attached to)", at, k)
		case !contains(statementKeys, k):
			p.add("%s.%s: unknown key; a statement has %s", at, k, strings.Join(statementKeys, ", "))
		}
	}
	if r, ok := m["Sid"]; ok {
		if err := json.Unmarshal(r, &st.Sid); err != nil {
			p.add("%s.Sid: not a string", at)
		}
	}
	var effect string
	if r, ok := m["Effect"]; !ok {
		p.add("%s.Effect: missing; Allow or Deny", at)
	} else if err := json.Unmarshal(r, &effect); err != nil || (effect != string(Allow) && effect != string(Deny)) {
		p.add("%s.Effect: %s is not Allow or Deny", at, r)
	}
	st.Effect = Effect(effect)
	st.Actions, st.NotActions = oneOf(m, at, "Action", "NotAction", p)
	for _, a := range append(append([]string(nil), st.Actions...), st.NotActions...) {
		if a != "*" && !strings.Contains(a, ":") {
			p.add("%s: action %q is not service:action (e.g. ssm:GetParameters)", at, a)
		}
	}
	// Service prefixes and action names are case-insensitive: kept lowered, as requests are
	// lowered to be matched.
	for i := range st.Actions {
		st.Actions[i] = strings.ToLower(st.Actions[i])
	}
	for i := range st.NotActions {
		st.NotActions[i] = strings.ToLower(st.NotActions[i])
	}
	st.Resources, st.NotResources = oneOf(m, at, "Resource", "NotResource", p)
	for _, r := range append(append([]string(nil), st.Resources...), st.NotResources...) {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			p.add("%s: resource %q is not an ARN (arn:partition:service:region:account:resource) or *", at, r)
		}
	}
	if r, ok := m["Condition"]; ok {
		st.Conditions = parseConditions(r, at+".Condition", p)
	}
	return st
}

// oneOf reads exactly one of two keys that each hold a string or a list of strings.
func oneOf(m map[string]json.RawMessage, at, key, notKey string, p *problems) (values, notValues []string) {
	r, has := m[key]
	nr, hasNot := m[notKey]
	switch {
	case has && hasNot:
		p.add("%s: both %s and %s; a statement has one of them", at, key, notKey)
	case !has && !hasNot:
		p.add("%s: no %s (or %s)", at, key, notKey)
	case has:
		values = stringOrList(r, at+"."+key, p)
	default:
		notValues = stringOrList(nr, at+"."+notKey, p)
	}
	return values, notValues
}

func stringOrList(raw json.RawMessage, at string, p *problems) []string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		p.add("%s: not a string or a list of strings", at)
		return nil
	}
	if s, ok := scalar(v); ok {
		return []string{s}
	}
	list, ok := v.([]any)
	if !ok {
		p.add("%s: not a string or a list of strings", at)
		return nil
	}
	if len(list) == 0 {
		p.add("%s: an empty list", at)
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := scalar(e)
		if !ok {
			p.add("%s[%d]: not a string", at, i)
			continue
		}
		out = append(out, s)
	}
	return out
}

// scalar returns a JSON string as it is, and a boolean or a number as text (a condition's
// "aws:SecureTransport": true), as AWS reads them.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool, float64:
		return fmt.Sprint(x), true
	}
	return "", false
}

func parseConditions(raw json.RawMessage, at string, p *problems) []Condition {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		p.add("%s: not an object of operators, each an object of condition keys", at)
		return nil
	}
	var out []Condition
	for _, op := range sortedKeys(ops) {
		if _, _, err := operatorOf(op); err != nil {
			p.add("%s.%s: %v", at, op, err)
			continue
		}
		for _, key := range sortedKeys(ops[op]) {
			values := stringOrList(ops[op][key], at+"."+op+"."+key, p)
			out = append(out, Condition{Operator: op, Key: key, Values: values})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
