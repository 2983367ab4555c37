package steps

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/flow-infra/flow/emulator"
	emuec2 "github.com/flow-infra/flow/emulator/ec2"
	"github.com/flow-infra/flow/engine"
)

// ec2TestImage is the Amazon Linux 2023 image by AWS's public parameter, which the emulator
// resolves from its Parameter Store.
const ec2TestImage = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

// ec2Calls counts the SDK operations an *AWS's clients make (once per call, retries aside).
type ec2Calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *ec2Calls) get(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

// countEC2Calls makes a's configuration count operations; call it before a is first used.
func countEC2Calls(a *AWS) *ec2Calls {
	c := &ec2Calls{n: map[string]int{}}
	load := a.Load
	a.Load = func(ctx context.Context) (aws.Config, error) {
		cfg, err := load(ctx)
		cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("flowTestCount", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.n[middleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
		return cfg, err
	}
	return c
}

// ec2TestSetup is an emulator, an AWS on it with its calls counted, a context carrying it, and
// an EC2 client of the same configuration for the test's own checks.
type ec2TestSetup struct {
	ctx   context.Context
	aws   *AWS
	emu   *emulator.Emulator
	calls *ec2Calls
	ec2   *ec2.Client
}

func newEC2TestSetup(t *testing.T, opts emulator.Options) *ec2TestSetup {
	t.Helper()
	a, e := newTestAWS(t, opts)
	s := &ec2TestSetup{aws: a, emu: e, calls: countEC2Calls(a)}
	s.ctx = WithAWS(context.Background(), a)
	cfg, err := a.Config(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.ec2 = ec2.NewFromConfig(cfg)
	return s
}

// instances returns every instance the emulated EC2 shows.
func (s *ec2TestSetup) instances(t *testing.T) []ec2types.Instance {
	t.Helper()
	out, err := s.ec2.DescribeInstances(s.ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var all []ec2types.Instance
	for _, r := range out.Reservations {
		all = append(all, r.Instances...)
	}
	return all
}

func (s *ec2TestSetup) instance(t *testing.T, id string) ec2types.Instance {
	t.Helper()
	out, err := s.ec2.DescribeInstances(s.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Reservations[0].Instances[0]
}

func TestEC2RunLaunchesOnceAndFindsItsInstanceAgain(t *testing.T) {
	s := newEC2TestSetup(t, emulator.Options{Seed: "ec2-run"})
	userData := "#!/bin/sh\n# the image's boot script\nexec /opt/app/boot.sh \"$@\"\n"
	args := map[string]any{
		"image":     ec2TestImage,
		"tags":      map[string]any{"ClientId": "acme", "Name": "acme-app"},
		"user_data": userData,
	}
	out, err := runStepT(t, s.ctx, "ec2.run", args)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := out["instance_id"].(string)
	if !strings.HasPrefix(id, "i-") || out["launched"] != true || out["state"] != "running" {
		t.Fatalf("outputs %v", out)
	}
	inst := s.instance(t, id)
	for field, want := range map[string]string{
		"private_ip":        aws.ToString(inst.PrivateIpAddress),
		"vpc_id":            aws.ToString(inst.VpcId),
		"subnet_id":         aws.ToString(inst.SubnetId),
		"availability_zone": aws.ToString(inst.Placement.AvailabilityZone),
	} {
		if out[field] != want || want == "" {
			t.Errorf("%s: %q, want %q", field, out[field], want)
		}
	}
	if inst.InstanceType != ec2types.InstanceTypeT3Micro {
		t.Errorf("instance type %s, want the default t3.micro", inst.InstanceType)
	}
	tags := map[string]string{}
	for _, tg := range inst.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["ClientId"] != "acme" || tags["Name"] != "acme-app" || len(tags) != 2 {
		t.Errorf("tags %v", tags)
	}
	if m := inst.MetadataOptions; m.InstanceMetadataTags != ec2types.InstanceMetadataTagsStateEnabled || m.HttpTokens != ec2types.HttpTokensStateRequired {
		t.Errorf("metadata options: tags %s, tokens %s; want enabled, required", m.InstanceMetadataTags, m.HttpTokens)
	}
	if len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupName) != "default" {
		t.Errorf("security groups %v, want the VPC's default", inst.SecurityGroups)
	}
	token := aws.ToString(inst.ClientToken)
	if !strings.HasPrefix(token, "flow-") || len(token) > 64 {
		t.Errorf("client token %q", token)
	}

	// The user data went through base64 and back: instance metadata has the text given.
	md := imds.New(imds.Options{EnableFallback: aws.FalseTernary}, s.aws.IMDS...)
	ud, err := md.GetUserData(s.ctx, &imds.GetUserDataInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(ud.Content); string(got) != userData {
		t.Errorf("user data %q, want %q", got, userData)
	}

	// The same arguments again: the same instance, found by the token, and no second launch.
	again, err := runStepT(t, s.ctx, "ec2.run", args)
	if err != nil {
		t.Fatal(err)
	}
	if again["instance_id"] != id || again["launched"] != false || again["state"] != "running" || again["private_ip"] != out["private_ip"] {
		t.Errorf("second run %v, want instance %s found, not launched", again, id)
	}
	if n := s.calls.get("RunInstances"); n != 1 {
		t.Errorf("RunInstances called %d times, want 1", n)
	}
	if n := len(s.instances(t)); n != 1 {
		t.Errorf("%d instances, want 1", n)
	}

	// Another argument: another token, another instance.
	args["tags"] = map[string]any{"ClientId": "beta", "Name": "beta-app"}
	other, err := runStepT(t, s.ctx, "ec2.run", args)
	if err != nil {
		t.Fatal(err)
	}
	if other["instance_id"] == id || other["launched"] != true {
		t.Errorf("run with other tags %v, want a new instance", other)
	}
	if n := len(s.instances(t)); n != 2 {
		t.Errorf("%d instances, want 2", n)
	}
	if got := aws.ToString(s.instance(t, other["instance_id"].(string)).ClientToken); got == token {
		t.Errorf("other arguments made the same token %s", got)
	}
}

func TestEC2RunOptions(t *testing.T) {
	s := newEC2TestSetup(t, emulator.Options{Seed: "ec2-options"})
	subnets, err := s.ec2.DescribeSubnets(s.ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := s.ec2.DescribeSecurityGroups(s.ctx, &ec2.DescribeSecurityGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	sub := subnets.Subnets[len(subnets.Subnets)-1]
	sg := aws.ToString(groups.SecurityGroups[0].GroupId)
	for _, tc := range []struct {
		profile, wantARN string
	}{
		{"app-server", "arn:aws:iam::123456789012:instance-profile/app-server"},
		{"arn:aws:iam::123456789012:instance-profile/path/app", "arn:aws:iam::123456789012:instance-profile/path/app"},
	} {
		out, err := runStepT(t, s.ctx, "ec2.run", map[string]any{
			"image": ec2TestImage, "instance_type": "t3.small", "subnet": aws.ToString(sub.SubnetId),
			"security_groups": []any{sg}, "key_name": "ops", "instance_profile": tc.profile,
			"metadata_tags": false, "wait": false,
		})
		if err != nil {
			t.Fatal(err)
		}
		inst := s.instance(t, out["instance_id"].(string))
		if got := aws.ToString(inst.IamInstanceProfile.Arn); got != tc.wantARN {
			t.Errorf("profile %s: ARN %s, want %s", tc.profile, got, tc.wantARN)
		}
		if out["subnet_id"] != aws.ToString(sub.SubnetId) || out["availability_zone"] != aws.ToString(sub.AvailabilityZone) ||
			inst.InstanceType != "t3.small" || aws.ToString(inst.KeyName) != "ops" ||
			len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupId) != sg {
			t.Errorf("outputs %v; instance %s in %s, key %s, groups %v", out, inst.InstanceType, aws.ToString(inst.SubnetId), aws.ToString(inst.KeyName), inst.SecurityGroups)
		}
		if m := inst.MetadataOptions; m.InstanceMetadataTags != ec2types.InstanceMetadataTagsStateDisabled || m.HttpTokens != ec2types.HttpTokensStateRequired {
			t.Errorf("metadata_tags false: tags %s, tokens %s; want disabled, and IMDSv2 required still", m.InstanceMetadataTags, m.HttpTokens)
		}
		if len(inst.Tags) != 0 {
			t.Errorf("tags %v, want none", inst.Tags)
		}
	}
	_, err = runStepT(t, s.ctx, "ec2.run", map[string]any{"image": "ami-0123456789abcdef0"})
	if err == nil || !strings.HasPrefix(err.Error(), "ec2.run: RunInstances image=ami-0123456789abcdef0 client_token=flow-") ||
		!strings.HasSuffix(err.Error(), ": InvalidAMIID.NotFound: The image id '[ami-0123456789abcdef0]' does not exist") {
		t.Errorf("unknown image: %v", err)
	}
}

func TestEC2RunValidates(t *testing.T) {
	ctx := WithAWS(context.Background(), &AWS{Load: func(context.Context) (aws.Config, error) {
		t.Fatal("a run that does not validate reached AWS")
		return aws.Config{}, nil
	}})
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"image": "ami-1", "security_groups": []any{"web"}}, `security_groups: "web" is not a security group id (sg-...)`},
		{map[string]any{"image": "ami-1", "user_data": strings.Repeat("x", 16385)}, "user_data: 16385 bytes, more than RunInstances' limit of 16384"},
		{map[string]any{"image": "ami-1", "client_token": strings.Repeat("t", 65)}, "client_token: 65 characters, more than RunInstances' limit of 64"},
		{map[string]any{"image": "ami-1", "client_token": "tök"}, `client_token: "tök" holds a character that is not printable ASCII`},
		{map[string]any{"image": "ami-1", "wait_timeout": "0s"}, "wait_timeout: 0s; waiting needs a positive duration, e.g. 10m"},
	} {
		if _, err := runStepT(t, ctx, "ec2.run", tc.args); err == nil || err.Error() != "ec2.run: "+tc.want {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := runStepT(t, context.Background(), "ec2.run", map[string]any{"image": "ami-1"}); err == nil ||
		err.Error() != "ec2.run: this step needs AWS, and the run was started without it" {
		t.Errorf("without AWS: %v", err)
	}
}

// ec2Clock is a clock tests move by hand.
type ec2Clock struct{ now atomic.Int64 }

func newEC2Clock() *ec2Clock {
	c := new(ec2Clock)
	c.now.Store(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *ec2Clock) Now() time.Time          { return time.Unix(0, c.now.Load()).UTC() }
func (c *ec2Clock) Advance(d time.Duration) { c.now.Add(int64(d)) }
func (c *ec2Clock) ticking(step time.Duration) func() time.Time {
	return func() time.Time { return time.Unix(0, c.now.Add(int64(step))).UTC() }
}

func TestEC2RunAfterTheInstanceWasTerminated(t *testing.T) {
	clock := newEC2Clock()
	s := newEC2TestSetup(t, emulator.Options{Seed: "ec2-terminated", Clock: clock.Now})
	args := map[string]any{"image": ec2TestImage, "tags": map[string]any{"ClientId": "acme"}}
	out, err := runStepT(t, s.ctx, "ec2.run", args)
	if err != nil {
		t.Fatal(err)
	}
	id := out["instance_id"].(string)
	token := aws.ToString(s.instance(t, id).ClientToken)
	// Stopped: found, and returned as it is; ec2.run does not start instances, nor wait for them.
	if _, err := s.ec2.StopInstances(s.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if out, err := runStepT(t, s.ctx, "ec2.run", args); err != nil || out["instance_id"] != id || out["state"] != "stopped" || out["launched"] != false {
		t.Errorf("stopped: %v, %v", out, err)
	}
	if _, err := s.ec2.TerminateInstances(s.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	want := "ec2.run: instance " + id + " launched with client token " + token + " was terminated; " +
		"to launch a new one change an argument (e.g. provision's generation input) or set client_token"
	if _, err := runStepT(t, s.ctx, "ec2.run", args); err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
	// Once the terminated instance is gone from DescribeInstances (after about an hour), EC2
	// itself refuses the token: IdempotentInstanceTerminated.
	clock.Advance(2 * time.Hour)
	want = "ec2.run: the instance launched with client token " + token + " was terminated; " +
		"to launch a new one change an argument (e.g. provision's generation input) or set client_token"
	if _, err := runStepT(t, s.ctx, "ec2.run", args); err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
	if n := s.calls.get("RunInstances"); n != 2 {
		t.Errorf("RunInstances called %d times, want 2 (the launch, and the refused one)", n)
	}
	// A new generation: another argument, another token, a new instance.
	args["tags"] = map[string]any{"ClientId": "acme", "Generation": "2"}
	if out, err := runStepT(t, s.ctx, "ec2.run", args); err != nil || out["launched"] != true {
		t.Errorf("new generation: %v, %v", out, err)
	}
}

func TestEC2RunGivenClientToken(t *testing.T) {
	clock := newEC2Clock()
	s := newEC2TestSetup(t, emulator.Options{Seed: "ec2-token", Clock: clock.Now})
	args := map[string]any{"image": ec2TestImage, "client_token": "acme-app-1"}
	out, err := runStepT(t, s.ctx, "ec2.run", args)
	if err != nil {
		t.Fatal(err)
	}
	id := out["instance_id"].(string)
	if got := aws.ToString(s.instance(t, id).ClientToken); got != "acme-app-1" {
		t.Errorf("client token %q, want the one given", got)
	}
	again, err := runStepT(t, s.ctx, "ec2.run", args)
	if err != nil || again["instance_id"] != id || again["launched"] != false {
		t.Errorf("again: %v, %v", again, err)
	}
	// Terminated and gone, then the token reused with other arguments: EC2 says the arguments
	// differ before it says the instance was terminated.
	if _, err := s.ec2.TerminateInstances(s.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	want := "ec2.run: instance " + id + " launched with client token acme-app-1 was terminated; to launch a new one set another client_token"
	if _, err := runStepT(t, s.ctx, "ec2.run", args); err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
	clock.Advance(2 * time.Hour)
	args["instance_type"] = "t3.large"
	want = "ec2.run: client token acme-app-1 was already used by a RunInstances with other arguments (IdempotentParameterMismatch): " +
		"set another client_token, or give the arguments it was used with"
	if _, err := runStepT(t, s.ctx, "ec2.run", args); err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

// ec2HandlerTransport serves requests with a handler in-process.
type ec2HandlerTransport struct{ h http.Handler }

func (t ec2HandlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r.Clone(r.Context())
	in.RequestURI = r.URL.RequestURI()
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	res := rec.Result()
	res.Request = r
	return res, nil
}

// TestEC2RunWaitsUntilRunning uses the emulated EC2 on its own, since only its Options have
// PendingFor: instances stay pending for a second of a clock that every request moves on by
// 100ms, so the waiter sees pending several times, whatever the real time.
func TestEC2RunWaitsUntilRunning(t *testing.T) {
	clock := newEC2Clock()
	svc, err := emuec2.New(emuec2.Options{PendingFor: time.Second, Clock: clock.ticking(100 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	a := &AWS{Load: func(context.Context) (aws.Config, error) {
		return aws.Config{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			HTTPClient:   &http.Client{Transport: ec2HandlerTransport{svc}},
			BaseEndpoint: aws.String(localEndpoint),
		}, nil
	}}
	calls := countEC2Calls(a)
	ctx := context.WithValue(WithAWS(context.Background(), a), ec2WaitDelaysKey{}, ec2WaitDelays{min: time.Millisecond, max: 2 * time.Millisecond})
	image := emuec2.PublicImages("us-east-1")[0].ID

	out, err := runStepT(t, ctx, "ec2.run", map[string]any{"image": image, "wait": false})
	if err != nil || out["state"] != "pending" || out["launched"] != true {
		t.Fatalf("wait false: %v, %v", out, err)
	}
	// Found again while still pending: it waits for it.
	before := calls.get("DescribeInstances")
	out, err = runStepT(t, ctx, "ec2.run", map[string]any{"image": image, "wait": false})
	if err != nil || out["state"] != "pending" || out["launched"] != false {
		t.Fatalf("wait false, again: %v, %v", out, err)
	}
	out, err = runStepT(t, ctx, "ec2.run", map[string]any{"image": image, "instance_type": "t3.nano"})
	if err != nil || out["state"] != "running" || out["launched"] != true || out["private_ip"] == "" {
		t.Fatalf("wait: %v, %v", out, err)
	}
	// One DescribeInstances by token per run, then the waiter's polls.
	if polls := calls.get("DescribeInstances") - before - 2; polls < 3 {
		t.Errorf("the waiter polled %d times; the instance was pending for about 10 requests", polls)
	}

	// Pending for longer than wait_timeout.
	svcSlow, err := emuec2.New(emuec2.Options{PendingFor: 24 * time.Hour, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svcSlow.Close() })
	a.Load = func(context.Context) (aws.Config, error) {
		return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
			HTTPClient: &http.Client{Transport: ec2HandlerTransport{svcSlow}}, BaseEndpoint: aws.String(localEndpoint)}, nil
	}
	a = &AWS{Load: a.Load}
	ctx = context.WithValue(WithAWS(context.Background(), a), ec2WaitDelaysKey{}, ec2WaitDelays{min: time.Millisecond, max: 2 * time.Millisecond})
	_, err = runStepT(t, ctx, "ec2.run", map[string]any{"image": image, "wait_timeout": "50ms"})
	if err == nil || !strings.HasPrefix(err.Error(), "ec2.run: instance i-") ||
		!strings.HasSuffix(err.Error(), " is still pending after 50ms (wait_timeout); it was not stopped, and a re-run finds it") {
		t.Errorf("timeout: %v", err)
	}

	// Cancelled while waiting.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := runStepT(t, cctx, "ec2.run", map[string]any{"image": image}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancelled: %v", err)
	}
}

func TestEC2Describe(t *testing.T) {
	clock := newEC2Clock()
	s := newEC2TestSetup(t, emulator.Options{Seed: "ec2-describe", Clock: clock.Now})
	launch := func(client string) string {
		t.Helper()
		out, err := runStepT(t, s.ctx, "ec2.run", map[string]any{"image": ec2TestImage, "tags": map[string]any{"ClientId": client, "Role": "app"}})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		return out["instance_id"].(string)
	}
	acme, beta := launch("acme"), launch("beta")

	out, err := runStepT(t, s.ctx, "ec2.describe", map[string]any{"instance_id": acme})
	if err != nil {
		t.Fatal(err)
	}
	inst := s.instance(t, acme)
	want := map[string]any{
		"instance_id": acme, "state": "running", "private_ip": aws.ToString(inst.PrivateIpAddress), "public_ip": aws.ToString(inst.PublicIpAddress),
		"image_id": aws.ToString(inst.ImageId), "instance_type": "t3.micro", "subnet_id": aws.ToString(inst.SubnetId),
		"vpc_id": aws.ToString(inst.VpcId), "availability_zone": aws.ToString(inst.Placement.AvailabilityZone),
		"launch_time": "2026-01-05T09:00:00Z",
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s: %q, want %q", k, out[k], v)
		}
	}
	if out["public_ip"] == "" {
		t.Error("public_ip is empty for an instance in a default subnet, which maps public IPs on launch")
	}
	if tags, _ := out["tags"].(map[string]any); tags["ClientId"] != "acme" || tags["Role"] != "app" || len(tags) != 2 {
		t.Errorf("tags %v", out["tags"])
	}

	out, err = runStepT(t, s.ctx, "ec2.describe", map[string]any{"filters": map[string]any{"tag:ClientId": []any{"beta"}, "instance-state-name": []any{"running"}}})
	if err != nil || out["instance_id"] != beta {
		t.Errorf("by tag: %v, %v; want %s", out["instance_id"], err, beta)
	}

	_, err = runStepT(t, s.ctx, "ec2.describe", map[string]any{"filters": map[string]any{"tag:ClientId": []any{"gamma"}}})
	if err == nil || err.Error() != "ec2.describe: no instance matches tag:ClientId=gamma" {
		t.Errorf("none: %v", err)
	}
	several := map[string]any{"filters": map[string]any{"tag:Role": []any{"app"}, "instance-state-name": []any{"running", "pending"}}}
	_, err = runStepT(t, s.ctx, "ec2.describe", several)
	wantErr := "ec2.describe: 2 instances match instance-state-name=running,pending tag:Role=app: " + acme + " (running), " + beta +
		" (running); narrow the filters, or set first: true to take the most recently launched"
	if err == nil || err.Error() != wantErr {
		t.Errorf("several: %v\nwant %s", err, wantErr)
	}
	several["first"] = true
	if out, err := runStepT(t, s.ctx, "ec2.describe", several); err != nil || out["instance_id"] != beta {
		t.Errorf("first: %v, %v; want the later %s", out["instance_id"], err, beta)
	}

	_, err = runStepT(t, s.ctx, "ec2.describe", map[string]any{"instance_id": "i-0123456789abcdef0"})
	if err == nil || err.Error() != "ec2.describe: no instance i-0123456789abcdef0 (InvalidInstanceID.NotFound)" {
		t.Errorf("unknown id: %v", err)
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, "instance_id: set instance_id or filters"},
		{map[string]any{"instance_id": acme, "filters": map[string]any{"tag:ClientId": []any{"acme"}}}, "filters: set instance_id or filters, not both"},
		{map[string]any{"filters": map[string]any{"tag:ClientId": []any{}}}, "filters: tag:ClientId has no values"},
	} {
		if _, err := runStepT(t, s.ctx, "ec2.describe", tc.args); err == nil || err.Error() != "ec2.describe: "+tc.want {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestEC2Plans(t *testing.T) {
	typ, _ := Default.Lookup("ec2.run")
	planner := typ.(engine.Planner)
	args := map[string]any{"image": "ami-0abc", "tags": map[string]any{"ClientId": "acme"}}
	for _, f := range typ.Inputs() {
		if _, set := args[f.Name]; !set && f.Default != nil {
			args[f.Name] = f.Default
		}
	}
	got := strings.Join(planner.Plan(nil, args), "\n")
	want := "ec2:DescribeInstances client-token=<derived from the workflow name, the step id and the arguments> (an instance of the token that is not terminated is used as it is)\n" +
		"ec2:RunInstances image=ami-0abc type=t3.micro tags=ClientId=acme metadata_tags=true http_tokens=required client_token=<derived from the workflow name, the step id and the arguments> (only when none was found)\n" +
		"ec2:DescribeInstances instance-id=<the instance> until running (every 2s to 15s, up to 10m0s)"
	if got != want {
		t.Errorf("plan\n got %s\nwant %s", got, want)
	}

	// With the run's names, the plan shows the token the run uses.
	s := &ec2Run{Image: "ami-0abc", InstanceType: "t3.micro", MetadataTags: true, Tags: map[string]string{"ClientId": "acme"}}
	rt := &engine.Runtime{Workflow: "provision", Step: "launch"}
	token := s.derivedToken("provision", "launch")
	if lines := s.Plan(rt, Known{}); !strings.Contains(lines[1], "client_token="+token) || len(token) != 53 {
		t.Errorf("plan with runtime: %v (token %s)", lines, token)
	}
	if s.token(rt) != token || s.derivedToken("provision", "launch2") == token || s.derivedToken("provision2", "launch") == token {
		t.Error("the token does not depend on the workflow and the step")
	}
	// Waiting is not part of the token: a longer wait_timeout finds the same instance.
	s2 := *s
	s2.Wait, s2.WaitTimeout = true, time.Hour
	if s2.derivedToken("provision", "launch") != token {
		t.Error("wait changed the token")
	}
	// A literal that looks like a plan's unknown is a value like any other.
	s2.Tags = map[string]string{"ClientId": "<inputs.client>"}
	if lines := s2.Plan(rt, Known{}); !strings.Contains(lines[1], "client_token="+s2.derivedToken("provision", "launch")) {
		t.Errorf("plan with a literal in angle brackets: %v", lines)
	}
	unknown := Known{args: map[string]any{"tags": map[string]any{"ClientId": engine.Unknown{Text: "<steps.a.b>"}}}}
	if lines := s2.Plan(rt, unknown); !strings.Contains(lines[1], "client_token=<derived at run time from the workflow name, the step id and the arguments>") {
		t.Errorf("plan with a runtime expression: %v", lines)
	}
	s2.ClientToken = "given"
	if lines := s2.Plan(rt, unknown); !strings.HasPrefix(lines[0], "ec2:DescribeInstances client-token=given ") {
		t.Errorf("plan with a token: %v", lines)
	}

	d, _ := Default.Lookup("ec2.describe")
	if got := d.(engine.Planner).Plan(nil, map[string]any{"filters": map[string]any{"tag:ClientId": []any{"acme"}, "instance-state-name": []any{"running"}}}); len(got) != 1 ||
		got[0] != "ec2:DescribeInstances instance-state-name=running tag:ClientId=acme" {
		t.Errorf("describe plan %q", got)
	}
}

// launchInputs names every key launchArgs can give, so a plan knows which inputs change the token.
func TestEC2LaunchInputs(t *testing.T) {
	s := &ec2Run{Image: "i", InstanceType: "t", Subnet: "s", KeyName: "k", InstanceProfile: "p", UserData: "u",
		SecurityGroups: []string{"sg"}, Tags: map[string]string{"a": "b"}}
	var keys []string
	for k := range s.launchArgs() {
		keys = append(keys, k)
	}
	want := launchInputs()
	sort.Strings(keys)
	sort.Strings(want)
	if !slices.Equal(keys, want) {
		t.Errorf("launchArgs keys %v, launchInputs %v", keys, want)
	}
}

func TestEC2Lints(t *testing.T) {
	typ, _ := Default.Lookup("ec2.run")
	ws := typ.(engine.Linter).Lint(map[string]any{"security_groups": []any{"default"}})
	if len(ws) != 1 || ws[0].Field != "security_groups" {
		t.Errorf("warnings %v", ws)
	}
	// instance_id from an expression is not a literal: no warning that neither is set.
	d, _ := Default.Lookup("ec2.describe")
	if ws := d.(engine.Linter).Lint(map[string]any{}); len(ws) != 0 {
		t.Errorf("warnings %v", ws)
	}
}

// TestEC2RunAnswerWithoutState: a RunInstances answer that lacks the instance's state or id is
// an error that says so, not a crash.
func TestEC2RunAnswerWithoutState(t *testing.T) {
	const ns = `xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"`
	for _, tc := range []struct{ name, item, want string }{
		{"no state", `<instanceId>i-0abc</instanceId>`,
			"ec2.run: RunInstances answered without the instance's state (instance i-0abc, client token tok-1)"},
		{"no id", `<instanceState><code>0</code><name>pending</name></instanceState>`,
			"ec2.run: RunInstances with client token tok-1 answered without the instance's id"},
	} {
		ctx := fakeAWS(t, func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			switch r.Form.Get("Action") {
			case "DescribeInstances":
				awsXML(w, 200, `<DescribeInstancesResponse `+ns+`><requestId>q</requestId><reservationSet/></DescribeInstancesResponse>`)
			case "RunInstances":
				awsXML(w, 200, `<RunInstancesResponse `+ns+`><requestId>q</requestId><reservationId>r-1</reservationId>`+
					`<instancesSet><item>`+tc.item+`</item></instancesSet></RunInstancesResponse>`)
			default:
				http.Error(w, "unexpected "+r.Form.Get("Action"), 400)
			}
		})
		for _, wait := range []bool{true, false} {
			_, err := runStepT(t, ctx, "ec2.run", map[string]any{"image": "ami-0123456789abcdef0", "client_token": "tok-1", "wait": wait})
			if err == nil || err.Error() != tc.want {
				t.Errorf("%s, wait %t: %v\nwant %s", tc.name, wait, err, tc.want)
			}
		}
	}
}

// TestEC2ErrorsAreMasked: an EC2 error that quotes a secret (here a tag's value) shows it masked,
// with the action, the error code and AWS's message, and still unwraps to the API error.
func TestEC2ErrorsAreMasked(t *testing.T) {
	const secret = "tag-s3cret-value"
	ctx := fakeAWS(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		switch r.Form.Get("Action") {
		case "DescribeInstances":
			awsXML(w, 200, `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>q</requestId><reservationSet/></DescribeInstancesResponse>`)
		default:
			awsXML(w, 400, `<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>Value (`+
				r.Form.Get("TagSpecification.1.Tag.1.Value")+`) for parameter tag is invalid</Message></Error></Errors><RequestID>q</RequestID></Response>`)
		}
	})
	typ, _ := Default.Lookup("ec2.run")
	args := map[string]any{"image": "ami-0123456789abcdef0", "client_token": "tok-1", "tags": map[string]any{"Token": secret}}
	for _, f := range typ.Inputs() {
		if _, set := args[f.Name]; !set && f.Default != nil {
			args[f.Name] = f.Default
		}
	}
	rt := engine.NewRuntime("w", "launch", "", new(engine.Masker))
	rt.Secret(secret)
	_, err := typ.Run(ctx, rt, args)
	want := "ec2.run: RunInstances image=ami-0123456789abcdef0 client_token=tok-1: InvalidParameterValue: Value (***) for parameter tag is invalid"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("the error does not unwrap to the API error: %#v", err)
	}
}
