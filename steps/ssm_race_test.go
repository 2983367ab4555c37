package steps

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/flow-infra/flow/emulator"
)

// TestSSMPutConcurrentOneVersion: ten runs that put one value at the same moment make one
// version: one creates the parameter, the others find their value there.
func TestSSMPutConcurrentOneVersion(t *testing.T) {
	// Every answer takes 20ms, so the runs all read before any writes.
	a, _ := newTestAWS(t, emulator.Options{Seed: "ssm-race", Faults: emulator.Faults{Latency: 20 * time.Millisecond}})
	ctx := WithAWS(context.Background(), a)
	for _, typ := range []string{ssmString, ssmSecureString} {
		name := "acme.RACE_" + typ
		var wg sync.WaitGroup
		changed := make([]bool, 10)
		start := make(chan struct{})
		for i := range changed {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				out, err := runStepT(t, ctx, "ssm.put", map[string]any{"name": name, "value": "v", "type": typ})
				if err != nil {
					t.Errorf("put %d: %v", i, err)
					return
				}
				changed[i] = out["changed"].(bool)
			}()
		}
		close(start)
		wg.Wait()
		writes := 0
		for _, c := range changed {
			if c {
				writes++
			}
		}
		c, err := ssmClient(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Parameter.Version != 1 || writes != 1 {
			t.Errorf("%s: version %d after 10 concurrent puts of one value, %d reported a change; want version 1, one change",
				typ, got.Parameter.Version, writes)
		}
	}
}
