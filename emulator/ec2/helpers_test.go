package ec2

import (
	"context"
	"encoding/base64"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// testClock is a settable clock. With a step it moves forward by step each time it is read,
// which is once per request.
type testClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testParameters is a Parameter Store holding, in each region, the public image parameters of
// that region's images.
type testParameters struct{}

func (testParameters) ParameterValue(_ context.Context, region, name string) (string, bool, error) {
	for _, im := range PublicImages(region) {
		if slices.Contains(im.Parameters, name) {
			return im.ID, true, nil
		}
	}
	return "", false, nil
}

// publicParameters is the Parameter Store of the public image parameters, in every region.
func publicParameters(string) testParameters { return testParameters{} }

const (
	al2023x86 = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	al2023arm = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
)

// fixture is a service behind an httptest server and an SDK client pointed at it.
type fixture struct {
	svc    *Service
	client *sdk.Client
	clock  *testClock
	ctx    context.Context
}

// newFixture starts a service with a seeded id source, the public parameters and a test clock;
// edit adjusts its Options.
func newFixture(t *testing.T, edit func(*Options)) *fixture {
	t.Helper()
	clock := newTestClock()
	o := Options{
		IDs:        wire.IDs{Seed: t.Name()},
		Clock:      clock.Now,
		Parameters: publicParameters("us-east-1"),
	}
	if edit != nil {
		edit(&o)
	}
	svc, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	cfg := emutest.Config(emutest.Serve(t, svc))
	if o.Region != "" {
		cfg.Region = o.Region // signed for the region under test
	}
	return &fixture{svc: svc, client: sdk.NewFromConfig(cfg), clock: clock, ctx: context.Background()}
}

// run launches count instances of the default x86 Amazon Linux 2023 image as t3.micro; edit
// adjusts the request.
func (f *fixture) run(t *testing.T, count int32, edit func(*sdk.RunInstancesInput)) *sdk.RunInstancesOutput {
	t.Helper()
	in := &sdk.RunInstancesInput{
		ImageId:      aws.String(al2023x86),
		InstanceType: types.InstanceType("t3.micro"),
		MinCount:     aws.Int32(count),
		MaxCount:     aws.Int32(count),
	}
	if edit != nil {
		edit(in)
	}
	out, err := f.client.RunInstances(f.ctx, in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	return out
}

// describe returns the one instance with that id.
func (f *fixture) describe(t *testing.T, id string) types.Instance {
	t.Helper()
	out, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeInstances %s: %v", id, err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances %s: %d reservations, want one instance", id, len(out.Reservations))
	}
	return out.Reservations[0].Instances[0]
}

// instanceIDs returns the ids of the instances of every reservation, in order.
func instanceIDsOf(reservations []types.Reservation) []string {
	var ids []string
	for _, r := range reservations {
		for _, inst := range r.Instances {
			ids = append(ids, aws.ToString(inst.InstanceId))
		}
	}
	return ids
}

func b64(s string) *string { return aws.String(base64.StdEncoding.EncodeToString([]byte(s))) }

func tagValue(tags []types.Tag, key string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}
