package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// readerType is a testType that says its Run only reads.
type readerType struct{ *testType }

func (readerType) ReadOnly() bool { return true }

// previewType is a testType that changes things and previews what it would change.
type previewType struct {
	*testType
	preview func(ctx context.Context, args map[string]any) ([]string, error)
}

func (p previewType) Preview(ctx context.Context, rt *Runtime, args map[string]any) ([]string, error) {
	return p.preview(ctx, args)
}

func (p previewType) Plan(rt *Runtime, args map[string]any) []string {
	return []string{fmt.Sprintf("delete what %v selects", args["text"])}
}

// readPlan is a workflow a dry run that reads plans exactly: a list read, a for_each over what it
// read, a step skipped for what it read, a deletion of what it read, and a step that writes.
const readPlan = `name: x
inputs:
  client: {default: acme}
steps:
  - id: find
    uses: test.find
    with: {text: "${{ inputs.client }}"}
  - id: each
    uses: test.find
    for_each: ${{ steps.find.list }}
    with: {text: "${{ item }}"}
  - id: none
    uses: test.echo
    if: ${{ len(steps.find.list) == 0 }}
    with: {text: never}
  - id: gone
    uses: test.delete
    with: {text: "${{ join(steps.find.list, ',') }}${{ steps.none.text }}", list: "${{ map(steps.each, .list[1]) }}"}
  - id: write
    uses: test.write
    with: {text: "${{ steps.find.secret }}"}
outputs:
  ids: ${{ steps.find.list }}
  deleted: ${{ steps.gone.text }}
`

// readTypes are readPlan's step types: find reads (it records whether its context was a dry
// run's), delete previews, write must never run in a plan.
func readTypes(t *testing.T, finds *atomic.Int32, fail error) []*testType {
	listFields := []Field{{Name: "text", Type: String()}, {Name: "list", Type: ListOf(String())}}
	find := &testType{name: "test.find", inputs: listFields[:1],
		outputs: []Field{{Name: "list", Type: ListOf(String())}, {Name: "secret", Type: String(), Secret: true}},
		run: func(ctx context.Context, args map[string]any) (map[string]any, error) {
			finds.Add(1)
			if !DryRun(ctx) {
				t.Error("a plan's read was not given a dry run's context")
			}
			if fail != nil {
				return nil, fail
			}
			return map[string]any{"list": []any{args["text"].(string) + "-1", args["text"].(string) + "-2"}, "secret": "s3cret-read"}, nil
		}}
	never := func(ctx context.Context, args map[string]any) (map[string]any, error) {
		t.Errorf("a step that changes things ran in a plan, with %v", args)
		return nil, errors.New("ran")
	}
	return []*testType{
		find,
		{name: "test.delete", inputs: listFields, outputs: listFields[:1], run: never},
		{name: "test.write", inputs: listFields[:1], run: never},
	}
}

// readCatalog wraps readTypes as the engine sees them: find a Reader, delete a Previewer.
func readCatalog(t *testing.T, finds *atomic.Int32, fail error, previews *[]map[string]any) testCatalog {
	types := readTypes(t, finds, fail)
	c := catalog()
	c["test.find"] = readerType{types[0]}
	c["test.delete"] = previewType{types[1], func(ctx context.Context, args map[string]any) ([]string, error) {
		if !DryRun(ctx) {
			t.Error("a preview was not given a dry run's context")
		}
		*previews = append(*previews, args)
		return []string{"delete " + args["text"].(string)}, nil
	}}
	c["test.write"] = types[2]
	return c
}

