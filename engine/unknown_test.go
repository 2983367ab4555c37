package engine

import (
	"reflect"
	"testing"
)

// In a plan, a value only a run would produce is an Unknown, alone, interpolated into a string or
// inside a list; what the plan knows stays a plain value, even when it looks like an unknown.
func TestPlanUnknowns(t *testing.T) {
	wf := load(t, `name: x
inputs:
  host: {default: "<db>"}
steps:
  - id: a
    uses: test.echo
    with: {text: hello}
  - id: b
    uses: test.echo
    with:
      text: http://${{ steps.a.text }}:${{ inputs.host }}
      list: ["${{ steps.a.text }}", "${{ inputs.host }}"]
      map: {k: "${{ inputs.host }}"}
      count: ${{ steps.a.count }}
`)
	var with map[string]any
	err := Plan(wf, Options{Inputs: map[string]any{"host": "<db>"}, Masker: new(Masker), Events: func(e Event) {
		if e.Event == "plan" && e.Step == "b" {
			with = e.With
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"text":  Unknown{Text: "http://<steps.a.text>:<db>"},
		"list":  []any{Unknown{Text: "<steps.a.text>"}, "<db>"},
		"map":   map[string]any{"k": "<db>"},
		"count": Unknown{Text: "<steps.a.count>"},
		"flag":  true,
	}
	if !reflect.DeepEqual(with, want) {
		t.Errorf("plan arguments\n got %#v\nwant %#v", with, want)
	}
	for name, known := range map[string]bool{"text": false, "list": false, "map": true, "count": false, "flag": true} {
		if Known(with[name]) != known {
			t.Errorf("Known(%s) = %t, want %t", name, !known, known)
		}
	}
}
