package steps

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/engine"
)

// imdsLaunch launches an instance through ec2.run and returns its outputs.
func imdsLaunch(t testing.TB, ctx context.Context, args map[string]any) map[string]any {
	t.Helper()
	typ, _ := Default.Lookup("ec2.run")
	full := map[string]any{"image": ec2TestImage}
	for k, v := range args {
		full[k] = v
	}
	for _, f := range typ.Inputs() {
		if _, set := full[f.Name]; !set && f.Default != nil {
			full[f.Name] = f.Default
		}
	}
	out, err := typ.Run(ctx, &engine.Runtime{Workflow: "test", Step: "launch"}, full)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// imdsRecorder is a transport that counts instance metadata's answers by status and remembers
// the hosts asked.
type imdsRecorder struct {
	next     http.RoundTripper
	mu       sync.Mutex
	statuses map[int]int
	hosts    map[string]bool
}

func newIMDSRecorder(next http.RoundTripper) *imdsRecorder {
	return &imdsRecorder{next: next, statuses: map[int]int{}, hosts: map[string]bool{}}
}

func (r *imdsRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts[req.URL.Host] = true
	if err == nil {
		r.statuses[res.StatusCode]++
	}
	return res, err
}

func (r *imdsRecorder) count(status int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statuses[status]
}

// record makes a's instance metadata client go through a recorder.
func (r *imdsRecorder) record(a *AWS) {
	a.IMDS = append(a.IMDS, func(o *imds.Options) {
		o.HTTPClient = &http.Client{Transport: r}
	})
}

func TestIMDSGetReadsTheInstance(t *testing.T) {
	a, e := newTestAWS(t, emulator.Options{Seed: "imds-get", Region: "ap-northeast-1"})
	ctx := WithAWS(context.Background(), a)
	launched := imdsLaunch(t, ctx, map[string]any{
		"tags":      map[string]any{"ClientId": "acme", "Role": "app", "Name": "acme app server"},
		"user_data": "#!/bin/sh\necho hello\n",
	})
	rec := newIMDSRecorder(e.Transport())
	rec.record(a)

	out, err := runStepT(t, ctx, "imds.get", map[string]any{"tag": "ClientId", "all_tags": true, "user_data": true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"instance_id":       launched["instance_id"],
		"private_ip":        launched["private_ip"],
		"region":            "ap-northeast-1",
		"availability_zone": launched["availability_zone"],
		"instance_type":     "t3.micro",
		"tag":               "acme",
		"user_data":         "#!/bin/sh\necho hello\n",
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s: %q, want %q", k, out[k], v)
		}
	}
	if ami, _ := out["ami_id"].(string); !strings.HasPrefix(ami, "ami-") {
		t.Errorf("ami_id %q", ami)
	}
	tags, _ := out["tags"].(map[string]any)
	if tags["ClientId"] != "acme" || tags["Role"] != "app" || tags["Name"] != "acme app server" || len(tags) != 3 {
		t.Errorf("tags %v", out["tags"])
	}
	// One token, then the reads: 1 PUT and 9 GETs (7 paths, the tag, the user data), then the
	// two other tags.
	if got := rec.count(http.StatusOK); got != 1+9+2 {
		t.Errorf("%d answers, want 12: one token and 11 reads", got)
	}

	// Without all_tags only the tag asked for is read: no listing, no other values.
	before := rec.count(http.StatusOK)
	out, err = runStepT(t, ctx, "imds.get", map[string]any{"tag": "ClientId"})
	if err != nil {
		t.Fatal(err)
	}
	if tags, _ := out["tags"].(map[string]any); out["tag"] != "acme" || len(tags) != 1 || tags["ClientId"] != "acme" {
		t.Errorf("tag only: tag %v, tags %v", out["tag"], out["tags"])
	}
	if got := rec.count(http.StatusOK) - before; got != 7 {
		t.Errorf("tag only: %d answers, want 7: six paths and the tag (the token is the run's)", got)
	}

	// Named tags are read in the same wave: those the instance has, and a missing one left out.
	before, missed := rec.count(http.StatusOK), rec.count(http.StatusNotFound)
	out, err = runStepT(t, ctx, "imds.get", map[string]any{"tag": "ClientId", "tags": []any{"Role", "Owner", "ClientId"}})
	if err != nil {
		t.Fatal(err)
	}
	if tags, _ := out["tags"].(map[string]any); out["tag"] != "acme" || len(tags) != 2 || tags["Role"] != "app" || tags["ClientId"] != "acme" {
		t.Errorf("named tags: tag %v, tags %v", out["tag"], out["tags"])
	}
	if got, miss := rec.count(http.StatusOK)-before, rec.count(http.StatusNotFound)-missed; got != 8 || miss != 1 {
		t.Errorf("named tags: %d answers and %d not found, want 8 (six paths, two tags) and 1", got, miss)
	}
	if _, err := runStepT(t, ctx, "imds.get", map[string]any{"tags": []any{"Role", ""}}); err == nil || err.Error() != "imds.get: tags: item 1 is empty" {
		t.Errorf("empty key: %v", err)
	}

	// Without user_data the user data is not read; tag unset leaves the output empty.
	out, err = runStepT(t, ctx, "imds.get", nil)
	if err != nil {
		t.Fatal(err)
	}
	if out["user_data"] != "" || out["tag"] != "" || len(out["tags"].(map[string]any)) != 3 {
		t.Errorf("defaults: %v", out)
	}

	_, err = runStepT(t, ctx, "imds.get", map[string]any{"tag": "Owner"})
	if want := "imds.get: instance " + launched["instance_id"].(string) + " has no tag Owner in its metadata (is InstanceMetadataTags enabled?)"; err == nil || err.Error() != want {
		t.Errorf("missing tag: %v\nwant %s", err, want)
	}
	if _, err := runStepT(t, ctx, "imds.get", map[string]any{"tag": "has space"}); err == nil ||
		err.Error() != `imds.get: tag: "has space" cannot be read from instance metadata: a tag key there is letters, digits and + - = . , _ : @ only` {
		t.Errorf("bad key: %v", err)
	}
}

// imdsBarrier holds the first n GETs until all n have arrived: reads made one after another
// never get through it.
type imdsBarrier struct {
	next    http.RoundTripper
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (b *imdsBarrier) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		b.mu.Lock()
		b.arrived++
		switch {
		case b.arrived == b.n:
			close(b.all)
		case b.arrived > b.n:
			b.mu.Unlock()
			return b.next.RoundTrip(req)
		}
		b.mu.Unlock()
		select {
		case <-b.all:
		case <-time.After(3 * time.Second): // under the SDK's 5s timeout of an operation
			return nil, fmt.Errorf("only %d of %d reads were made at once", b.arrived, b.n)
		}
	}
	return b.next.RoundTrip(req)
}

