package ec2

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

func TestStopStartTerminate(t *testing.T) {
	f := newFixture(t, nil)
	inst := f.run(t, 1, nil).Instances[0]
	id := aws.ToString(inst.InstanceId)
	ip := aws.ToString(inst.PrivateIpAddress)
	change := func(c []types.InstanceStateChange) (string, string) {
		t.Helper()
		if len(c) != 1 || aws.ToString(c[0].InstanceId) != id {
			t.Fatalf("state changes = %+v", c)
		}
		return string(c[0].PreviousState.Name), string(c[0].CurrentState.Name)
	}

	stop, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if prev, cur := change(stop.StoppingInstances); prev != "running" || cur != "stopping" {
		t.Errorf("stop: %s -> %s, want running -> stopping", prev, cur)
	}
	stopped := f.describe(t, id)
	if stopped.State.Name != types.InstanceStateNameStopped || aws.ToString(stopped.PrivateIpAddress) != ip {
		t.Errorf("after stop: %s with %s, want stopped keeping %s", stopped.State.Name, aws.ToString(stopped.PrivateIpAddress), ip)
	}
	if !strings.HasPrefix(aws.ToString(stopped.StateTransitionReason), "User initiated (") || aws.ToString(stopped.StateReason.Code) != "Client.UserInitiatedShutdown" {
		t.Errorf("stopped reason = %q, %+v", aws.ToString(stopped.StateTransitionReason), stopped.StateReason)
	}
	again, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("stopping a stopped instance: %v", err)
	}
	if prev, cur := change(again.StoppingInstances); prev != "stopped" || cur != "stopped" {
		t.Errorf("stop again: %s -> %s", prev, cur)
	}

	f.clock.Advance(time.Hour)
	start, err := f.client.StartInstances(f.ctx, &sdk.StartInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if prev, cur := change(start.StartingInstances); prev != "stopped" || cur != "pending" {
		t.Errorf("start: %s -> %s, want stopped -> pending", prev, cur)
	}
	started := f.describe(t, id)
	if started.State.Name != types.InstanceStateNameRunning || aws.ToString(started.PrivateIpAddress) != ip {
		t.Errorf("after start: %s with %s, want running keeping %s", started.State.Name, aws.ToString(started.PrivateIpAddress), ip)
	}
	if !started.LaunchTime.After(*inst.LaunchTime) {
		t.Errorf("LaunchTime after start = %v, want later than %v", started.LaunchTime, inst.LaunchTime)
	}

	term, err := f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if prev, cur := change(term.TerminatingInstances); prev != "running" || cur != "shutting-down" {
		t.Errorf("terminate: %s -> %s, want running -> shutting-down", prev, cur)
	}
	gone := f.describe(t, id)
	if gone.State.Name != types.InstanceStateNameTerminated || gone.PrivateIpAddress != nil || len(gone.NetworkInterfaces) != 0 {
		t.Errorf("terminated instance shows state %s, address %v, %d interfaces", gone.State.Name, gone.PrivateIpAddress, len(gone.NetworkInterfaces))
	}
	again2, err := f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("terminating twice: %v", err)
	}
	if prev, cur := change(again2.TerminatingInstances); prev != "terminated" || cur != "terminated" {
		t.Errorf("terminate again: %s -> %s", prev, cur)
	}
	_, err = f.client.StartInstances(f.ctx, &sdk.StartInstancesInput{InstanceIds: []string{id}})
	emutest.WantCode(t, err, "IncorrectInstanceState")
	_, err = f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: []string{id}})
	emutest.WantCode(t, err, "IncorrectInstanceState")

	// A terminated instance stays visible for an hour, then it is gone.
	f.clock.Advance(59 * time.Minute)
	f.describe(t, id)
	f.clock.Advance(2 * time.Minute)
	_, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{id}})
	emutest.WantCode(t, err, "InvalidInstanceID.NotFound")
	if _, ok, _ := f.svc.Instance(f.ctx, id); ok {
		t.Error("Instance() still finds a terminated instance after an hour")
	}

	_, err = f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	emutest.WantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = f.client.StartInstances(f.ctx, &sdk.StartInstancesInput{InstanceIds: []string{"i-12"}})
	emutest.WantCode(t, err, "InvalidInstanceID.Malformed")
	// No id at all: AWS's answer is a combination error, the same for all three.
	for action, call := range map[string]func() error{
		"StopInstances": func() error {
			_, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: []string{}})
			return err
		},
		"StartInstances": func() error {
			_, err := f.client.StartInstances(f.ctx, &sdk.StartInstancesInput{InstanceIds: []string{}})
			return err
		},
		"TerminateInstances": func() error {
			_, err := f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{}})
			return err
		},
	} {
		if api := emutest.WantCode(t, call(), "InvalidParameterCombination"); api.ErrorMessage() != "No instances specified" {
			t.Errorf("%s with no ids: %q", action, api.ErrorMessage())
		}
	}
}

