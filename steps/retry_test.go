package steps

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/flow-infra/flow/emulator"
)

// TestRetryConfigure: flow's defaults fill in what the SDK's configuration leaves unset, and
// what it sets (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS) wins.
func TestRetryConfigure(t *testing.T) {
	cfg := Retry{}.Configure(aws.Config{})
	if cfg.RetryMode != aws.RetryModeAdaptive || cfg.RetryMaxAttempts != 10 {
		t.Errorf("defaults: mode %q, %d attempts", cfg.RetryMode, cfg.RetryMaxAttempts)
	}
	if _, ok := cfg.Retryer().(*retry.AdaptiveMode); !ok || cfg.Retryer().MaxAttempts() != 10 {
		t.Errorf("default retryer %T with %d attempts", cfg.Retryer(), cfg.Retryer().MaxAttempts())
	}
	cfg = Retry{MaxBackoff: time.Millisecond}.Configure(aws.Config{RetryMode: aws.RetryModeStandard, RetryMaxAttempts: 3})
	if _, ok := cfg.Retryer().(*retry.Standard); !ok || cfg.Retryer().MaxAttempts() != 3 || cfg.RetryMaxAttempts != 3 {
		t.Errorf("from the SDK's configuration: %T with %d attempts", cfg.Retryer(), cfg.Retryer().MaxAttempts())
	}
	if d, _ := cfg.Retryer().RetryDelay(8, nil); d > time.Millisecond {
		t.Errorf("a wait of %s, over MaxBackoff", d)
	}
}

// TestOnceReusesIMDSGet: once records take the instance id imds.get read; no second read.
func TestOnceReusesIMDSGet(t *testing.T) {
	a, e := newTestAWS(t, emulator.Options{Seed: "once-reuse"})
	ctx := WithAWS(context.Background(), a)
	id := imdsLaunch(t, ctx, nil)["instance_id"].(string)
	rec := newIMDSRecorder(e.Transport())
	rec.record(a)
	if _, err := runStepT(t, ctx, "imds.get", nil); err != nil {
		t.Fatal(err)
	}
	before := rec.count(http.StatusOK)
	got, err := InstanceIDFromIMDS(a)(ctx)
	if err != nil || got != id {
		t.Fatalf("instance id %q, %v; want %s", got, err, id)
	}
	if n := rec.count(http.StatusOK) - before; n != 0 {
		t.Errorf("%d more reads of instance metadata, want none", n)
	}
}

// TestIMDSThrottledTokenSaysSo: a session token refused with 429 on every try is reported as
// throttling, not as a machine that may not be an EC2 instance.
func TestIMDSThrottledTokenSaysSo(t *testing.T) {
	ctx := fakeAWS(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) })
	a := mustAWS(t, ctx)
	a.Retry = Retry{MaxAttempts: 3, MaxBackoff: time.Millisecond}
	_, err := InstanceIDFromIMDS(a)(ctx)
	if err == nil || !strings.Contains(err.Error(), "instance metadata is throttling this instance") || strings.Contains(err.Error(), "is this an EC2 instance") {
		t.Errorf("error %v", err)
	}
	ctx = fakeAWS(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	a = mustAWS(t, ctx)
	a.Retry = Retry{MaxAttempts: 2, MaxBackoff: time.Millisecond}
	if _, err := InstanceIDFromIMDS(a)(ctx); err == nil || !strings.Contains(err.Error(), "instance metadata failed (5xx)") {
		t.Errorf("error %v", err)
	}
}