func TestIMDSGetReadsAtOnce(t *testing.T) {
	a, e := newTestAWS(t, emulator.Options{Seed: "imds-at-once"})
	ctx := WithAWS(context.Background(), a)
	imdsLaunch(t, ctx, map[string]any{"tags": map[string]any{"ClientId": "acme", "Role": "app"}, "user_data": "x"})
	// The first wave: 7 paths, the tag and the user data, then the other tag alone.
	b := &imdsBarrier{next: e.Transport(), n: 9, all: make(chan struct{})}
	a.IMDS = append(a.IMDS, func(o *imds.Options) { o.HTTPClient = &http.Client{Transport: b} })
	out, err := runStepT(t, ctx, "imds.get", map[string]any{"tag": "ClientId", "all_tags": true, "user_data": true})
	if err != nil {
		t.Fatal(err)
	}
	if out["tag"] != "acme" || out["tags"].(map[string]any)["Role"] != "app" {
		t.Errorf("outputs %v", out)
	}
}

func TestIMDSGetWithoutMetadataTagsOrUserData(t *testing.T) {
	a, _ := newTestAWS(t, emulator.Options{Seed: "imds-no-tags"})
	ctx := WithAWS(context.Background(), a)
	launched := imdsLaunch(t, ctx, map[string]any{"tags": map[string]any{"ClientId": "acme"}, "metadata_tags": false})
	out, err := runStepT(t, ctx, "imds.get", map[string]any{"user_data": true})
	if err != nil {
		t.Fatal(err)
	}
	if out["instance_id"] != launched["instance_id"] || len(out["tags"].(map[string]any)) != 0 || out["user_data"] != "" {
		t.Errorf("outputs %v; want no tags and no user data", out)
	}
	_, err = runStepT(t, ctx, "imds.get", map[string]any{"tag": "ClientId"})
	if want := "imds.get: instance " + launched["instance_id"].(string) + " has no tag ClientId in its metadata (is InstanceMetadataTags enabled?)"; err == nil || err.Error() != want {
		t.Errorf("tag with metadata tags off: %v\nwant %s", err, want)
	}
}

