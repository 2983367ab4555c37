package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decoding literals: a YAML node with no expression in it becomes a value of a flow type. These are
// pure functions of the node.

// decodeLiteral converts a node with no expression in it to a value of type t. Its document has
// passed checkNodes, so following its aliases is bounded.
func decodeLiteral(n *yaml.Node, t *Type) (any, error) {
	if n.Kind == yaml.AliasNode {
		return decodeLiteral(n.Alias, t)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		if t.Kind == KindAny {
			return nil, nil
		}
		return nil, fmt.Errorf("expected %s, got null", t)
	}
	switch {
	case t.Kind == KindAny:
		return decodeAny(n)
	case n.Kind == yaml.ScalarNode && t.Kind != KindList && t.Kind != KindMap && t.Kind != KindObject:
		if v, ok, err := decodeScalar(n, t); ok {
			return v, err
		}
	case n.Kind == yaml.SequenceNode && t.Kind == KindList:
		return decodeList(n, t)
	case n.Kind == yaml.MappingNode && (t.Kind == KindMap || t.Kind == KindObject):
		return decodeMap(n, t)
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
func decodeList(n *yaml.Node, t *Type) (any, error) {
	out := make([]any, len(n.Content))
	for i, c := range n.Content {
		v, err := decodeLiteral(c, t.Elem)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err) // 0-based, as expressions index
		}
		out[i] = v
	}
	return out, nil
}

// decodeMap converts a mapping to a map of t.Elem, or to an object of t's fields.
func decodeMap(n *yaml.Node, t *Type) (any, error) {
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
		v, err := decodeLiteral(n.Content[i+1], et)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out[key] = v
	}
	return out, nil
}

// decodeAny converts a node to the value its YAML type says: int, bool, float, string, list or map.
func decodeAny(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			return decodeLiteral(n, Int())
		case "!!bool":
			return decodeLiteral(n, Bool())
		case "!!float":
			var f float64 // as YAML reads it: .inf, -.Inf and .nan included
			if err := n.Decode(&f); err != nil {
				return nil, errors.New("not a number YAML can read")
			}
			return f, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		return decodeLiteral(n, ListOf(Any()))
	case yaml.MappingNode:
		return decodeLiteral(n, MapOf(Any()))
	}
	return nil, fmt.Errorf("expected %s, got %s", Any(), kindName(n))
}

// maxAliasExpansion bounds how many values a document's YAML aliases may add to it once followed,
// so an "alias bomb" (aliases of aliases, each repeated) is an error rather than a hang. Nodes
// written out count once each, however many: the file's size bounds them.
const maxAliasExpansion = 200_000

// knownTags are the YAML tags a value may have: the ones YAML gives plain values.
var knownTags = map[string]bool{"!!str": true, "!!int": true, "!!bool": true, "!!float": true, "!!null": true,
	"!!map": true, "!!seq": true, "!!timestamp": true, "!!binary": true}

// checkNodes walks every node of a parsed document once and reports, at the node, a tag YAML does
// not give plain values (!foo, !!set) and the alias whose expansion takes the document past
// maxAliasExpansion. It returns false if it reported anything.
func checkNodes(file string, root *yaml.Node, errs *Errors) bool {
	w := nodeWalk{file: file, errs: errs, sizes: map[*yaml.Node]int{}}
	w.walk(root)
	return !w.failed
}

type nodeWalk struct {
	file    string
	errs    *Errors
	sizes   map[*yaml.Node]int // expanded size of anchored nodes, computed once
	surplus int                // values added by following aliases so far
	failed  bool
}

func (w *nodeWalk) walk(n *yaml.Node) {
	if w.surplus > maxAliasExpansion {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		size := expandedSize(n.Alias, w.sizes)
		w.surplus += size - 1
		if size > maxAliasExpansion || w.surplus > maxAliasExpansion {
			w.surplus = maxAliasExpansion + 1
			w.failed = true
			w.errs.add(RuleYAMLSyntax, nodePos(w.file, n), "the YAML aliases expand the document by more than %d values (an alias of aliases, each repeated): write the values out", maxAliasExpansion)
		}
		return
	}
	if n.Kind == yaml.ScalarNode || n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		if tag := n.ShortTag(); !knownTags[tag] {
			w.failed = true
			w.errs.add(RuleYAMLSyntax, nodePos(w.file, n), "unknown YAML tag %q: flow reads plain YAML values (strings, numbers, booleans, null, lists, mappings)", n.Tag)
		}
	}
	for _, c := range n.Content {
		w.walk(c)
	}
}

// expandedSize is how many nodes n stands for once its aliases are followed, at most past
// maxAliasExpansion; sizes memoizes anchored nodes, so the walk is linear in the document. An
// alias inside the value it refers to (&x [*x]) would expand forever: it counts as past the limit.
func expandedSize(n *yaml.Node, sizes map[*yaml.Node]int) int {
	const past = maxAliasExpansion + 1
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1
		}
		n = n.Alias
	}
	if s, ok := sizes[n]; ok {
		return s
	}
	if n.Anchor != "" {
		sizes[n] = past // until it is known: an alias met inside n is a cycle
	}
	size := 1
	for _, c := range n.Content {
		size += expandedSize(c, sizes)
		if size > maxAliasExpansion {
			size = past
			break
		}
	}
	if n.Anchor != "" {
		sizes[n] = size
	}
	return size
}
