package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testType is a step type for the engine's own tests: it returns its arguments as outputs (those
// whose names are outputs), after calling run if set.
type testType struct {
	name    string
	inputs  []Field
	outputs []Field
	run     func(ctx context.Context, args map[string]any) (map[string]any, error)
}

func (t *testType) Name() string     { return t.name }
func (t *testType) Doc() string      { return "test step " + t.name }
func (t *testType) Inputs() []Field  { return t.inputs }
func (t *testType) Outputs() []Field { return t.outputs }
func (t *testType) Run(ctx context.Context, rt *Runtime, args map[string]any) (map[string]any, error) {
	if t.run != nil {
		return t.run(ctx, args)
	}
	out := map[string]any{}
	for _, f := range t.outputs {
		if v, ok := args[f.Name]; ok {
			out[f.Name] = v
		}
	}
	return out, nil
}

type testCatalog map[string]StepType

func (c testCatalog) Lookup(name string) (StepType, bool) { t, ok := c[name]; return t, ok }
func (c testCatalog) Names() []string {
	var names []string
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func catalog(types ...*testType) testCatalog {
	c := testCatalog{
		"test.noop": &testType{name: "test.noop"},
		"test.echo": &testType{
			name:    "test.echo",
			inputs:  []Field{{Name: "text", Type: String()}, {Name: "count", Type: Int()}, {Name: "list", Type: ListOf(String())}, {Name: "map", Type: MapOf(String())}, {Name: "flag", Type: Bool(), Default: true}},
			outputs: []Field{{Name: "text", Type: String()}, {Name: "count", Type: Int()}, {Name: "list", Type: ListOf(String())}, {Name: "map", Type: MapOf(String())}, {Name: "flag", Type: Bool()}},
		},
		"test.secret": &testType{
			name:    "test.secret",
			inputs:  []Field{{Name: "text", Type: String(), Required: true}},
			outputs: []Field{{Name: "text", Type: String(), Secret: true}},
		},
	}
	for _, t := range types {
		c[t.name] = t
	}
	return c
}

func load(t *testing.T, src string, types ...*testType) *Workflow {
	t.Helper()
	wf, err := Load("wf.yaml", []byte(src), catalog(types...))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return wf
}

func loadErrors(t *testing.T, src string) []string {
	t.Helper()
	_, err := Load("wf.yaml", []byte(src), catalog())
	if err == nil {
		t.Fatalf("load succeeded; want errors")
	}
	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, not Errors: %v", err, err)
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Error()
	}
	return out
}

func TestSplitTemplate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"plain", "T(plain)"},
		{"${{ a }}", "E(a@4)"},
		{"x-${{a}}-y", "T(x-)E(a@5)T(-y)"},
		{`${{ "}}" }}`, `E("}}"@4)`},
		{"${{ a }}${{ b }}", "E(a@4)E(b@12)"},
		{"é${{ a }}", "T(é)E(a@5)"},
	} {
		segs, _, ok := splitTemplate(tc.in)
		if !ok {
			t.Errorf("%q: unterminated", tc.in)
			continue
		}
		var b strings.Builder
		for _, s := range segs {
			if s.isExpr {
				fmt.Fprintf(&b, "E(%s@%d)", s.text, s.offset)
			} else {
				fmt.Fprintf(&b, "T(%s)", s.text)
			}
		}
		if b.String() != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, b.String(), tc.want)
		}
	}
	if _, at, ok := splitTemplate("ab ${{ x "); ok || at != 3 {
		t.Errorf("unterminated: ok=%v at=%d, want false 3", ok, at)
	}
}

// TestErrorColumns checks that an error inside an expression points at the offending token in
// every YAML scalar style.
func TestErrorColumns(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       string
	}{
		{"plain", `      text: ${{ inputs.nope }}`, "wf.yaml:6:24"},
		{"double", `      text: "a ${{ inputs.nope }}"`, "wf.yaml:6:27"},
		{"double escapes", `      text: "\t\"${{ inputs.nope }}"`, "wf.yaml:6:29"},
		{"single", `      text: 'it''s ${{ inputs.nope }}'`, "wf.yaml:6:31"},
		{"flow seq", `      list: [a, "${{ inputs.nope }}"]`, "wf.yaml:6:29"},
		{"literal", "      text: |\n        first\n          ${{ inputs.nope }}", "wf.yaml:8:22"},
		{"folded", "      text: >\n        first\n        ${{ inputs.nope }}", "wf.yaml:8:20"},
		{"double over lines", "      text: \"a ${{ 1 }}\n        b ${{ inputs.nope }}\"", "wf.yaml:7:22"},
		{"plain over lines", "      text: a ${{ 1 }}\n        b ${{ inputs.nope }}", "wf.yaml:7:22"},
	} {
		src := "name: x\nsteps:\n  - id: a\n    uses: test.echo\n    with:\n" + tc.line + "\n"
		errs := loadErrors(t, src)
		if len(errs) != 1 || !strings.HasPrefix(errs[0], tc.want+": unknown input \"nope\"") {
			t.Errorf("%s: got %q, want one error at %s", tc.name, errs, tc.want)
		}
	}
}

