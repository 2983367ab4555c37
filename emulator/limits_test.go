package emulator

import (
	"context"
	"net/http"
	"slices"
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

// twoProcesses opens two emulators with AWS's limits on one state directory, as two processes
// would, both telling time by clk.
func twoProcesses(t *testing.T, clk *clock) (a, b *Emulator) {
	dir := t.TempDir()
	open := func() *Emulator {
		e, err := New(Options{Dir: dir, Seed: "limits", Limits: AWSLimits, Clock: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	return open(), open()
}

// TestAWSLimits: with AWS's limits, each service answers within its bucket and throttles past
// it in its own protocol's shape, and the bucket refills with time: Route 53's account-wide 50
// then 10 a second, shared by two emulators on one directory (two processes); SSM's 40
// GetParameters; EC2's 100 DescribeVpcs.
func TestAWSLimits(t *testing.T) {
	clk := &clock{now: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}
	a, b := twoProcesses(t, clk)
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

// TestAWSLimitsPerRegion: EC2's and Parameter Store's buckets are the account's in each region,
// shared by the processes on the directory; Route 53's are the account's in every region.
func TestAWSLimitsPerRegion(t *testing.T) {
	clk := &clock{now: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}
	a, b := twoProcesses(t, clk)
	ctx := context.Background()
	in := func(e *Emulator, region string) aws.Config {
		cfg := inProcess(e)
		cfg.Region = region
		return cfg
	}

	// PutParameter's 3 a second: spent in us-east-1, whole in eu-west-1, whichever process asks.
	put := func(c *ssm.Client, name string) error {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: "String", Overwrite: aws.Bool(true)})
		return err
	}
	east, west := ssm.NewFromConfig(in(a, "us-east-1")), ssm.NewFromConfig(in(b, "eu-west-1"))
	for i := range 3 {
		if err := put(east, "/p"); err != nil {
			t.Fatalf("PutParameter %d in us-east-1: %v", i+1, err)
		}
	}
	emutest.WantCode(t, put(ssm.NewFromConfig(in(b, "us-east-1")), "/p"), "ThrottlingException")
	for i := range 3 {
		if err := put(west, "/p"); err != nil {
			t.Fatalf("PutParameter %d in eu-west-1, with us-east-1's bucket empty: %v", i+1, err)
		}
	}
	emutest.WantCode(t, put(ssm.NewFromConfig(in(a, "eu-west-1")), "/p"), "ThrottlingException")

	// RunInstances' resource bucket, 1,000 instances: spent in eu-west-1, whole in ap-south-1.
	run := func(c *ec2.Client, n int32) error {
		_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
			InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(n)})
		return err
	}
	if err := run(ec2.NewFromConfig(in(a, "eu-west-1")), 1000); err != nil {
		t.Fatal(err)
	}
	emutest.WantCode(t, run(ec2.NewFromConfig(in(b, "eu-west-1")), 1), "RequestLimitExceeded")
	if err := run(ec2.NewFromConfig(in(b, "ap-south-1")), 1); err != nil {
		t.Errorf("RunInstances in ap-south-1 with eu-west-1's bucket empty: %v", err)
	}

	// Route 53 is global: 50 requests signed for two regions empty the one account bucket.
	zones := []*route53.Client{route53.NewFromConfig(in(a, "us-east-1")), route53.NewFromConfig(in(b, "eu-west-1"))}
	for i := range 50 {
		if _, err := zones[i%2].ListHostedZones(ctx, &route53.ListHostedZonesInput{}); err != nil {
			t.Fatalf("Route 53 request %d: %v", i+1, err)
		}
	}
	for _, region := range []string{"us-east-1", "ap-south-1"} {
		_, err := route53.NewFromConfig(in(a, region)).ListHostedZones(ctx, &route53.ListHostedZonesInput{})
		emutest.WantCode(t, err, "Throttling")
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
			if ok, err := l.allow(context.Background(), "route53", "", c); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

// TestRoute53OperationBuckets: each VPC operation of Route 53 is named as the service names it,
// so that it draws on its own action's bucket, not on the one every unknown request shares.
func TestRoute53OperationBuckets(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{http.MethodGet, "/2013-04-01/hostedzonesbyvpc", "ListHostedZonesByVPC"},
		{http.MethodPost, "/2013-04-01/hostedzone/Z1/authorizevpcassociation", "CreateVPCAssociationAuthorization"},
		{http.MethodGet, "/2013-04-01/hostedzone/Z1/authorizevpcassociation", "ListVPCAssociationAuthorizations"},
		{http.MethodPost, "/2013-04-01/hostedzone/Z1/deauthorizevpcassociation/", "DeleteVPCAssociationAuthorization"},
		{http.MethodGet, "/2013-04-01/healthcheck", "other"},
	} {
		r, err := http.NewRequest(tc.method, "http://route53.amazonaws.com"+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := route53Operation(r); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
	for _, op := range []string{"ListHostedZonesByVPC", "CreateVPCAssociationAuthorization", "DeleteVPCAssociationAuthorization", "ListVPCAssociationAuthorizations"} {
		if !slices.Contains(route53Operations(), op) {
			t.Errorf("no bucket slot for route53:%s", op)
		}
	}
}
