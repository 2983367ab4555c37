package engine

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// value builds the Value of node n for a field of type t, compiling its expressions in scope sc.
// field names the step input being set, for messages, or is "". It returns nil, having reported
// why, when n cannot be such a value.
func (l *loader) value(n *yaml.Node, t *Type, sc *scope, field string) *Value {
	switch {
	case n.Kind == yaml.AliasNode:
		return l.value(n.Alias, t, sc, field)
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && strings.Contains(n.Value, "${{"):
		return l.templateValue(n, t, sc)
	case n.Kind == yaml.SequenceNode && (t.Kind == KindList || t.Kind == KindAny):
		return l.listValue(n, t, sc, field)
	case n.Kind == yaml.MappingNode && (t.Kind == KindMap || t.Kind == KindObject || t.Kind == KindAny):
		return l.mapValue(n, t, sc, field)
	}
	return l.literalValue(n, t, field)
}

// templateValue builds a string with ${{ }} in it: one expression of type t when the expression
// is the whole string, else a string of text and expressions.
func (l *loader) templateValue(n *yaml.Node, t *Type, sc *scope) *Value {
	v := &Value{Pos: l.pos(n)}
	segs, at, ok := splitTemplate(n.Value)
	posAt := l.scalarPos(n)
	if !ok {
		l.errs.add(RuleExprSyntax, posAt(at), "unterminated ${{: the expression has no closing }}%s", commentHint(l.text, n))
		return nil
	}
	if len(segs) == 1 && segs[0].isExpr {
		e := &Expr{Source: segs[0].text, pos: offsetPos(posAt, segs[0].offset)}
		if v.expr = l.check.compile(e, sc, t); v.expr == nil {
			return nil
		}
		return v
	}
	if t.Kind != KindString && t.Kind != KindAny {
		l.errorf(RuleExprType, n, "expected %s, but text with ${{ }} in it is a string; to compute a %s write the whole value as one ${{ expression }}", t, t)
		return nil
	}
	failed := false
	for _, s := range segs {
		if !s.isExpr {
			v.parts = append(v.parts, part{text: s.text})
			continue
		}
		e := l.check.compile(&Expr{Source: s.text, pos: offsetPos(posAt, s.offset)}, sc, Any())
		if e == nil {
			failed = true
			continue
		}
		v.parts = append(v.parts, part{expr: e})
	}
	if failed {
		return nil
	}
	return v
}

// listValue builds a list of t's element type (any, for t any).
func (l *loader) listValue(n *yaml.Node, t *Type, sc *scope, field string) *Value {
	v := &Value{Pos: l.pos(n)}
	elem := Any()
	if t.Kind == KindList {
		elem = t.Elem
	}
	v.list = make([]*Value, 0, len(n.Content))
	failed := false
	for _, c := range n.Content {
		cv := l.value(c, elem, sc, field)
		if cv == nil {
			failed = true
			continue
		}
		v.list = append(v.list, cv)
	}
	if failed {
		return nil
	}
	return v.fold()
}

// mapValue builds a map of t's element type, or an object with t's fields, every required one set.
func (l *loader) mapValue(n *yaml.Node, t *Type, sc *scope, field string) *Value {
	v := &Value{Pos: l.pos(n)}
	keys, vals := l.pairs(n, "the mapping")
	v.keys = []string{}
	failed := false
	for i, k := range keys {
		et := Any()
		switch t.Kind {
		case KindMap:
			et = t.Elem
		case KindObject:
			f := t.Field(k.Value)
			if f == nil {
				l.errorf(RuleUnknownKey, k, "unknown key %q%s", k.Value, suggest(k.Value, t.FieldNames()))
				failed = true
				continue
			}
			et = f.Type
		}
		cv := l.value(vals[i], et, sc, field)
		if cv == nil {
			failed = true
			continue
		}
		v.keys, v.vals = append(v.keys, k.Value), append(v.vals, cv)
	}
	if t.Kind == KindObject {
		for _, f := range t.Fields {
			if f.Required && !contains(v.keys, f.Name) {
				l.errorf(RuleRequiredKey, n, "missing required key %q", f.Name)
				failed = true
			}
		}
	}
	if failed {
		return nil
	}
	return v.fold()
}

// literalValue decodes a node with no expression in it.
func (l *loader) literalValue(n *yaml.Node, t *Type, field string) *Value {
	lit, err := decodeLiteral(n, t)
	if err != nil {
		if field != "" {
			l.errorf(RuleValueType, n, "%s: %v", field, err)
		} else {
			l.errorf(RuleValueType, n, "%v", err)
		}
		return nil
	}
	return &Value{Pos: l.pos(n), lit: lit, isLit: true}
}

// fold turns a list or map whose members are all literal into one literal.
func (v *Value) fold() *Value {
	if v.list != nil {
		out := make([]any, len(v.list))
		for i, e := range v.list {
			if !e.isLit {
				return v
			}
			out[i] = e.lit
		}
		return &Value{Pos: v.Pos, lit: out, isLit: true}
	}
	out := make(map[string]any, len(v.keys))
	for i, e := range v.vals {
		if !e.isLit {
			return v
		}
		out[v.keys[i]] = e.lit
	}
	return &Value{Pos: v.Pos, lit: out, isLit: true}
}