// With PendingFor, the transitional states last that long by the clock.
func TestPendingFor(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.PendingFor = 2 * time.Minute
		o.TerminatedFor = 10 * time.Minute
	})
	a := f.run(t, 1, nil).Instances[0]
	b := f.run(t, 1, nil).Instances[0]
	ids := []string{aws.ToString(a.InstanceId), aws.ToString(b.InstanceId)}
	if s := f.describe(t, ids[0]).State.Name; s != types.InstanceStateNamePending {
		t.Errorf("right after launch: %s, want pending", s)
	}
	if _, ok, _ := f.svc.LatestRunning(f.ctx); ok {
		t.Error("LatestRunning found an instance while all are pending")
	}
	_, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: ids[:1]})
	emutest.WantCode(t, err, "IncorrectInstanceState")

	f.clock.Advance(2 * time.Minute)
	if s := f.describe(t, ids[0]).State.Name; s != types.InstanceStateNameRunning {
		t.Errorf("after PendingFor: %s, want running", s)
	}
	latest, ok, err := f.svc.LatestRunning(f.ctx)
	if err != nil || !ok || latest.ID != ids[1] {
		t.Errorf("LatestRunning = %s, %v, %v; want %s", latest.ID, ok, err, ids[1])
	}

	if _, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: ids[1:]}); err != nil {
		t.Fatal(err)
	}
	if s := f.describe(t, ids[1]).State.Name; s != types.InstanceStateNameStopping {
		t.Errorf("right after stop: %s, want stopping", s)
	}
	_, err = f.client.StartInstances(f.ctx, &sdk.StartInstancesInput{InstanceIds: ids[1:]})
	emutest.WantCode(t, err, "IncorrectInstanceState")
	if latest, _, _ := f.svc.LatestRunning(f.ctx); latest.ID != ids[0] {
		t.Errorf("LatestRunning while the latest is stopping = %s, want %s", latest.ID, ids[0])
	}
	f.clock.Advance(2 * time.Minute)
	if s := f.describe(t, ids[1]).State.Name; s != types.InstanceStateNameStopped {
		t.Errorf("after PendingFor: %s, want stopped", s)
	}

	if _, err := f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		t.Fatal(err)
	}
	if s := f.describe(t, ids[0]).State.Name; s != types.InstanceStateNameShuttingDown {
		t.Errorf("right after terminate: %s, want shutting-down", s)
	}
	f.clock.Advance(2 * time.Minute)
	if s := f.describe(t, ids[0]).State.Name; s != types.InstanceStateNameTerminated {
		t.Errorf("after PendingFor: %s, want terminated", s)
	}
	f.clock.Advance(10 * time.Minute)
	out, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{})
	if err != nil || len(out.Reservations) != 0 {
		t.Errorf("after TerminatedFor: %v, %v; want no reservations", instanceIDsOf(out.Reservations), err)
	}
}

// The SDK's InstanceRunning waiter polls DescribeInstances until the instance runs.
func TestInstanceRunningWaiter(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.PendingFor = 25 * time.Minute })
	id := aws.ToString(f.run(t, 1, nil).Instances[0].InstanceId)
	start := f.clock.Now()
	f.clock.step = 10 * time.Minute // every request moves time on
	waiter := sdk.NewInstanceRunningWaiter(f.client, func(o *sdk.InstanceRunningWaiterOptions) {
		o.MinDelay = 2 * time.Millisecond
		o.MaxDelay = 5 * time.Millisecond
	})
	out, err := waiter.WaitForOutput(context.Background(), &sdk.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Reservations[0].Instances[0].State.Name; s != types.InstanceStateNameRunning {
		t.Errorf("waiter ended with %s", s)
	}
	if polls := int(f.clock.Now().Sub(start)/f.clock.step) - 1; polls < 3 {
		t.Errorf("waiter polled %d times; the instance should have been pending at first", polls)
	}
}

