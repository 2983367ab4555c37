package engine

import (
	"context"
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
	err := Plan(context.Background(), wf, Options{Inputs: map[string]any{"host": "<db>"}, Masker: new(Masker), Events: func(e Event) {
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

// Open inputs stand for any run: an input given is as given, every other one Unknown, required or
// defaulted; a for_each over them is planned once, its item unknown too.
func TestOpenInputs(t *testing.T) {
	wf := load(t, `name: x
inputs:
  client: {required: true, pattern: '^[a-z]+$'}
  prefix: {default: "${{ inputs.client }}."}
  params: {type: map, default: {}}
  zone: {default: local.}
steps:
  - id: put
    uses: test.echo
    for_each: ${{ inputs.params }}
    with:
      text: ${{ inputs.prefix }}${{ item.key }}
      map: {zone: "${{ inputs.zone }}"}
`)
	inputs, err := wf.OpenInputs(map[string]Given{"zone": {Value: "corp.", From: "-v"}}, nil, new(Masker))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"client": Unknown{Text: "<inputs.client>"}, "prefix": Unknown{Text: "<inputs.prefix>"},
		"params": Unknown{Text: "<inputs.params>"}, "zone": "corp."}
	if !reflect.DeepEqual(inputs, want) {
		t.Errorf("OpenInputs\n got %#v\nwant %#v", inputs, want)
	}
	var with []map[string]any
	err = Plan(context.Background(), wf, Options{Inputs: inputs, Masker: new(Masker), Events: func(e Event) {
		if e.Event == "plan" {
			with = append(with, e.With)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(with) != 1 || with[0]["text"] != (Unknown{Text: "<inputs.prefix><item.key>"}) || !reflect.DeepEqual(with[0]["map"], map[string]any{"zone": "corp."}) {
		t.Errorf("planned %#v, want one plan of text <inputs.prefix><item.key> in zone corp.", with)
	}
	if _, err := wf.OpenInputs(map[string]Given{"client": {Value: "ACME", From: "-v"}}, nil, new(Masker)); err == nil {
		t.Error("a given value that breaks its pattern was accepted")
	}
}
