package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/engine"
)

// BenchmarkBootRoundTrips runs the shipped workflows/boot.yaml as a later boot (the client
// provisioned with N settings, the first boot done, its DNS record right), and once as a first
// boot (first/: no env file, no record), against the embedded
// emulator with 200ms added to every answer, instance metadata's included, and reports the boot's
// sequential round trips: the run's wall time divided by the added latency, rounded down (the
// work between answers, a few ms, is well under a round trip; 200ms keeps it so on a busy machine). Run it with:
//
//	go test ./steps -run '^$' -bench BootRoundTrips -benchtime 1x
func BenchmarkBootRoundTrips(b *testing.B) {
	const latency = 200 * time.Millisecond
	// How many settings, and how many of them provision stores: their names are then in the
	// flow:required tags, and boot reads them beside the listing. The others are put beside it.
	// first: the boot measured is the first (no env file, the record not made yet), once.
	for _, size := range []struct {
		n, byProvision int
		first          bool
	}{{10, 10, true}, {10, 10, false}, {60, 60, false}, {100, 10, false}, {1000, 10, false}} {
		n := size.n
		name := fmt.Sprintf("settings=%d", n)
		if size.first {
			name = fmt.Sprintf("first/settings=%d", n)
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			// Provision and first boot at full speed; then every answer slowed.
			e, a := benchEmulator(b, emulator.Options{Dir: filepath.Join(dir, "state"), Seed: "boot-bench"})
			params := map[string]any{}
			for i := range size.byProvision {
				params[fmt.Sprintf("KEY_%04d", i)] = fmt.Sprintf("value %d", i)
			}
			benchRun(b, a, "provision", dir, map[string]any{"client": "acme", "params": params})
			sc, err := ssmClient(WithAWS(context.Background(), a))
			if err != nil {
				b.Fatal(err)
			}
			for i := size.byProvision; i < n; i++ {
				if _, err := sc.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(fmt.Sprintf("acme.KEY_%04d", i)),
					Value: aws.String(fmt.Sprintf("value %d", i)), Type: ssmtypes.ParameterTypeString}); err != nil {
					b.Fatal(err)
				}
			}
			if !size.first {
				benchRun(b, a, "boot", dir, nil)
			}
			e.Close()
			e, a = benchEmulator(b, emulator.Options{Dir: filepath.Join(dir, "state"), Seed: "boot-bench",
				Faults: emulator.Faults{Latency: latency}})
			defer e.Close()
			b.ResetTimer()
			var total time.Duration
			for i := range b.N {
				if size.first && i > 0 {
					b.Fatal("a first boot happens once: run with -benchtime 1x")
				}
				total += benchRun(b, a, "boot", dir, nil)
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
// succeeds, and returns how long the run took (loading and checks aside). Files and once records
// go under dir/root.
func benchRun(b *testing.B, a *AWS, name, dir string, inputs map[string]any) time.Duration {
	b.Helper()
	took, err := runWorkflow(context.Background(), a, name, filepath.Join(dir, "root"), inputs)
	if err != nil {
		b.Fatal(err)
	}
	return took
}

// runWorkflow runs workflows/NAME.yaml with inputs (JSON-able) against a, its files and once
// records under root, and returns how long the run took (loading and checks aside), or why it
// did not succeed. It is safe to call from many goroutines at once.
func runWorkflow(ctx context.Context, a *AWS, name, root string, inputs map[string]any) (time.Duration, error) {
	file := filepath.Join("..", "workflows", name+".yaml")
	src, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	wf, err := engine.Load(file, src, Default)
	if err != nil {
		return 0, err
	}
	given := map[string]engine.Given{}
	for k, v := range inputs {
		text, err := json.Marshal(v)
		if err != nil {
			return 0, err
		}
		s := string(text)
		if str, ok := v.(string); ok {
			s = str
		}
		_, g, err := engine.ParseVar(k + "=" + s)
		if err != nil {
			return 0, err
		}
		given[k] = g
	}
	masker := new(engine.Masker)
	resolved, err := wf.ResolveInputs(given, nil, masker)
	if err != nil {
		return 0, err
	}
	var failure string
	opt := engine.Options{Inputs: resolved, Masker: masker, Root: root,
		Once: &OnceRecords{Dir: filepath.Join(root, "var", "lib", "flow"), Root: root, InstanceID: InstanceIDFromIMDS(a)},
		Events: func(e engine.Event) {
			if e.Event == "run_finished" && e.Error != "" {
				failure = e.Error
			}
		}}
	start := time.Now()
	res := engine.Run(WithAWS(ctx, a), wf, opt)
	took := time.Since(start)
	if res.Status != engine.StatusSucceeded {
		return took, fmt.Errorf("%s: %s %s", name, res.Status, failure)
	}
	return took, nil
}
