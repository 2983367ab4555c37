package steps

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/flow-infra/flow/emulator"
)

// TestRetryConfigure: flow's defaults fill in what the SDK's configuration leaves unset, and
// what it sets (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS) wins.
func TestRetryConfigure(t *testing.T) {
	cfg := Retry{}.Configure(aws.Config{})
	if cfg.RetryMode != aws.RetryModeAdaptive || cfg.RetryMaxAttempts != 0 {
		t.Errorf("defaults: mode %q, %d attempts", cfg.RetryMode, cfg.RetryMaxAttempts)
	}
	if p, ok := cfg.Retryer().(patientWithThrottling); !ok || p.MaxAttempts() != 40 || p.attempts != 10 {
		t.Errorf("default retryer %T with %d attempts", cfg.Retryer(), cfg.Retryer().MaxAttempts())
	} else if _, ok := p.RetryerV2.(*retry.AdaptiveMode); !ok {
		t.Errorf("default retryer's mode %T", p.RetryerV2)
	}
	cfg = Retry{MaxBackoff: time.Millisecond}.Configure(aws.Config{RetryMode: aws.RetryModeStandard, RetryMaxAttempts: 3})
	if p, ok := cfg.Retryer().(patientWithThrottling); !ok || p.attempts != 3 || cfg.RetryMaxAttempts != 0 {
		t.Errorf("from the SDK's configuration: %T with %d attempts", cfg.Retryer(), cfg.Retryer().MaxAttempts())
	} else if _, ok := p.RetryerV2.(*retry.Standard); !ok {
		t.Errorf("standard mode's retryer %T", p.RetryerV2)
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

// TestThrottledCallsWaitLonger: through the SDK, a call throttled 25 times in a row is tried
// again until it succeeds, while one that meets a server error gives up after its 10 attempts.
func TestThrottledCallsWaitLonger(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int    // answers that fail before one succeeds
		status   int    // of a failing answer
		code     string // its error code
		want     int    // requests made
		ok       bool
	}{
		{"throttled", 25, http.StatusBadRequest, "ThrottlingException", 26, true},
		{"throttled past the budget", 100, http.StatusBadRequest, "ThrottlingException", 40, false},
		{"server error", 100, http.StatusInternalServerError, "InternalServerError", 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				if int(requests.Add(1)) <= tc.failures {
					w.WriteHeader(tc.status)
					fmt.Fprintf(w, `{"__type":%q,"message":"Rate exceeded"}`, tc.code)
					return
				}
				fmt.Fprint(w, `{"Parameters":[],"InvalidParameters":[]}`)
			}))
			defer srv.Close()
			cfg := Retry{Mode: aws.RetryModeStandard, MaxBackoff: time.Microsecond}.Configure(aws.Config{
				Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
			c := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.URL) })
			_, err := c.GetParameters(context.Background(), &ssm.GetParametersInput{Names: []string{"a"}})
			if (err == nil) != tc.ok || int(requests.Load()) != tc.want {
				t.Errorf("%d requests, err %v; want %d requests, success %t", requests.Load(), err, tc.want, tc.ok)
			}
		})
	}
}
