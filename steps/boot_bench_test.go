package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/engine"
)

// BenchmarkLaterBootRoundTrips runs the shipped workflows/boot.yaml as a later boot (the client
// provisioned with N settings, the first boot done, its DNS record right) against the embedded
// emulator with 50ms added to every answer, instance metadata's included, and reports the boot's
// sequential round trips: its wall time divided by the added latency, rounded down (the work
// between answers is well under a round trip). Run it with:
//
//	go test ./steps -run '^$' -bench LaterBootRoundTrips -benchtime 1x
func BenchmarkLaterBootRoundTrips(b *testing.B) {
	const latency = 50 * time.Millisecond
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("settings=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			params := map[string]string{}
			for i := range n {
				params[fmt.Sprintf("KEY_%04d", i)] = fmt.Sprintf("value %d", i)
			}
			// Provision and first boot at full speed; then every answer slowed.
			e, a := benchEmulator(b, emulator.Options{Dir: filepath.Join(dir, "state"), Seed: "boot-bench"})
			benchRun(b, a, "provision", dir, map[string]any{"client": "acme", "params": params})
			benchRun(b, a, "boot", dir, nil)
			e.Close()
			e, a = benchEmulator(b, emulator.Options{Dir: filepath.Join(dir, "state"), Seed: "boot-bench",
				Faults: emulator.Faults{Latency: latency}})
			defer e.Close()
			b.ResetTimer()
			var total time.Duration
			for range b.N {
				start := time.Now()
				benchRun(b, a, "boot", dir, nil)
				total += time.Since(start)
			}
			b.ReportMetric(float64(int(total/time.Duration(b.N)/latency)), "round-trips")
		})
	}
}

func benchEmulator(b *testing.B, opts emulator.Options) (*emulator.Emulator, *AWS) {
	b.Helper()
	e, err := emulator.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	return e, LocalAWS(e.Transport(), e.Region())
}

// benchRun runs workflows/NAME.yaml with inputs (JSON-able), failing the benchmark unless it
// succeeds. Files and once records go under dir/root.
func benchRun(b *testing.B, a *AWS, name, dir string, inputs map[string]any) {
	b.Helper()
	file := filepath.Join("..", "workflows", name+".yaml")
	src, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	wf, err := engine.Load(file, src, Default)
	if err != nil {
		b.Fatal(err)
	}
	given := map[string]engine.Given{}
	for k, v := range inputs {
		text, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		s := string(text)
		if str, ok := v.(string); ok {
			s = str
		}
		_, g, err := engine.ParseVar(k + "=" + s)
		if err != nil {
			b.Fatal(err)
		}
		given[k] = g
	}
	masker := new(engine.Masker)
	resolved, err := wf.ResolveInputs(given, nil, masker)
	if err != nil {
		b.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	var failure string
	opt := engine.Options{Inputs: resolved, Masker: masker, Root: root,
		Once: &OnceRecords{Dir: filepath.Join(root, "var", "lib", "flow"), Root: root, InstanceID: InstanceIDFromIMDS(a)},
		Events: func(e engine.Event) {
			if e.Event == "run_finished" && e.Error != "" {
				failure = e.Error
			}
		}}
	res := engine.Run(WithAWS(context.Background(), a), wf, opt)
	if res.Status != engine.StatusSucceeded {
		b.Fatalf("%s: %s %s", name, res.Status, failure)
	}
}
