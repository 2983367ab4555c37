package engine

import (
	"bytes"
	"encoding/json"
)

// Unknown stands, in a dry run, for a value only a run would produce: one that reads a step's
// outputs, or the item of a for_each over them. The executor never sees one; a plan shows it as
// its Text, and a step's Planner asks Known rather than guessing from the text.
type Unknown struct {
	// Text is how a plan shows the value: "<source>" for one expression
	// ("<steps.launch.instance_id>"), or a string as written with each expression only a run can
	// evaluate in that form ("http://<steps.launch.private_ip>:8080").
	Text string
}

// String returns u.Text.
func (u Unknown) String() string { return u.Text }

// MarshalJSON writes u as its Text, so JSON events show a plan's unknowns as strings (with < and >
// as they are: an encoder that escapes HTML escapes them again).
func (u Unknown) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(u.Text); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Known reports whether v holds no Unknown anywhere inside it (in a list, a map, or as itself).
func Known(v any) bool {
	switch x := v.(type) {
	case Unknown:
		return false
	case []any:
		for _, e := range x {
			if !Known(e) {
				return false
			}
		}
	case map[string]any:
		for _, e := range x {
			if !Known(e) {
				return false
			}
		}
	}
	return true
}