// slowIMDS holds every metadata read (not the token) for delay before answering.
type slowIMDS struct {
	next  http.RoundTripper
	delay time.Duration
}

func (s slowIMDS) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		select {
		case <-time.After(s.delay):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return s.next.RoundTrip(req)
}

// A metadata read slower than the SDK's 5s limit (an instance busy at boot) is waited for.
func TestIMDSGetWaitsForASlowAnswer(t *testing.T) {
	a, e := newTestAWS(t, emulator.Options{Seed: "imds-slow"})
	ctx := WithAWS(context.Background(), a)
	launched := imdsLaunch(t, ctx, nil)
	a.IMDS = append(a.IMDS, func(o *imds.Options) {
		o.HTTPClient = &http.Client{Transport: slowIMDS{next: e.Transport(), delay: 5500 * time.Millisecond}}
	})
	out, err := runStepT(t, ctx, "imds.get", nil)
	if err != nil {
		t.Fatal(err)
	}
	if out["instance_id"] != launched["instance_id"] {
		t.Errorf("instance_id %v, want %v", out["instance_id"], launched["instance_id"])
	}
}

func TestIMDSGetWithNoInstanceRunning(t *testing.T) {
	a, _ := newTestAWS(t, emulator.Options{Seed: "imds-none"})
	_, err := runStepT(t, WithAWS(context.Background(), a), "imds.get", nil)
	want := "imds.get: instance metadata answered 404 Not Found to GET /latest/meta-data/instance-id: imds: no instance is running in the emulator"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v\nwant it to begin %s", err, want)
	}
	if _, err := runStepT(t, context.Background(), "imds.get", nil); err == nil || err.Error() != "imds.get: this step needs AWS, and the run was started without it" {
		t.Errorf("without AWS: %v", err)
	}
}

// imdsFastRetries gives a's instance metadata client a retryer that does not sleep and has no
// retry quota, with no retry of 429 of its own: imds.get must add that.
func imdsFastRetries(a *AWS, attempts int) {
	a.IMDS = append(a.IMDS, func(o *imds.Options) {
		o.DisableDefaultMaxBackoff = true // else imds.New puts its own backoff of up to 1s over ours
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			so.RateLimiter = ratelimit.None
		})
	})
}

func TestIMDSGetRetriesThrottling(t *testing.T) {
	a, e := newTestAWS(t, emulator.Options{Seed: "imds-429", Faults: emulator.Faults{Throttle: 0.7}})
	// EC2 is throttled too (RequestLimitExceeded), which its standard retryer retries; give it
	// room and no sleeps.
	load := a.Load
	a.Load = func(ctx context.Context) (aws.Config, error) {
		cfg, err := load(ctx)
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = 100
				so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				so.RateLimiter = ratelimit.None
			})
		}
		cfg.RetryMaxAttempts = 0 // else LocalAWS's 5 caps the retryer's 100
		return cfg, err
	}
	ctx := WithAWS(context.Background(), a)
	launched := imdsLaunch(t, ctx, map[string]any{"tags": map[string]any{"ClientId": "acme", "Role": "app"}})
	rec := newIMDSRecorder(e.Transport())
	rec.record(a)
	imdsFastRetries(a, 100)
	out, err := runStepT(t, ctx, "imds.get", map[string]any{"tag": "ClientId", "all_tags": true})
	if err != nil {
		t.Fatal(err)
	}
	if out["instance_id"] != launched["instance_id"] || out["tag"] != "acme" || len(out["tags"].(map[string]any)) != 2 {
		t.Errorf("outputs %v", out)
	}
	if rec.count(http.StatusTooManyRequests) == 0 {
		t.Error("no 429 was answered: the test tested nothing")
	}
}

