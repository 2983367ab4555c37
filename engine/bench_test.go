package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// bigWorkflow returns a workflow of n steps, each reading the previous step's outputs.
func bigWorkflow(n int) []byte {
	var b strings.Builder
	b.WriteString("name: big\ninputs:\n  n: {type: int, default: 1}\n  s: {default: x}\nsteps:\n")
	b.WriteString("  - id: s0\n    uses: test.echo\n    with:\n      text: ${{ inputs.s }}\n      count: ${{ inputs.n }}\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  - id: s%d\n    uses: test.echo\n    if: ${{ steps.s%d.flag }}\n    with:\n", i, i-1)
		fmt.Fprintf(&b, "      text: \"%d-${{ steps.s%d.text }}\"\n", i, i-1)
		fmt.Fprintf(&b, "      count: ${{ steps.s%d.count + 1 }}\n", i-1)
		fmt.Fprintf(&b, "      list: [a, \"${{ inputs.s }}\"]\n")
	}
	b.WriteString("outputs:\n  last: ${{ steps.s" + fmt.Sprint(n-1) + ".count }}\n")
	return []byte(b.String())
}

// BenchmarkLoad1000 is the cost of loading and checking a 1,000-step workflow: YAML, every key,
// every argument, and 3,000 expressions compiled against their typed environments.
func BenchmarkLoad1000(b *testing.B) {
	src := bigWorkflow(1000)
	cat := catalog()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Load("big.yaml", src, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepOverhead is the engine's own cost per step: events, argument evaluation and
// bookkeeping around a step type that does nothing.
func BenchmarkStepOverhead(b *testing.B) {
	var src strings.Builder
	src.WriteString("name: noop\nsteps:\n")
	const steps = 1000
	for i := 0; i < steps; i++ {
		fmt.Fprintf(&src, "  - id: s%d\n    uses: test.noop\n", i)
	}
	wf, err := Load("noop.yaml", []byte(src.String()), catalog())
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, wf, steps)
}

// BenchmarkStepWithExpressions is the per-step cost when each step evaluates an if and three
// arguments from the previous step's outputs.
func BenchmarkStepWithExpressions(b *testing.B) {
	const steps = 1000
	wf, err := Load("big.yaml", bigWorkflow(steps), catalog())
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, wf, steps)
}

func benchRun(b *testing.B, wf *Workflow, steps int) {
	m := new(Masker)
	inputs, err := wf.ResolveInputs(nil, nil, m)
	if err != nil {
		b.Fatal(err)
	}
	events := 0
	opt := Options{Inputs: inputs, Masker: m, Events: func(Event) { events++ }}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := Run(context.Background(), wf, opt); res.Status != StatusSucceeded {
			b.Fatal(res.Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
}

// BenchmarkWideGraph is the per-step cost of scheduling a graph: 999 steps that each need only the
// first, so up to MaxConcurrentSteps run at once, their events put back in file order.
func BenchmarkWideGraph(b *testing.B) {
	var src strings.Builder
	src.WriteString("name: wide\nsteps:\n  - id: s0\n    uses: test.noop\n")
	const steps = 1000
	for i := 1; i < steps; i++ {
		fmt.Fprintf(&src, "  - id: s%d\n    uses: test.noop\n    needs: [s0]\n", i)
	}
	wf, err := Load("wide.yaml", []byte(src.String()), catalog())
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, wf, steps)
}

// BenchmarkParallelItems is the per-item cost of a for_each of 1,000 items run 16 at a time.
func BenchmarkParallelItems(b *testing.B) {
	src := "name: items\ninputs:\n  n: {type: int, default: 1000}\nsteps:\n" +
		"  - id: each\n    uses: test.echo\n    for_each: ${{ 1..inputs.n }}\n    parallel: 16\n    with: {count: \"${{ item }}\"}\n"
	wf, err := Load("items.yaml", []byte(src), catalog())
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, wf, 1000)
}

// BenchmarkYAMLErrorPosition: a 1 MiB workflow (20,000 steps) whose last line has a bad escape:
// yaml.v3's error, then the prefixes decoded to find its line and column.
func BenchmarkYAMLErrorPosition(b *testing.B) {
	var src strings.Builder
	src.WriteString("name: big\nsteps:\n")
	for range 20000 {
		src.WriteString("  - {id: s, uses: exec, with: {argv: [\"true\"]}}\n")
	}
	src.WriteString("  - {id: last, uses: exec, with: {argv: [\"a\\q\"]}}\n")
	cat := catalog()
	b.SetBytes(int64(src.Len()))
	for b.Loop() {
		if _, err := Load("big.yaml", []byte(src.String()), cat); err == nil || !strings.HasPrefix(err.Error(), "big.yaml:20003:44: ") {
			b.Fatalf("got %.200v", err)
		}
	}
}