// Addresses are never given to two live instances, and come back only when an instance is
// terminated.
func TestPrivateAddresses(t *testing.T) {
	f := newFixture(t, nil)
	available := func() int32 {
		t.Helper()
		out, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{
			Filters: []types.Filter{{Name: aws.String("availability-zone"), Values: []string{"us-east-1a"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(out.Subnets[0].AvailableIpAddressCount)
	}
	if n := available(); n != 4091 {
		t.Fatalf("a fresh /20 has %d free addresses, want 4091", n)
	}
	seen := map[string]string{}
	var ids []string
	for range 10 {
		for _, inst := range f.run(t, 10, nil).Instances {
			ip, id := aws.ToString(inst.PrivateIpAddress), aws.ToString(inst.InstanceId)
			if other, dup := seen[ip]; dup {
				t.Fatalf("%s given to %s and %s", ip, other, id)
			}
			if !inSubnet(&subnet{CIDR: "172.31.0.0/20"}, netip.MustParseAddr(ip)) {
				t.Fatalf("%s is not a usable address of 172.31.0.0/20", ip)
			}
			seen[ip] = id
			ids = append(ids, id)
		}
	}
	if n := available(); n != 4091-100 {
		t.Errorf("after 100 launches: %d free, want %d", n, 4091-100)
	}
	if _, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: ids[:10]}); err != nil {
		t.Fatal(err)
	}
	if n := available(); n != 4091-100 {
		t.Errorf("stopped instances keep their addresses: %d free, want %d", n, 4091-100)
	}
	if _, err := f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: ids[:10]}); err != nil {
		t.Fatal(err)
	}
	if n := available(); n != 4091-90 {
		t.Errorf("after terminating 10: %d free, want %d", n, 4091-90)
	}
}

