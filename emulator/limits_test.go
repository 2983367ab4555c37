package emulator

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

// clock is a settable time for the token buckets.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestAWSLimits: with AWS's limits, each service answers within its bucket and throttles past
// it in its own protocol's shape, and the bucket refills with time: Route 53's account-wide 50
// then 10 a second, shared by two emulators on one directory (two processes); SSM's 40
// GetParameters; EC2's 100 DescribeVpcs.
func TestAWSLimits(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{now: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}
	open := func() *Emulator {
		e, err := New(Options{Dir: dir, Seed: "limits", Limits: AWSLimits, Clock: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	a, b := open(), open()
	ctx := context.Background()
	r53 := []*route53.Client{route53.NewFromConfig(inProcess(a)), route53.NewFromConfig(inProcess(b))}
	for i := range 50 {
		if _, err := r53[i%2].ListHostedZones(ctx, &route53.ListHostedZonesInput{}); err != nil {
			t.Fatalf("request %d of the burst of 50: %v", i+1, err)
		}
	}
	_, err := r53[0].ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if emutest.WantCode(t, err, "Throttling"); emutest.Status(err) != http.StatusBadRequest {
		t.Errorf("Route 53 throttling: status %d, want 400", emutest.Status(err))
	}
	clk.advance(time.Second)
	for i := range 10 {
		if _, err := r53[1].ListHostedZones(ctx, &route53.ListHostedZonesInput{}); err != nil {
			t.Fatalf("request %d of the 10 a second later: %v", i+1, err)
		}
	}
	_, err = r53[1].ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	emutest.WantCode(t, err, "Throttling")

	params := ssm.NewFromConfig(inProcess(a))
	for i := range 40 {
		if _, err := params.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"a"}}); err != nil {
			t.Fatalf("GetParameters %d: %v", i+1, err)
		}
	}
	_, err = params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("a")})
	emutest.WantCode(t, err, "ThrottlingException")

	compute := ec2.NewFromConfig(inProcess(b))
	for i := range 100 {
		if _, err := compute.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatalf("DescribeVpcs %d: %v", i+1, err)
		}
	}
	_, err = compute.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	emutest.WantCode(t, err, "RequestLimitExceeded")
	if _, err := compute.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
		t.Errorf("another action has a bucket of its own: %v", err)
	}

	// Instance metadata: 256 requests, then 429.
	status := func() int {
		req, _ := http.NewRequest(http.MethodPut, "http://emulator.invalid/latest/api/token", nil)
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
		res, err := a.Transport().RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for i := range 256 {
		if got := status(); got != http.StatusOK {
			t.Fatalf("instance metadata request %d: %d", i+1, got)
		}
	}
	if got := status(); got != http.StatusTooManyRequests {
		t.Errorf("instance metadata past its rate: %d, want 429", got)
	}
}

// BenchmarkSharedBuckets: what --limits aws adds to a request: one Route 53 request's claims
// (the account's and the action's buckets) taken under the shared file's lock, from parallel
// goroutines. The clock stands still far enough apart that no claim is refused.
func BenchmarkSharedBuckets(b *testing.B) {
	l, err := openLimiter(b.TempDir(), AWSLimits, func() time.Time { return time.Unix(0, 0) }, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	huge := bucket{"route53", 1e12, 1e12}
	c := []take{{huge, 1}, {bucket{"route53:ListResourceRecordSets", 1e12, 1e12}, 1}}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := l.allow(context.Background(), c); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
