package steps

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/flow-infra/flow/emulator"
)

// fakeAWS returns a context whose AWS steps (SDK clients and instance metadata alike) reach h,
// served by an httptest server closed when the test ends: for answers the emulator never gives.
// Calls are not retried.
func fakeAWS(t *testing.T, h http.HandlerFunc) context.Context {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a := &AWS{
		Load: func(context.Context) (aws.Config, error) {
			return aws.Config{
				Region:           "us-east-1",
				Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
				BaseEndpoint:     aws.String(srv.URL),
				RetryMaxAttempts: 1,
			}, nil
		},
		IMDS: []func(*imds.Options){func(o *imds.Options) { o.Endpoint = srv.URL }},
	}
	return WithAWS(context.Background(), a)
}

// awsXML answers with an XML body and a status.
func awsXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + body))
}

// TestAWSConfigKeepsOnlySuccess: a load that failed is tried again by the next caller; one that
// succeeded is kept.
func TestAWSConfigKeepsOnlySuccess(t *testing.T) {
	a, _ := newTestAWS(t, emulator.Options{Seed: "aws-config"})
	load := a.Load
	var loads atomic.Int32
	a.Load = func(ctx context.Context) (aws.Config, error) {
		if loads.Add(1) == 1 {
			return aws.Config{}, errors.New("no AWS region is configured, and instance metadata could not give one: a blip")
		}
		return load(ctx)
	}
	ctx := WithAWS(context.Background(), a)
	args := map[string]any{"filters": map[string]any{"tag:ClientId": []any{"acme"}}}
	_, err := runStepT(t, ctx, "ec2.describe", args)
	if err == nil || err.Error() != "ec2.describe: no AWS region is configured, and instance metadata could not give one: a blip" {
		t.Errorf("first step: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := runStepT(t, ctx, "ec2.describe", args); err == nil || err.Error() != "ec2.describe: no instance matches tag:ClientId=acme" {
			t.Errorf("step %d after the failed load: %v", i+2, err)
		}
	}
	if n := loads.Load(); n != 2 {
		t.Errorf("%d loads, want 2: the failed one, then one kept", n)
	}
}

// TestAWSConfigConcurrent: callers arriving together share one load at a time, and one waiting
// for another's load honours its context.
func TestAWSConfigConcurrent(t *testing.T) {
	release := make(chan struct{})
	var loads, running, most atomic.Int32
	a := &AWS{Load: func(ctx context.Context) (aws.Config, error) {
		n := loads.Add(1)
		if r := running.Add(1); r > most.Load() {
			most.Store(r)
		}
		defer running.Add(-1)
		<-release
		if n == 1 {
			return aws.Config{}, errors.New("first load fails")
		}
		return aws.Config{Region: "eu-west-3"}, nil
	}}
	// One caller waits while another loads, and gives up with its context.
	go a.Config(context.Background())
	for loads.Load() == 0 {
		runtime.Gosched()
	}
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Config(cctx); err == nil || err.Error() != "waiting for the AWS configuration to load: context canceled" {
		t.Errorf("cancelled waiter: %v", err)
	}

	var wg sync.WaitGroup
	regions := make([]string, 8)
	for i := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, err := a.Config(context.Background())
			if err == nil {
				regions[i] = cfg.Region
			}
		}()
	}
	close(release) // the first load fails; the next succeeds and is kept for everyone else
	wg.Wait()
	for i, r := range regions {
		if r != "eu-west-3" {
			t.Errorf("caller %d got region %q", i, r)
		}
	}
	if loads.Load() != 2 || most.Load() != 1 {
		t.Errorf("%d loads, at most %d at once; want 2, one at a time", loads.Load(), most.Load())
	}
}

// TestAWSConfigLoadsWithADoneContext: with nobody else loading, a caller whose context is done
// still loads (Load decides what a done context means), rather than fail at random.
func TestAWSConfigLoadsWithADoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 50; i++ {
		a := &AWS{Load: func(context.Context) (aws.Config, error) { return aws.Config{Region: "eu-west-3"}, nil }}
		if cfg, err := a.Config(ctx); err != nil || cfg.Region != "eu-west-3" {
			t.Fatalf("try %d: %q, %v", i, cfg.Region, err)
		}
	}
}