func TestIMDSGetGivesUpOnThrottling(t *testing.T) {
	a, e := newTestAWS(t, emulator.Options{Seed: "imds-429-always", Faults: emulator.Faults{Throttle: 1}})
	rec := newIMDSRecorder(e.Transport())
	rec.record(a)
	imdsFastRetries(a, 4)
	_, err := runStepT(t, WithAWS(context.Background(), a), "imds.get", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "imds.get: no IMDSv2 session token (PUT /latest/api/token)") || !strings.Contains(err.Error(), "429") {
		t.Errorf("error %v", err)
	}
	// Every try of the token was throttled, and tried again; never a GET without a token (IMDSv1).
	if n := rec.count(http.StatusTooManyRequests); n < 4 {
		t.Errorf("%d answers of 429, want at least the 4 tries of the token", n)
	}
	if n := rec.count(http.StatusUnauthorized); n != 0 {
		t.Errorf("%d answers of 401: a read went without a token", n)
	}
}

// TestIMDSGetHonoursTheEndpointSettings: the endpoint comes from the SDK's settings when the
// run's AWS does not set one: AWS_EC2_METADATA_SERVICE_ENDPOINT, _MODE, and the shared config
// file.
func TestIMDSGetHonoursTheEndpointSettings(t *testing.T) {
	_, e := newTestAWS(t, emulator.Options{Seed: "imds-endpoint"})
	empty := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, endpoint, mode, configFile, want string
	}{
		{name: "endpoint", endpoint: "http://metadata.invalid:8080", configFile: empty, want: "metadata.invalid:8080"},
		{name: "mode", mode: "IPv6", configFile: empty, want: "[fd00:ec2::254]"},
		{name: "config file", configFile: "[default]\nec2_metadata_service_endpoint = http://from-config.invalid\n", want: "from-config.invalid"},
		{name: "config file mode", configFile: "[profile ops]\nec2_metadata_service_endpoint_mode = IPv6\n", want: "[fd00:ec2::254]"},
		{name: "default", configFile: empty, want: "169.254.169.254"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", tc.endpoint)
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", tc.mode)
			t.Setenv("AWS_PROFILE", "")
			path := tc.configFile
			if path != empty {
				path = filepath.Join(t.TempDir(), "config")
				if err := os.WriteFile(path, []byte(tc.configFile), 0o600); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(tc.configFile, "[profile ops]") {
					t.Setenv("AWS_PROFILE", "ops")
				}
			}
			t.Setenv("AWS_CONFIG_FILE", path)
			rec := newIMDSRecorder(e.Transport())
			a := &AWS{} // a run's AWS reads the settings when it first reads metadata
			ctx := WithAWS(context.Background(), a)
			rec.record(a)
			// No instance is running: the 404 is enough to see where the requests went.
			if _, err := runStepT(t, ctx, "imds.get", nil); err == nil || !strings.Contains(err.Error(), "404") {
				t.Errorf("error %v", err)
			}
			if !rec.hosts[tc.want] || len(rec.hosts) != 1 {
				t.Errorf("asked %v, want only %s", rec.hosts, tc.want)
			}
		})
	}
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5")
	if _, err := runStepT(t, WithAWS(context.Background(), &AWS{}), "imds.get", nil); err == nil || !strings.Contains(err.Error(), "IPv5") && !strings.Contains(err.Error(), "endpoint mode") {
		t.Errorf("bad mode: %v", err)
	}
}

