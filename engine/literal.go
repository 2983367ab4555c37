package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decoding literals: a YAML node with no expression in it becomes a value of a flow type. These are
// pure functions of the node; the only state is the node budget the caller passes in.

// maxNodes bounds how many YAML nodes a document may expand to once its aliases are followed, so
// an "alias bomb" (aliases of aliases, each repeated) is an error rather than a hang.
const maxNodes = 200_000

var errTooManyNodes = fmt.Errorf("the document expands to more than %d values once its YAML aliases are followed", maxNodes)

// decodeLiteral converts a node with no expression in it to a value of type t.
func decodeLiteral(n *yaml.Node, t *Type) (any, error) {
	budget := maxNodes
	return decodeLiteralBudget(n, t, &budget)
}

// decodeLiteralBudget is decodeLiteral, counting every node it visits (aliases followed) against
// *budget and failing with errTooManyNodes once it is spent.
func decodeLiteralBudget(n *yaml.Node, t *Type, budget *int) (any, error) {
	if *budget--; *budget < 0 {
		return nil, errTooManyNodes
	}
	if n.Kind == yaml.AliasNode {
		return decodeLiteralBudget(n.Alias, t, budget)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		if t.Kind == KindAny {
			return nil, nil
		}
		return nil, fmt.Errorf("expected %s, got null", t)
	}
	switch {
	case t.Kind == KindAny:
		return decodeAny(n, budget)
	case n.Kind == yaml.ScalarNode && t.Kind != KindList && t.Kind != KindMap && t.Kind != KindObject:
		if v, ok, err := decodeScalar(n, t); ok {
			return v, err
		}
	case n.Kind == yaml.SequenceNode && t.Kind == KindList:
		return decodeList(n, t, budget)
	case n.Kind == yaml.MappingNode && (t.Kind == KindMap || t.Kind == KindObject):
		return decodeMap(n, t, budget)
	}
	return nil, fmt.Errorf("expected %s, got %s", t, kindName(n))
}

// decodeScalar converts a scalar to a string, int or bool; ok is false when the scalar is not
// one (an int where a bool is expected).
func decodeScalar(n *yaml.Node, t *Type) (v any, ok bool, err error) {
	switch tag := n.ShortTag(); {
	case t.Kind == KindString:
		return n.Value, true, nil
	case t.Kind == KindInt && tag == "!!int":
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			return nil, true, errors.New("the int is out of range (a 64-bit int is needed)")
		}
		return int(i), true, nil
	case t.Kind == KindBool && tag == "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		return b, true, err
	}
	return nil, false, nil
}

// decodeList converts a sequence to a list of t.Elem.
func decodeList(n *yaml.Node, t *Type, budget *int) (any, error) {
	out := make([]any, len(n.Content))
	for i, c := range n.Content {
		v, err := decodeLiteralBudget(c, t.Elem, budget)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err) // 0-based, as expressions index
		}
		out[i] = v
	}
	return out, nil
}

// decodeMap converts a mapping to a map of t.Elem, or to an object of t's fields.
func decodeMap(n *yaml.Node, t *Type, budget *int) (any, error) {
	out := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		et := t.Elem
		if t.Kind == KindObject {
			f := t.Field(key)
			if f == nil {
				return nil, fmt.Errorf("unknown key %q%s", key, suggest(key, t.FieldNames()))
			}
			et = f.Type
		}
		v, err := decodeLiteralBudget(n.Content[i+1], et, budget)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out[key] = v
	}
	return out, nil
}

// decodeAny converts a node to the value its YAML type says: int, bool, float, string, list or map.
func decodeAny(n *yaml.Node, budget *int) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			return decodeLiteralBudget(n, Int(), budget)
		case "!!bool":
			return decodeLiteralBudget(n, Bool(), budget)
		case "!!float":
			var f float64 // as YAML reads it: .inf, -.Inf and .nan included
			if err := n.Decode(&f); err != nil {
				return nil, errors.New("not a number YAML can read")
			}
			return f, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		return decodeLiteralBudget(n, ListOf(Any()), budget)
	case yaml.MappingNode:
		return decodeLiteralBudget(n, MapOf(Any()), budget)
	}
	return nil, fmt.Errorf("expected %s, got %s", Any(), kindName(n))
}