// A dry run that reads runs the step that only reads, for real, and plans the rest with what it
// read: a for_each over it item by item, an if decided, a preview of exactly what would be
// deleted, the outputs known; the step that writes never runs, and a secret read stays masked.
func TestPlanReads(t *testing.T) {
	var finds atomic.Int32
	var previews []map[string]any
	wf, err := Load("wf.yaml", []byte(readPlan), readCatalog(t, &finds, nil, &previews))
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	var text strings.Builder
	err = Plan(context.Background(), wf, Options{Reads: true, Masker: new(Masker), Inputs: map[string]any{"client": "acme"}, Events: func(e Event) {
		events = append(events, e)
		json.NewEncoder(&text).Encode(e)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if finds.Load() != 3 {
		t.Errorf("the reads ran %d times, want 3 (find, and each for each item it found)", finds.Load())
	}
	byStep := map[string][]Event{}
	for _, e := range events {
		byStep[e.Step] = append(byStep[e.Step], e)
	}
	if f := byStep["find"]; len(f) != 1 || f[0].Status != StatusRead || !reflect.DeepEqual(f[0].Outputs["list"], []any{"acme-1", "acme-2"}) {
		t.Errorf("find planned as %+v, want read, with its list", f)
	}
	if each := byStep["each"]; len(each) != 2 || each[1].With["text"] != "acme-2" || each[1].Status != StatusRead {
		t.Errorf("each planned as %+v, want two items read, the second acme-2", each)
	}
	if none := byStep["none"]; len(none) != 1 || none[0].Status != StatusSkipped {
		t.Errorf("none planned as %+v, want skipped", none)
	}
	gone := byStep["gone"]
	if len(gone) != 1 || !reflect.DeepEqual(gone[0].Calls, []string{"delete acme-1,acme-2"}) || gone[0].Status != "planned" {
		t.Errorf("gone planned as %+v, want its preview's line", gone)
	}
	if len(previews) != 1 || !reflect.DeepEqual(previews[0]["list"], []any{"acme-1-2", "acme-2-2"}) {
		t.Errorf("the preview was given %v, want the items' texts as a typed list", previews)
	}
	last := events[len(events)-1]
	if want := map[string]any{"ids": []any{"acme-1", "acme-2"}, "deleted": Unknown{Text: "<steps.gone.text>"}}; !reflect.DeepEqual(last.Outputs, want) {
		t.Errorf("outputs %#v, want %#v", last.Outputs, want)
	}
	if strings.Contains(text.String(), "s3cret-read") {
		t.Errorf("a secret read in the plan was printed:\n%s", text.String())
	}
	if w := byStep["write"]; len(w) != 1 || w[0].With["text"] != "***" {
		t.Errorf("write planned as %+v, want its secret argument masked", w)
	}
}

// Without Reads a dry run runs nothing and previews nothing: what the read would give stays
// unknown, and so does everything computed from it.
func TestPlanWithoutReads(t *testing.T) {
	var finds atomic.Int32
	var previews []map[string]any
	wf, err := Load("wf.yaml", []byte(readPlan), readCatalog(t, &finds, nil, &previews))
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	err = Plan(context.Background(), wf, Options{Masker: new(Masker), Inputs: map[string]any{"client": "acme"}, Events: func(e Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if finds.Load() != 0 || len(previews) != 0 {
		t.Errorf("a plan without reads read %d times and previewed %d times", finds.Load(), len(previews))
	}
	for _, e := range events {
		if e.Step == "gone" && !reflect.DeepEqual(e.Calls, []string{"delete what <join(steps.find.list, ',')><steps.none.text> selects"}) {
			t.Errorf("gone planned %q, want its plan over unknowns", e.Calls)
		}
		if e.Step == "each" && e.Iteration != nil {
			t.Errorf("each planned item by item over a list only a run knows: %+v", e)
		}
	}
}

// A read that fails fails the plan, and says it was a read; a read whose arguments only a run
// knows is not made.
func TestPlanReadFails(t *testing.T) {
	var finds atomic.Int32
	var previews []map[string]any
	wf, err := Load("wf.yaml", []byte(readPlan), readCatalog(t, &finds, errors.New("no credentials"), &previews))
	if err != nil {
		t.Fatal(err)
	}
	err = Plan(context.Background(), wf, Options{Reads: true, Masker: new(Masker), Inputs: map[string]any{"client": "acme"}})
	if err == nil || !ReadFailed(err) || !strings.Contains(err.Error(), `step "find", read to plan exactly, failed: no credentials`) {
		t.Errorf("Plan = %v (ReadFailed %t), want the read's failure", err, ReadFailed(err))
	}
	if ReadFailed(errors.New("other")) {
		t.Error("ReadFailed of an error that is not a read's")
	}

	finds.Store(0)
	wf, err = Load("wf.yaml", []byte(readPlan), readCatalog(t, &finds, nil, &previews))
	if err != nil {
		t.Fatal(err)
	}
	err = Plan(context.Background(), wf, Options{Reads: true, Masker: new(Masker), Inputs: map[string]any{"client": Unknown{Text: "<inputs.client>"}}})
	if err != nil || finds.Load() != 0 || len(previews) != 0 {
		t.Errorf("Plan = %v after %d reads and %d previews, want no read of unknown arguments", err, finds.Load(), len(previews))
	}
}

// checkedType is a readerType whose Check refuses every argument.
type checkedType struct{ readerType }

func (checkedType) Check(args map[string]any) error { return errors.New("text is not a client") }

// A step a run would refuse before any call fails the plan the same way, before its read, and
// that is not a failed read.
func TestPlanReadChecked(t *testing.T) {
	var finds atomic.Int32
	var previews []map[string]any
	c := readCatalog(t, &finds, nil, &previews)
	c["test.find"] = checkedType{c["test.find"].(readerType)}
	wf, err := Load("wf.yaml", []byte(readPlan), c)
	if err != nil {
		t.Fatal(err)
	}
	err = Plan(context.Background(), wf, Options{Reads: true, Masker: new(Masker), Inputs: map[string]any{"client": "acme"}})
	if err == nil || ReadFailed(err) || err.Error() != `step "find" would fail: text is not a client` || finds.Load() != 0 {
		t.Errorf("Plan = %v (ReadFailed %t) after %d reads; want the check's error, no read", err, ReadFailed(err), finds.Load())
	}
}