func TestCheckErrors(t *testing.T) {
	src := `name: x
inputs:
  n: {type: int, default: 1}
  s: {default: a}
steps:
  - id: a
    uses: test.echo
    with:
      text: ${{ inputs.s }}
  - id: b
    uses: test.echo
    with:
      count: ${{ steps.a.text }}
      list: ${{ steps.a.count }}
      text: ${{ steps.b.text }}
      map: ${{ steps.c.map }}
  - id: c
    uses: test.echo
    for_each: ${{ inputs.n }}
    with:
      text: ${{ steps.a.list.x }}
  - id: e
    uses: test.echo
    for_each: [1, 2]
  - id: d
    uses: test.echo
    with:
      text: ${{ steps.e.text }}
      count: ${{ len(steps.e) + inputs.n }}
`
	got := loadErrors(t, src)
	want := []string{
		`wf.yaml:13:18: ${{ steps.a.text }} is string, but this value in step "b" needs int`,
		`wf.yaml:14:17: ${{ steps.a.count }} is int, but this value in step "b" needs list<string>`,
		`wf.yaml:15:23: step "b" cannot use its own outputs`,
		`wf.yaml:16:22: step "c" is declared later (line 17): a step can only use the outputs of steps before it`,
		`wf.yaml:19:19: for_each needs a list or a map, but this expression is int`,
		`wf.yaml:21:30: list<string> has no fields: .x cannot be read from it`,
		`wf.yaml:28:25: steps.e is a list (the step runs for_each item): index it, e.g. steps.e[0].text`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func run(t *testing.T, wf *Workflow, inputs map[string]Given, opt Options) (*Result, []Event) {
	t.Helper()
	if opt.Masker == nil {
		opt.Masker = new(Masker)
	}
	in, err := wf.ResolveInputs(inputs, opt.Env, opt.Masker)
	if err != nil {
		t.Fatalf("inputs: %v", err)
	}
	opt.Inputs = in
	var events []Event
	opt.Events = func(e Event) { events = append(events, e) }
	if opt.Sleep == nil {
		opt.Sleep = func(context.Context, time.Duration) error { return nil }
	}
	return Run(context.Background(), wf, opt), events
}

func TestRunValuesKeepTheirTypes(t *testing.T) {
	wf := load(t, `name: x
inputs:
  n: {type: int, default: 2}
  m: {type: map, default: {b: "2", a: "1"}}
steps:
  - id: a
    uses: test.echo
    with:
      count: ${{ inputs.n * 3 }}
      text: n=${{ inputs.n }} m=${{ inputs.m }}
      list: ${{ keys(inputs.m) | sortBy(#) }}
  - id: each
    uses: test.echo
    for_each: ${{ inputs.m }}
    with:
      text: ${{ item.key }}=${{ item.value }}
outputs:
  count: ${{ steps.a.count }}
  text: ${{ steps.a.text }}
  list: ${{ steps.a.list }}
  each: "${{ map(steps.each, #.text) }}"
  flag: ${{ steps.a.flag }}
`)
	res, _ := run(t, wf, nil, Options{})
	if res.Status != StatusSucceeded {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	got := fmt.Sprint(res.Outputs)
	want := `map[count:6 each:[a=1 b=2] flag:true list:[a b] text:n=2 m={"a":"1","b":"2"}]`
	if got != want {
		t.Errorf("outputs\n got %s\nwant %s", got, want)
	}
}

func TestRetryBackoffAndCancellation(t *testing.T) {
	var calls atomic.Int32
	flaky := &testType{name: "test.flaky", run: func(ctx context.Context, _ map[string]any) (map[string]any, error) {
		if calls.Add(1) < 3 {
			return nil, errors.New("not yet")
		}
		return nil, nil
	}}
	wf := load(t, `name: x
steps:
  - id: a
    uses: test.flaky
    retry: {attempts: 4, delay: 100ms, backoff: 3}
`, flaky)
	var waits []time.Duration
	res, events := run(t, wf, nil, Options{
		Sleep:  func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
		Jitter: func(d time.Duration) time.Duration { return d },
	})
	if res.Status != StatusSucceeded || calls.Load() != 3 {
		t.Fatalf("status %s after %d calls", res.Status, calls.Load())
	}
	if fmt.Sprint(waits) != "[100ms 300ms]" {
		t.Errorf("waits %v, want [100ms 300ms]", waits)
	}
	last := events[len(events)-2]
	if last.Event != "step_finished" || last.Attempt != 3 {
		t.Errorf("last step event %+v, want step_finished after 3 attempts", last)
	}

	// A cancelled run is not retried, and the step sees the cancellation.
	calls.Store(0)
	ctx, cancel := context.WithCancel(context.Background())
	blocked := &testType{name: "test.block", run: func(ctx context.Context, _ map[string]any) (map[string]any, error) {
		calls.Add(1)
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	wf = load(t, "name: x\nsteps:\n  - id: a\n    uses: test.block\n    retry: {attempts: 5}\n  - id: b\n    uses: test.noop\n", blocked)
	r := Run(ctx, wf, Options{})
	if r.Status != StatusCancelled || calls.Load() != 1 {
		t.Errorf("status %s after %d calls, want cancelled after 1", r.Status, calls.Load())
	}
}

func TestTimeout(t *testing.T) {
	slow := &testType{name: "test.slow", run: func(ctx context.Context, _ map[string]any) (map[string]any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	wf := load(t, "name: x\nsteps:\n  - id: a\n    uses: test.slow\n    timeout: 10ms\n", slow)
	res, _ := run(t, wf, nil, Options{})
	if res.Status != StatusFailed || !strings.Contains(res.Err.Error(), "timed out after 10ms") {
		t.Errorf("got %s %v, want failed, timed out", res.Status, res.Err)
	}
}

func TestSecretsAreMaskedEverywhere(t *testing.T) {
	wf := load(t, `name: x
inputs:
  pw: {secret: true}
steps:
  - id: a
    uses: test.echo
    with:
      text: user:${{ inputs.pw }}
      map: {k: "${{ toBase64(inputs.pw) }}"}
  - id: s
    uses: test.secret
    with:
      text: ${{ upper("from step") }}
  - id: b
    uses: test.echo
    with:
      text: ${{ lower(steps.s.text) }}
outputs:
  a: ${{ steps.a.text }}
  enc: ${{ steps.a.map.k }}
  derived: ${{ steps.b.text }}
`)
	m := new(Masker)
	res, events := run(t, wf, map[string]Given{"pw": {Value: "hunter2", Text: true}}, Options{Masker: m})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	all := fmt.Sprint(events)
	for _, leak := range []string{"hunter2", "aHVudGVyMg", "FROM STEP", "from step"} {
		if strings.Contains(all, leak) {
			t.Errorf("%q appears in the events: %s", leak, all)
		}
	}
	if fmt.Sprint(res.Outputs) != "map[a:*** derived:*** enc:***]" {
		t.Errorf("outputs %v", res.Outputs)
	}
}

func TestMasker(t *testing.T) {
	m := new(Masker)
	m.Add("abcd")
	m.Add("abcdef")
	m.Add("line1\nline2")
	m.Add("on")
	if got := m.Mask("x abcdef y abcd z"); got != "x *** y *** z" {
		t.Errorf("got %q", got)
	}
	if got := m.Mask(`"line1\nline2"`); got != `"***"` {
		t.Errorf("quoted form: got %q", got)
	}
	if got := m.Mask("line2 alone"); got != "*** alone" {
		t.Errorf("one line of a multi-line secret: got %q", got)
	}
	// A very short secret is masked as a whole value, not inside other text.
	if got, whole := m.Mask("turned on"), m.Mask("on"); got != "turned on" || whole != "***" {
		t.Errorf("short secret: %q, %q", got, whole)
	}
	if !m.Tainted(map[string]any{"a": []any{"zabcdz"}}) || !m.Tainted([]any{"on"}) || m.Tainted([]any{"ab", 1, "turned on"}) {
		t.Error("Tainted is wrong")
	}
}

// TestTaintOfContainers: passing on a map that holds a secret keeps its plain entries plain,
// while what an expression computes from the secret is secret.
func TestTaintOfContainers(t *testing.T) {
	wf := load(t, `name: x
inputs:
  pw: {secret: true}
steps:
  - id: params
    uses: test.echo
    with:
      map: {HOST: db.internal, PASSWORD: "${{ inputs.pw }}"}
  - id: copy
    uses: test.echo
    with:
      map: ${{ steps.params.map }}
  - id: derived
    uses: test.echo
    with:
      list: ${{ [steps.params.map.HOST, upper(steps.params.map.PASSWORD)] }}
`)
	m := new(Masker)
	res, events := run(t, wf, map[string]Given{"pw": {Value: "hunter2", Text: true}}, Options{Masker: m})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	var copied, derived string
	for _, e := range events {
		if e.Event == "step_finished" && e.Step == "copy" {
			copied = fmt.Sprint(e.Outputs["map"])
		}
		if e.Event == "step_finished" && e.Step == "derived" {
			derived = fmt.Sprint(e.Outputs["list"])
		}
	}
	if copied != "map[HOST:db.internal PASSWORD:***]" || derived != "[db.internal ***]" {
		t.Errorf("copied %s, derived %s", copied, derived)
	}
	if m.Mask("HUNTER2") != "***" {
		t.Error("the upper-cased secret is not masked")
	}
}

func TestInputsErrors(t *testing.T) {
	wf := load(t, `name: x
inputs:
  a: {required: true}
  b: {type: int}
  c: {type: list}
  d: {enum: [x, y], default: x}
`+"steps:\n  - id: s\n    uses: test.noop\n")
	_, err := wf.ResolveInputs(map[string]Given{
		"b": {Value: "1.5", Text: true, From: "-v b"},
		"c": {Value: "{not: a list}", Text: true, From: "-v c"},
		"d": {Value: "z", Text: true, From: "-v d"},
	}, nil, new(Masker))
	want := `wf.yaml:3:3: input "a" is required: give it with -v a=VALUE or in a --vars-file
wf.yaml:4:3: input "b" (-v b): expected int, got "1.5"
wf.yaml:5:3: input "c" (-v c): expected list<any>, got a mapping (write it as YAML or JSON, e.g. '[a, b]')
wf.yaml:6:3: input "d": z is not one of the allowed values: x, y`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestCommentHint(t *testing.T) {
	errs := loadErrors(t, "name: x\nsteps:\n  - id: a\n    uses: test.echo\n    with:\n      text: ${{ map([1], #) }}\n")
	if len(errs) != 1 || !strings.Contains(errs[0], "a # after a space starts a YAML comment") {
		t.Errorf("got %q", errs)
	}
}

// TestAliasBomb: aliases of aliases would expand to 10^8 values; the loader stops and says so.
func TestAliasBomb(t *testing.T) {
	lines := []string{"name: x", "a0: &a0 [x,x,x,x,x,x,x,x,x,x]"}
	for i := 1; i < 8; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), 10), ",")
		lines = append(lines, fmt.Sprintf("a%d: &a%d [%s]", i, i, refs))
	}
	lines = append(lines, "steps:", "  - id: s", "    uses: test.noop", "outputs:", "  o: *a7")
	errs := loadErrors(t, strings.Join(lines, "\n")+"\n")
	if !strings.Contains(strings.Join(errs, "\n"), "aliases expand the document by more than 200000 values") {
		t.Errorf("got %q", errs)
	}
}

// memOnce is an OnceStore in memory.
type memOnce map[string]bool

func (m memOnce) Done(_ context.Context, key string) (bool, string, error) {
	return m[key], "already ran", nil
}
func (m memOnce) Record(_ context.Context, key string) error { m[key] = true; return nil }

// TestOnce: a once step is recorded only after it succeeded, and skipped afterwards; a step
// skipped by its if, or one that failed, is not recorded.
func TestOnce(t *testing.T) {
	fail := true
	flaky := &testType{name: "test.flaky", run: func(context.Context, map[string]any) (map[string]any, error) {
		if fail {
			return nil, errors.New("boom")
		}
		return nil, nil
	}}
	wf := load(t, `name: w
inputs:
  skip: {type: bool, default: false}
steps:
  - id: first
    uses: test.noop
    once: instance
  - id: maybe
    uses: test.noop
    once: instance
    if: ${{ !inputs.skip }}
  - id: flaky
    uses: test.flaky
    once: instance
`, flaky)
	store := memOnce{}
	res, _ := run(t, wf, map[string]Given{"skip": {Value: "true", Text: true}}, Options{Once: store})
	if res.Status != StatusFailed || !store["w/first"] || store["w/maybe"] || store["w/flaky"] {
		t.Fatalf("first boot: %s, records %v", res.Status, store)
	}
	fail = false
	res, events := run(t, wf, nil, Options{Once: store})
	if res.Status != StatusSucceeded || !store["w/maybe"] || !store["w/flaky"] {
		t.Fatalf("second boot: %s %v, records %v", res.Status, res.Err, store)
	}
	if events[1].Step != "first" || events[1].Status != StatusSkipped || events[1].Reason != "once: already ran" {
		t.Errorf("first step on the second boot: %+v", events[1])
	}
	// Without a store, a once step cannot run.
	res, _ = run(t, wf, nil, Options{})
	if res.Status != StatusFailed || !strings.Contains(res.Err.Error(), "needs the instance's identity") {
		t.Errorf("without a store: %s %v", res.Status, res.Err)
	}
}

// TestSecretsTheReviewFound: a secret number, a secret read through the whole inputs object,
// and a short secret interpolated into text are all masked.
func TestSecretsTheReviewFound(t *testing.T) {
	wf := load(t, `name: x
inputs:
  pin: {type: int, secret: true}
  pw: {secret: true}
steps:
  - id: a
    uses: test.noop
outputs:
  pin: ${{ inputs.pin }}
  twice: ${{ inputs.pin * 2 }}
  all: ${{ toBase64(toJSON(inputs)) }}
  text: ${{ toBase64(string(inputs)) }}
  short: pw=${{ inputs.pw }}
`)
	res, events := run(t, wf, map[string]Given{"pin": {Value: "73519", Text: true}, "pw": {Value: "abc", Text: true}}, Options{})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	got := fmt.Sprint(res.Outputs)
	if got != "map[all:*** pin:*** short:*** text:*** twice:***]" {
		t.Errorf("outputs %s", got)
	}
	if all := fmt.Sprint(events); strings.Contains(all, "73519") || strings.Contains(all, "147038") || strings.Contains(all, "pw=abc") {
		t.Errorf("a secret in the events: %s", all)
	}
}

// TestOnceSkippedByIfNeedsNoIdentity: a once step whose if is false is skipped without asking
// for the instance's identity; an if that is not a bool at run time fails the step.
func TestOnceSkippedByIfNeedsNoIdentity(t *testing.T) {
	wf := load(t, "name: w\ninputs:\n  m: {type: map, default: {on: \"yes\"}}\nsteps:\n  - id: a\n    uses: test.noop\n    once: instance\n    if: false\n")
	if res, _ := run(t, wf, nil, Options{}); res.Status != StatusSucceeded {
		t.Errorf("%s %v", res.Status, res.Err)
	}
	wf = load(t, "name: w\ninputs:\n  m: {type: map, default: {on: \"yes\"}}\nsteps:\n  - id: a\n    uses: test.noop\n    if: ${{ inputs.m.on }}\n")
	res, _ := run(t, wf, nil, Options{})
	if res.Status != StatusFailed || !strings.Contains(res.Err.Error(), "if must be true or false; ${{ inputs.m.on }} is string") {
		t.Errorf("%s %v", res.Status, res.Err)
	}
}

func TestMerge(t *testing.T) {
	wf := load(t, `name: x
inputs:
  host: {}
  pw: {secret: true}
steps:
  - id: merged
    uses: test.echo
    with:
      map: '${{ merge({HOST: inputs.host}, nil, {PASSWORD: inputs.pw}) }}'
`)
	given := map[string]Given{"host": {Value: "db.internal", Text: true}, "pw": {Value: "hunter2", Text: true}}
	res, events := run(t, wf, given, Options{Masker: new(Masker)})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	for _, e := range events {
		if e.Event == "step_finished" && e.Step == "merged" {
			if got := fmt.Sprint(e.Outputs["map"]); got != "map[HOST:db.internal PASSWORD:***]" {
				t.Errorf("merged %s", got)
			}
		}
	}
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{map[string]any{"a": 1}, map[string]string{"a": "x"}}, `merge: key "a" is in its argument 1 and its argument 2; merge overwrites nothing`},
		{[]any{map[string]any{"a": 1}, []any{"a"}}, "merge takes maps; its argument 2 is a list"},
	} {
		if _, err := merge(c.args...); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("merge(%v) = %v, want %q", c.args, err, c.want)
		}
	}
	got, err := merge(map[string]any{"a": 1}, nil, map[string]string{"b": "x"})
	if err != nil || fmt.Sprint(got) != "map[a:1 b:x]" {
		t.Errorf("merge = %v, %v", got, err)
	}
}
