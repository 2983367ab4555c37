package engine

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	exprtypes "github.com/expr-lang/expr/types"
)

// Kind is the shape of a value in the workflow language.
type Kind int

// The kinds of the workflow language. Any is the type of a value only known at run time.
const (
	KindAny Kind = iota
	KindString
	KindInt
	KindBool
	KindList
	KindMap
	KindObject
)

// Type is the static type of a value: an input, a step field, or an expression's result.
// Types are immutable once built.
type Type struct {
	Kind   Kind
	Elem   *Type   // KindList, KindMap
	Fields []Field // KindObject, in declaration order
}

// Any returns the type of a value only known at run time, or of any value.
func Any() *Type { return &Type{Kind: KindAny} }

// String returns the type of a string.
func String() *Type { return &Type{Kind: KindString} }

// Int returns the type of a whole number.
func Int() *Type { return &Type{Kind: KindInt} }

// Bool returns the type of true or false.
func Bool() *Type { return &Type{Kind: KindBool} }

// ListOf returns the type of a list of elem.
func ListOf(elem *Type) *Type { return &Type{Kind: KindList, Elem: elem} }

// MapOf returns the type of a map from strings to elem.
func MapOf(elem *Type) *Type { return &Type{Kind: KindMap, Elem: elem} }

// ObjectOf returns the type of an object with exactly these fields.
func ObjectOf(fields ...Field) *Type { return &Type{Kind: KindObject, Fields: fields} }

// Field is one named member of an object type: a step's input or output, or a workflow input.
type Field struct {
	Name     string
	Type     *Type
	Required bool
	// Default is the value used when the field is not set, already of Type; nil for none.
	Default any
	// Secret marks an output whose value is secret (shown as *** wherever flow prints), or an input
	// whose value flow must never print.
	Secret bool
	Doc    string
	// Enum, if set, lists the only values a string field accepts.
	Enum []string
	// Check, if set, validates a value of Type further, for what Enum cannot say (a duration, a
	// file mode).
	Check func(v any) error
}

// Validate checks a value of f's Type against f's Enum, then its Check. The loader runs it on
// literals, the executor on computed values.
func (f *Field) Validate(v any) error {
	if s, _ := v.(string); len(f.Enum) > 0 && !slices.Contains(f.Enum, s) {
		for _, a := range f.Enum {
			if strings.EqualFold(s, a) {
				return fmt.Errorf("%q is not one of %s; did you mean %s?", v, strings.Join(f.Enum, ", "), a)
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(f.Enum, ", "))
	}
	if f.Check != nil {
		return f.Check(v)
	}
	return nil
}

// Field returns the field called name, or nil.
func (t *Type) Field(name string) *Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}

// FieldNames returns the names of an object's fields, sorted.
func (t *Type) FieldNames() []string {
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	sort.Strings(names)
	return names
}

// String returns the type as the reference documentation writes it: string, int, bool, any,
// list<string>, map<string>, object.
func (t *Type) String() string {
	switch t.Kind {
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindBool:
		return "bool"
	case KindList:
		return "list<" + t.Elem.String() + ">"
	case KindMap:
		return "map<" + t.Elem.String() + ">"
	case KindObject:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ": " + f.Type.String()
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "any"
}

// exprType is t as expr-lang's checker sees it: objects are strict maps, so a misspelt field is a
// compile error; maps accept any key.
func (t *Type) exprType() exprtypes.Type {
	switch t.Kind {
	case KindString:
		return exprtypes.String
	case KindInt:
		return exprtypes.Int
	case KindBool:
		return exprtypes.Bool
	case KindList:
		return exprtypes.Array(t.Elem.exprType())
	case KindMap:
		return exprtypes.Map{exprtypes.Extra: t.Elem.exprType()}
	case KindObject:
		m := make(exprtypes.Map, len(t.Fields))
		for _, f := range t.Fields {
			m[f.Name] = f.Type.exprType()
		}
		return m
	}
	return exprtypes.Any
}

// accepts reports whether a value of the expression result type rt may set a field of type t. An
// unknown result type (interface) is accepted here and checked at run time.
func (t *Type) accepts(rt reflect.Type) bool {
	if rt == nil || rt.Kind() == reflect.Interface || t.Kind == KindAny {
		return true
	}
	switch t.Kind {
	case KindString:
		// Numbers and booleans read as their text, as they do interpolated into a string.
		switch rt.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			return true
		}
		return false
	case KindInt:
		switch rt.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return true
		}
		return false
	case KindBool:
		return rt.Kind() == reflect.Bool
	case KindList:
		return rt.Kind() == reflect.Slice || rt.Kind() == reflect.Array
	case KindMap, KindObject:
		return rt.Kind() == reflect.Map || rt.Kind() == reflect.Struct
	}
	return false
}

// describeReflect names an expression result type the way the language does.
func describeReflect(rt reflect.Type) string {
	if rt == nil {
		return "nil"
	}
	switch rt.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Bool:
		return "bool"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "map"
	}
	return rt.String()
}

// Coerce converts a run-time value to type t, or says why it does not fit. Lists become []any,
// maps and objects map[string]any; numbers that are whole become int.
func Coerce(v any, t *Type) (any, error) {
	switch t.Kind {
	case KindAny:
		return v, nil
	case KindString:
		switch x := v.(type) {
		case string:
			return x, nil
		case int, int64, float64, bool:
			// A scalar of unknown static type (from a map of any, a vars file) reads as its text.
			return stringify(x), nil
		}
	case KindInt:
		switch n := v.(type) {
		case int:
			return n, nil
		case int64:
			return int(n), nil
		case int32:
			return int(n), nil
		case uint64:
			return int(n), nil
		case float64:
			if n == float64(int(n)) {
				return int(n), nil
			}
		}
	case KindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case KindList:
		rv := reflect.ValueOf(v)
		if v != nil && (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) {
			out := make([]any, rv.Len())
			for i := range out {
				e, err := Coerce(rv.Index(i).Interface(), t.Elem)
				if err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
				out[i] = e
			}
			return out, nil
		}
	case KindMap, KindObject:
		rv := reflect.ValueOf(v)
		if v != nil && rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
			out := make(map[string]any, rv.Len())
			iter := rv.MapRange()
			for iter.Next() {
				k := iter.Key().String()
				et := t.Elem
				if t.Kind == KindObject {
					f := t.Field(k)
					if f == nil {
						return nil, fmt.Errorf("unknown key %q", k)
					}
					et = f.Type
				}
				e, err := Coerce(iter.Value().Interface(), et)
				if err != nil {
					return nil, fmt.Errorf("key %q: %w", k, err)
				}
				out[k] = e
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("expected %s, got %s", t, describeValue(v))
}

// describeValue names the language type of a run-time value.
func describeValue(v any) string {
	if v == nil {
		return "nil"
	}
	return describeReflect(reflect.TypeOf(v))
}