// TestBootWorkflow runs ec2.run, imds.get and ec2.describe through the engine, outputs passed
// between them, twice: the second run finds the instance the first launched.
func TestBootWorkflow(t *testing.T) {
	a, _ := newTestAWS(t, emulator.Options{Seed: "imds-workflow"})
	src := `name: launch-and-read
inputs:
  client: {required: true}
steps:
  - id: launch
    uses: ec2.run
    with:
      image: ` + ec2TestImage + `
      tags: {ClientId: "${{ inputs.client }}"}
      user_data: "client=${{ inputs.client }}"
  - id: md
    uses: imds.get
    with:
      tag: ClientId
      user_data: true
  - id: who
    uses: ec2.describe
    with:
      instance_id: ${{ steps.md.instance_id }}
outputs:
  same: ${{ steps.launch.instance_id == steps.md.instance_id && steps.who.instance_id == steps.md.instance_id }}
  ip: ${{ steps.md.private_ip == steps.launch.private_ip && steps.who.private_ip == steps.md.private_ip }}
  client: ${{ steps.md.tag }}
  described: ${{ steps.who.tags.ClientId }}
  user_data: ${{ steps.md.user_data }}
  launched: ${{ steps.launch.launched }}
`
	ctx := WithAWS(context.Background(), a)
	given := map[string]engine.Given{"client": {Value: "acme", Text: true, From: "-v client=acme"}}
	for i, launched := range []bool{true, false} {
		res, events := runWorkflowT(t, ctx, src, given)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		want := map[string]any{"same": true, "ip": true, "client": "acme", "described": "acme", "user_data": "client=acme", "launched": launched}
		for k, v := range want {
			if res.Outputs[k] != v {
				t.Errorf("run %d: %s = %v, want %v", i+1, k, res.Outputs[k], v)
			}
		}
		var finished []string
		for _, ev := range events {
			if ev.Event == "step_finished" {
				finished = append(finished, ev.Step+":"+ev.Status)
			}
		}
		if strings.Join(finished, " ") != "launch:succeeded md:succeeded who:succeeded" {
			t.Errorf("run %d: steps %v", i+1, finished)
		}
	}
}

// BenchmarkIMDSGet measures imds.get as a boot runs it (a new client, one token, every path,
// the tags and one tag by name) against the in-process emulator, and with 1ms added to every
// answer, where reading the paths at once pays. sequential-1ms reads the same paths one after
// another with the SDK's client, as the bash scripts did, for comparison.
//
//	go test ./steps/ -run '^$' -bench BenchmarkIMDSGet -benchtime 2s
func BenchmarkIMDSGet(b *testing.B) {
	for _, bc := range []struct {
		name    string
		latency time.Duration
	}{{"in-process", 0}, {"latency-1ms", time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx, typ := imdsBenchSetup(b, bc.latency)
			rt := &engine.Runtime{Workflow: "boot", Step: "md"}
			args := map[string]any{"tag": "ClientId", "user_data": false}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := typ.Run(ctx, rt, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("sequential-1ms", func(b *testing.B) {
		ctx, _ := imdsBenchSetup(b, time.Millisecond)
		paths := []string{"instance-id", "local-ipv4", "placement/region", "placement/availability-zone", "instance-type", "ami-id",
			"tags/instance", "tags/instance/ClientId", "tags/instance/ClientId", "tags/instance/Name", "tags/instance/Role"}
		for b.Loop() {
			client, err := imdsClient(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range paths {
				if err := imdsReadOne(ctx, &engine.Runtime{}, client, imdsRead{path: p, into: new(string)}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func imdsBenchSetup(b *testing.B, latency time.Duration) (context.Context, engine.StepType) {
	b.Helper()
	e, err := emulator.New(emulator.Options{Seed: "imds-bench", Faults: emulator.Faults{Latency: latency}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	client := &http.Client{Transport: e.Transport()}
	a := &AWS{
		Load: func(context.Context) (aws.Config, error) {
			return aws.Config{Region: e.Region(), HTTPClient: client, BaseEndpoint: aws.String(localEndpoint),
				Credentials: aws.AnonymousCredentials{}}, nil
		},
		IMDS: []func(*imds.Options){func(o *imds.Options) { o.Endpoint, o.HTTPClient = localEndpoint, client }},
	}
	ctx := WithAWS(context.Background(), a)
	imdsLaunch(b, ctx, map[string]any{"tags": map[string]any{"ClientId": "acme", "Role": "app", "Name": "acme app server"}})
	typ, _ := Default.Lookup("imds.get")
	return ctx, typ
}
