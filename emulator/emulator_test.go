package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
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

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("throttle=0.1, error=0.05,latency=200ms@0.5")
	if err != nil || f.Throttle != 0.1 || f.ServerError != 0.05 || f.Latency != 200*time.Millisecond || f.LatencyRate != 0.5 {
		t.Fatalf("%+v %v", f, err)
	}
	if f.String() != "throttle=0.1,error=0.05,latency=200ms@0.5" {
		t.Errorf("String() = %s", f.String())
	}
	for _, bad := range []string{"throttle", "throttle=2", "error=-1", "latency=soon", "slow=1"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestFaultsSpeakEachProtocol: an injected throttle reaches each SDK client as its service's
// real throttling error, and the SDK's standard retryer gets through a partly throttled service.
func TestFaultsSpeakEachProtocol(t *testing.T) {
	e, err := New(Options{Seed: "faults", Faults: Faults{Throttle: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cfg := inProcess(e)
	ctx := context.Background()
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprint(err)
	}
	_, err = ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if code(err) != "RequestLimitExceeded" {
		t.Errorf("ec2: %v", err)
	}
	_, err = ssm.NewFromConfig(cfg).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"x"}})
	if code(err) != "ThrottlingException" {
		t.Errorf("ssm: %v", err)
	}
	_, err = route53.NewFromConfig(cfg).ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if code(err) != "Throttling" {
		t.Errorf("route53: %v", err)
	}
	res, err := cfg.HTTPClient.(*http.Client).Do(mustRequest(t, http.MethodPut, "http://emulator.invalid/latest/api/token"))
	if err != nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("imds: %v %v", res.StatusCode, err)
	}

	// Half the answers throttled: the standard retryer, as flow configures it, gets through.
	e2, err := New(Options{Seed: "faults", Faults: Faults{Throttle: 0.5, ServerError: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	cfg2 := inProcess(e2)
	cfg2.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.RateLimiter = ratelimit.None
		})
	}
	for i := 0; i < 20; i++ {
		if _, err := ssm.NewFromConfig(cfg2).PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(fmt.Sprintf("p%d", i)), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
}

// TestLatencyHonoursCancellation: added latency ends when the request is cancelled.
func TestLatencyHonoursCancellation(t *testing.T) {
	e, err := New(Options{Faults: Faults{Latency: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = ssm.NewFromConfig(inProcess(e)).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"x"}})
	if err == nil {
		t.Fatal("a request under an hour of latency succeeded")
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
	return req
}
