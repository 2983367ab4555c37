package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rendezvous is a step type whose runs wait for each other: each run of a step with `with.key`
// waits until `with.count` runs of that key are in progress together, so a test that uses it
// proves they ran side by side (one after the other, the first would wait forever; the test's
// context ends that).
func rendezvous() *testType {
	var mu sync.Mutex
	arrived := map[string]int{}
	gates := map[string]chan struct{}{}
	return &testType{
		name:    "test.meet",
		inputs:  []Field{{Name: "key", Type: String(), Required: true}, {Name: "count", Type: Int(), Default: 2}, {Name: "text", Type: String()}},
		outputs: []Field{{Name: "text", Type: String()}},
		run: func(ctx context.Context, args map[string]any) (map[string]any, error) {
			key := args["key"].(string)
			mu.Lock()
			if gates[key] == nil {
				gates[key] = make(chan struct{})
			}
			gate := gates[key]
			if arrived[key]++; arrived[key] == args["count"].(int) {
				close(gate)
			}
			mu.Unlock()
			select {
			case <-gate:
				return map[string]any{"text": args["text"]}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	}
}

func runEvents(t *testing.T, wf *Workflow, inputs map[string]any) (*Result, []Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	var events []Event
	res := Run(ctx, wf, Options{Inputs: inputs, Events: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	return res, events
}

func TestNeedsRunSideBySide(t *testing.T) {
	wf := load(t, `name: g
steps:
  - id: meta
    uses: test.echo
    with: {text: m}
  - id: params
    uses: test.meet
    needs: [meta]
    with: {key: k, text: "p-${{ steps.meta.text }}"}
  - id: dns
    uses: test.meet
    needs: [meta]
    with: {key: k, text: d}
  - id: env
    uses: test.echo
    needs: [params]
    with: {text: "${{ steps.params.text }}+${{ steps.meta.text }}"}
  - id: setup
    uses: test.echo
    with: {text: "${{ steps.dns.text }}"}
outputs:
  all: ${{ steps.env.text + " " + steps.setup.text }}
`, rendezvous())
	if !wf.Graph {
		t.Fatal("a workflow with needs is a graph")
	}
	after := map[string]string{}
	for _, st := range wf.Steps {
		var ids []string
		for _, a := range st.After {
			ids = append(ids, a.ID)
		}
		after[st.ID] = strings.Join(ids, ",")
	}
	want := map[string]string{"meta": "", "params": "meta", "dns": "meta", "env": "params", "setup": "dns,env"}
	if fmt.Sprint(after) != fmt.Sprint(want) {
		t.Errorf("after = %v, want %v", after, want)
	}
	res, events := runEvents(t, wf, nil)
	if res.Status != StatusSucceeded || res.Outputs["all"] != "p-m+m d" {
		t.Fatalf("result %s %v %v", res.Status, res.Outputs, res.Err)
	}
	var order []string
	for _, e := range events {
		if e.Event != "step_finished" {
			continue
		}
		order = append(order, e.Step)
		switch e.Step {
		case "meta", "params":
			if e.Needs != nil {
				t.Errorf("%s: needs %v; it waits for the step before it", e.Step, *e.Needs)
			}
		case "dns", "setup":
			if e.Needs == nil {
				t.Errorf("%s: no needs in its event", e.Step)
			}
		}
	}
	if got := strings.Join(order, " "); got != "meta params dns env setup" {
		t.Errorf("reported in the order %s, want the file's", got)
	}
}

func TestNoNeedsKeepsTheOrder(t *testing.T) {
	wf := load(t, `name: seq
steps:
  - id: a
    uses: test.echo
  - id: b
    uses: test.echo
  - id: c
    uses: test.echo
    with: {text: "${{ steps.a.text }}"}
`)
	if wf.Graph {
		t.Fatal("no needs: not a graph")
	}
	for i, st := range wf.Steps {
		if i > 0 && (len(st.After) != 1 || st.After[0] != wf.Steps[i-1]) {
			t.Errorf("%s waits for %v, want the step before it", st.ID, st.After)
		}
	}
}

func TestNeedsFailureCancelsTheOthers(t *testing.T) {
	fail := &testType{name: "test.fail", run: func(ctx context.Context, _ map[string]any) (map[string]any, error) {
		return nil, errors.New("boom")
	}}
	wf := load(t, `name: g
steps:
  - id: a
    uses: test.noop
  - id: slow
    uses: test.meet
    needs: [a]
    with: {key: never}
  - id: bad
    uses: test.fail
    needs: [a]
  - id: later
    uses: test.noop
    needs: [bad]
`, rendezvous(), fail)
	res, events := runEvents(t, wf, nil)
	if res.Status != StatusFailed || !strings.Contains(res.Err.Error(), `step "bad" failed: boom`) {
		t.Fatalf("result %s %v", res.Status, res.Err)
	}
	status := map[string]string{}
	for _, e := range events {
		if e.Event == "step_finished" {
			status[e.Step] = e.Status + " " + e.Error
		}
	}
	if status["slow"] != `cancelled cancelled: step "bad" failed` {
		t.Errorf("slow: %q", status["slow"])
	}
	if _, ran := status["later"]; ran {
		t.Errorf("later ran after bad failed")
	}
}

func TestNeedsErrors(t *testing.T) {
	src := `name: x
steps:
  - id: a
    uses: test.echo
    needs: [b]
  - id: b
    uses: test.echo
    needs: [c, a, a]
  - id: c
    uses: test.echo
    needs: [c, nope, aa]
  - id: d
    uses: test.echo
    needs: a
  - id: e
    uses: test.echo
    parallel: 2
`
	got := strings.Join(loadErrors(t, src), "\n")
	want := strings.Join([]string{
		`wf.yaml:5:13: needs form a cycle: a -> b -> a`,
		`wf.yaml:8:13: step "c" is declared later (line 9): needs names only steps declared before this one`,
		`wf.yaml:8:19: step "a" is listed twice in needs`,
		`wf.yaml:11:13: step "c" cannot need itself`,
		`wf.yaml:11:16: unknown step "nope" in needs; expected one of: a, b`,
		`wf.yaml:11:22: unknown step "aa" in needs; did you mean "a"?`,
		`wf.yaml:14:12: needs must be a list of step ids, e.g. [meta], got string "a"`,
		`wf.yaml:17:15: parallel applies to a step with for_each (it says how its items run)`,
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParallelItems(t *testing.T) {
	var running, most atomic.Int32
	slow := &testType{
		name:    "test.slow",
		inputs:  []Field{{Name: "n", Type: Int()}},
		outputs: []Field{{Name: "n", Type: Int()}},
		run: func(ctx context.Context, args map[string]any) (map[string]any, error) {
			now := running.Add(1)
			defer running.Add(-1)
			for {
				m := most.Load()
				if now <= m || most.CompareAndSwap(m, now) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			if args["n"].(int)%4 == 3 {
				return nil, fmt.Errorf("odd one %d", args["n"])
			}
			return map[string]any{"n": args["n"].(int) * 10}, nil
		},
	}
	wf := load(t, `name: p
inputs:
  width: {type: int, default: 3}
steps:
  - id: each
    uses: test.slow
    for_each: [0, 1, 2, 3, 4, 5, 6, 7, 8]
    parallel: ${{ inputs.width }}
    continue_on_error: true
    with: {n: "${{ item }}"}
outputs:
  ns: ${{ map(steps.each, .n) }}
`, slow)
	res, events := runEvents(t, wf, map[string]any{"width": 3})
	if res.Status != StatusSucceeded {
		t.Fatalf("%s %v", res.Status, res.Err)
	}
	if got := fmt.Sprint(res.Outputs["ns"]); got != "[0 10 20 0 40 50 60 0 80]" {
		t.Errorf("outputs in item order: %s", got)
	}
	if m := most.Load(); m != 3 {
		t.Errorf("at most %d items at once, want 3", m)
	}
	seen := map[int]bool{}
	for _, e := range events {
		if e.Event == "step_finished" && e.Iteration != nil {
			if seen[*e.Iteration] || len(seen) != *e.Iteration {
				t.Errorf("item %d reported out of order", *e.Iteration)
			}
			seen[*e.Iteration] = true
		}
		if e.Event == "step_finished" && e.Iteration == nil && !strings.Contains(e.Error, "item 3: odd one 3 (items 7 failed too)") {
			t.Errorf("step's error: %q", e.Error)
		}
	}
	if len(seen) != 9 {
		t.Errorf("events for items %v, want all 9", seen)
	}
}

func TestParallelFailFast(t *testing.T) {
	var ran atomic.Int32
	second := make(chan struct{})
	fail := &testType{
		name:   "test.first",
		inputs: []Field{{Name: "n", Type: Int()}},
		run: func(ctx context.Context, args map[string]any) (map[string]any, error) {
			ran.Add(1)
			if args["n"].(int) == 0 {
				<-second // fail once item 1 runs beside it
				return nil, errors.New("first fails")
			}
			close(second)
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}
	wf := load(t, `name: p
steps:
  - id: each
    uses: test.first
    for_each: [0, 1, 2, 3, 4, 5]
    parallel: 2
    fail_fast: true
    with: {n: "${{ item }}"}
`, fail)
	res, events := runEvents(t, wf, nil)
	if res.Status != StatusFailed || !strings.HasSuffix(res.Err.Error(), "item 0: first fails") {
		t.Fatalf("%s %v", res.Status, res.Err)
	}
	if n := ran.Load(); n != 2 {
		t.Errorf("%d items ran; fail_fast should stop the rest", n)
	}
	for _, e := range events {
		if e.Event == "step_finished" && e.Iteration != nil && *e.Iteration == 1 && e.Status != StatusCancelled {
			t.Errorf("item 1 is %s, want cancelled", e.Status)
		}
	}
}

func TestParallelErrors(t *testing.T) {
	got := strings.Join(loadErrors(t, `name: x
inputs:
  s: {default: a}
steps:
  - id: a
    uses: test.echo
    for_each: [1]
    parallel: 0
  - id: b
    uses: test.echo
    for_each: [1]
    parallel: 65
  - id: c
    uses: test.echo
    for_each: [1]
    parallel: ${{ inputs.s }}
  - id: d
    uses: test.echo
    for_each: [1]
    parallel: ${{ item }}
`), "\n")
	want := strings.Join([]string{
		`wf.yaml:8:15: parallel must be a whole number from 1 to 64, got int 0`,
		`wf.yaml:12:15: parallel must be a whole number from 1 to 64, got int 65`,
		`wf.yaml:16:19: ${{ inputs.s }} is string, but this value in parallel needs int`,
		`wf.yaml:20:19: item is only defined in a step with for_each`,
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