// A subnet that is full refuses a launch; terminating an instance frees its address for the
// next one. Filling a /20 through the SDK would be slow, so this drives the backend.
func TestSubnetExhaustion(t *testing.T) {
	clock := newTestClock()
	svc, err := New(Options{IDs: wire.IDs{Seed: "full"}, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	im := PublicImages("us-east-1")[0]
	req := runRequest{Image: im, InstanceType: "t3.micro", MinCount: 1, MaxCount: 5000, Metadata: metadataOptions{HopLimit: 1}}
	full, err := svc.b.run(context.Background(), svc.now(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Instances) != 4091 {
		t.Fatalf("MaxCount 5000 launched %d, want as many as the subnet has addresses (4091)", len(full.Instances))
	}
	req.MaxCount = 1
	if _, err := svc.b.run(context.Background(), svc.now(), req); err == nil || !strings.Contains(err.Error(), "InsufficientFreeAddressesInSubnet") {
		t.Fatalf("launch into a full subnet: %v", err)
	}
	victim := full.Instances[1234]
	if _, err := svc.b.changeStates(context.Background(), svc.now(), []string{victim.ID}, stopTransition); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.b.run(context.Background(), svc.now(), req); err == nil {
		t.Fatal("a stopped instance's address was given away")
	}
	if _, err := svc.b.changeStates(context.Background(), svc.now(), []string{victim.ID}, terminateTransition); err != nil {
		t.Fatal(err)
	}
	next, err := svc.b.run(context.Background(), svc.now(), req)
	if err != nil {
		t.Fatal(err)
	}
	if next.Instances[0].PrivateIP != victim.PrivateIP {
		t.Errorf("the only free address is %s, got %s", victim.PrivateIP, next.Instances[0].PrivateIP)
	}
}

// State survives a new Service on the same directory, and seeded ids are reproducible.
func TestStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	open := func() (*Service, *sdk.Client, func()) {
		svc, err := New(Options{Dir: dir, IDs: wire.IDs{Seed: "reopen"}, Clock: clock.Now, Parameters: publicParameters("us-east-1")})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(svc)
		return svc, sdk.NewFromConfig(emutest.Config(srv.URL)), func() { srv.Close(); svc.Close() }
	}
	_, client, closeFirst := open()
	ctx := context.Background()
	run, err := client.RunInstances(ctx, &sdk.RunInstancesInput{
		ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		ClientToken:       aws.String("persist"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("ClientId"), Value: aws.String("acme")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	first := run.Instances[0]
	vpcs, _ := client.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{})
	closeFirst()

	svc, client, closeSecond := open()
	defer closeSecond()
	out, err := client.DescribeInstances(ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{aws.ToString(first.InstanceId)}})
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	inst := out.Reservations[0].Instances[0]
	if aws.ToString(inst.PrivateIpAddress) != aws.ToString(first.PrivateIpAddress) {
		t.Errorf("address after reopening = %s, want %s", aws.ToString(inst.PrivateIpAddress), aws.ToString(first.PrivateIpAddress))
	}
	if v, _ := tagValue(inst.Tags, "ClientId"); v != "acme" {
		t.Errorf("tag after reopening = %q", v)
	}
	again, err := client.RunInstances(ctx, &sdk.RunInstancesInput{
		ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		ClientToken:       aws.String("persist"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("ClientId"), Value: aws.String("acme")}}}},
	})
	if err != nil || aws.ToString(again.Instances[0].InstanceId) != aws.ToString(first.InstanceId) {
		t.Errorf("client token after reopening: %v, %v", again, err)
	}
	vpcs2, _ := client.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{})
	if aws.ToString(vpcs2.Vpcs[0].VpcId) != aws.ToString(vpcs.Vpcs[0].VpcId) {
		t.Errorf("default VPC changed from %s to %s", aws.ToString(vpcs.Vpcs[0].VpcId), aws.ToString(vpcs2.Vpcs[0].VpcId))
	}
	if ok, err := svc.VPCExists(context.Background(), "us-east-1", aws.ToString(vpcs.Vpcs[0].VpcId)); !ok || err != nil {
		t.Errorf("VPCExists(default) = %v, %v", ok, err)
	}
	if ok, _ := svc.VPCExists(context.Background(), "us-east-1", "vpc-0123456789abcdef0"); ok {
		t.Error("VPCExists(unknown) = true")
	}

	// The same seed in another directory makes the same ids.
	other, err := New(Options{Dir: t.TempDir(), IDs: wire.IDs{Seed: "reopen"}, Clock: clock.Now, Parameters: publicParameters("us-east-1")})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	res, err := other.b.run(context.Background(), other.now(), runRequest{Image: PublicImages("us-east-1")[0], InstanceType: "t3.micro", MinCount: 1, MaxCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Instances[0].ID != aws.ToString(first.InstanceId) || res.Instances[0].PrivateIP != aws.ToString(first.PrivateIpAddress) {
		t.Errorf("seeded launch in a new directory = %s %s, want %s %s", res.Instances[0].ID, res.Instances[0].PrivateIP, aws.ToString(first.InstanceId), aws.ToString(first.PrivateIpAddress))
	}
}

// Injected faults reach the SDK as EC2's throttling and server errors.
func TestWriteFault(t *testing.T) {
	svc, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	for fault, want := range map[wire.Fault]struct {
		code   string
		status int
	}{
		wire.Throttle:    {"RequestLimitExceeded", http.StatusServiceUnavailable},
		wire.ServerError: {"InternalError", http.StatusInternalServerError},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { svc.WriteFault(w, r, fault) }))
		_, err := sdk.NewFromConfig(emutest.Config(srv.URL)).DescribeInstances(context.Background(), &sdk.DescribeInstancesInput{})
		srv.Close()
		emutest.WantCode(t, err, want.code)
		var respErr *awshttp.ResponseError
		if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != want.status {
			t.Errorf("%s: HTTP status not %d", want.code, want.status)
		}
	}
}

// Requests the SDK cannot make: no action, an unknown action, a malformed form.
func TestActionErrors(t *testing.T) {
	f := newFixture(t, nil)
	srv := httptest.NewServer(f.svc)
	defer srv.Close()
	for form, code := range map[string]string{
		"Version=2016-11-15":                                                        "MissingAction",
		"Action=LaunchRocket&Version=2016-11-15":                                    "InvalidAction",
		"Action=DescribeVpcs&DryRun=maybe":                                          "InvalidParameterValue",
		"Action=CreateTags&Tag.1.Key=a":                                             "MissingParameter",
		"Action=DescribeInstanceAttribute&InstanceId=i-0123456789abcdef0":           "MissingParameter",
		"Action=RunInstances&ImageId=ami-0123456789abcdef0&MinCount=one&MaxCount=1": "InvalidParameterValue",
	} {
		values, _ := url.ParseQuery(form)
		resp, err := http.PostForm(srv.URL, values)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>"+code+"</Code>") || !strings.Contains(string(body), "<RequestID>") {
			t.Errorf("%s: %d %s, want 400 %s", form, resp.StatusCode, body, code)
		}
	}
	_, err := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{DryRun: aws.Bool(true)})
	emutest.WantCode(t, err, "DryRunOperation")
}
