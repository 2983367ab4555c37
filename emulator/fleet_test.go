package emulator

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// waitEndpoints polls e's instance endpoints until ok says they are as wanted, failing the test
// after ten seconds: ServeInstances opens and closes ports on its own schedule.
func waitEndpoints(t *testing.T, e *Emulator, ok func(map[string]string) bool) map[string]string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		urls, err := e.InstanceEndpoints(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok(urls) {
			return urls
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance endpoints never became as wanted: %v", urls)
		}
	}
}

// TestInstanceEndpoints: each instance's own port answers instance metadata as that instance,
// to the SDK's client given only that address; a terminated instance's port is closed and
// forgotten; a restarted emulator opens the same ports again.
func TestInstanceEndpoints(t *testing.T) {
	dir := t.TempDir()
	e, err := New(Options{Dir: dir, Seed: "fleet"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		e.ServeInstances(ctx, InstanceServing{Host: "127.0.0.1", IdleTimeout: time.Second, Report: func(err error) { t.Error(err) }})
	}()
	client := ec2.NewFromConfig(inProcess(e))
	var ids []string
	for _, clientID := range []string{"a", "b", "c"} {
		out, err := client.RunInstances(context.Background(), &ec2.RunInstancesInput{
			ImageId: aws.String("ami-0639efad2af438260"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{InstanceMetadataTags: ec2types.InstanceMetadataTagsStateEnabled},
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("ClientId"), Value: aws.String(clientID)}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.Instances[0].InstanceId))
	}
	urls := waitEndpoints(t, e, func(u map[string]string) bool { return len(u) == 3 })
	for i, id := range ids {
		md := imds.New(imds.Options{Endpoint: urls[id]})
		for path, want := range map[string]string{"instance-id": id, "tags/instance/ClientId": []string{"a", "b", "c"}[i]} {
			res, err := md.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: path})
			if err != nil {
				t.Fatalf("%s at %s: %v", path, urls[id], err)
			}
			got, _ := io.ReadAll(res.Content)
			if string(got) != want {
				t.Errorf("%s at %s: %q, want %q", path, urls[id], got, want)
			}
		}
	}

	if _, err := client.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, e, func(u map[string]string) bool { _, kept := u[ids[0]]; return len(u) == 2 && !kept })
	stop()
	<-served
	e.Close()

	again, err := New(Options{Dir: dir, Seed: "fleet"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	ctx, stop = context.WithCancel(context.Background())
	defer stop()
	go again.ServeInstances(ctx, InstanceServing{Host: "127.0.0.1", IdleTimeout: time.Second, Report: func(err error) { t.Error(err) }})
	md := imds.New(imds.Options{Endpoint: urls[ids[1]]})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		res, err := md.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: "instance-id"})
		if err == nil {
			got, _ := io.ReadAll(res.Content)
			if string(got) != ids[1] {
				t.Errorf("after a restart, %s answers as %s, want %s", urls[ids[1]], got, ids[1])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a restart, %s does not answer: %v", urls[ids[1]], err)
		}
	}
}
