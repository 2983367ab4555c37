package emulator

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// inProcess returns an SDK configuration whose requests e serves in-process.
func inProcess(e *Emulator) aws.Config {
	return aws.Config{
		Region:       e.Region(),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Transport: e.Transport()},
		BaseEndpoint: aws.String("http://emulator.invalid"),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// TestWiring: one handler routes each protocol to its service, and the services see each other:
// a resolve:ssm image id, instance metadata answering as the instance just launched, with its
// tags, and a private zone on its VPC.
func TestWiring(t *testing.T) {
	e, err := New(Options{Seed: "wiring"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cfg := inProcess(e)
	ctx := context.Background()
	out, err := ec2.NewFromConfig(cfg).RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId:  aws.String("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro,
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{InstanceMetadataTags: ec2types.InstanceMetadataTagsStateEnabled},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("ClientId"), Value: aws.String("acme")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	inst := out.Instances[0]
	param, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(inst.ImageId) != aws.ToString(param.Parameter.Value) {
		t.Errorf("image %s, want the parameter's %s", aws.ToString(inst.ImageId), aws.ToString(param.Parameter.Value))
	}
	md := imds.New(imds.Options{Endpoint: "http://emulator.invalid", HTTPClient: &http.Client{Transport: e.Transport()}})
	for path, want := range map[string]string{
		"instance-id":            aws.ToString(inst.InstanceId),
		"local-ipv4":             aws.ToString(inst.PrivateIpAddress),
		"tags/instance/ClientId": "acme",
	} {
		res, err := md.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, _ := io.ReadAll(res.Content)
		if string(got) != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	zone, err := route53.NewFromConfig(cfg).CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("local."), CallerReference: aws.String("wiring"),
		VPC: &r53types.VPC{VPCId: inst.VpcId, VPCRegion: r53types.VPCRegion(e.Region())},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/Z") {
		t.Errorf("zone id %s", aws.ToString(zone.HostedZone.Id))
	}
}
