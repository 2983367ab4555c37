package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// policyEmulator opens an in-memory emulator that enforces doc.
func policyEmulator(t *testing.T, doc string) *Emulator {
	t.Helper()
	p, err := ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Seed: "iam", Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// wantDenied checks that err is the protocol's AccessDenied with that HTTP status, and that its
// message is AWS's, in full.
func wantDenied(t *testing.T, err error, code string, status int, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != message {
		t.Errorf("got %s: %s\nwant %s: %s", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Errorf("HTTP status %d, want %d", re.HTTPStatusCode(), status)
	}
}

const user = "arn:aws:iam::123456789012:user/test" // inProcess signs with access key "test"

// Each protocol answers a request the policy does not allow with its own AccessDenied, naming
// the action and the resource as AWS does, and does nothing; what the policy allows works.
func TestPolicyDeniesInEachProtocol(t *testing.T) {
	e := policyEmulator(t, `{"Version": "2012-10-17", "Statement": [
		{"Sid": "Params", "Effect": "Allow", "Action": ["ssm:PutParameter", "ssm:GetParameter*"], "Resource": "arn:aws:ssm:*:*:parameter/clients/acme/*"},
		{"Sid": "Zones", "Effect": "Allow", "Action": ["route53:CreateHostedZone", "route53:ListHostedZones*"], "Resource": "*"},
		{"Sid": "Describe", "Effect": "Allow", "Action": "ec2:DescribeI*", "Resource": "*"},
		{"Sid": "NoTerminate", "Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"}]}`)
	cfg := inProcess(e)
	ctx := context.Background()
	sc := ssm.NewFromConfig(cfg)

	if _, err := sc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/clients/acme/DB"), Value: aws.String("x"), Type: "String"}); err != nil {
		t.Fatalf("allowed PutParameter: %v", err)
	}
	_, err := sc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/clients/beta/DB"), Value: aws.String("x"), Type: "String"})
	wantDenied(t, err, "AccessDeniedException", http.StatusBadRequest, "User: "+user+" is not authorized to perform: ssm:PutParameter on resource: "+
		"arn:aws:ssm:us-east-1:123456789012:parameter/clients/beta/DB because no identity-based policy allows the ssm:PutParameter action")
	_, err = sc.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/clients/acme/DB", "/clients/beta/DB"}})
	wantDenied(t, err, "AccessDeniedException", http.StatusBadRequest, "User: "+user+" is not authorized to perform: ssm:GetParameters on resource: "+
		"arn:aws:ssm:us-east-1:123456789012:parameter/clients/beta/DB because no identity-based policy allows the ssm:GetParameters action")
	_, err = sc.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	wantDenied(t, err, "AccessDeniedException", http.StatusBadRequest, "User: "+user+" is not authorized to perform: ssm:DescribeParameters on resource: "+
		"arn:aws:ssm:us-east-1:123456789012:* because no identity-based policy allows the ssm:DescribeParameters action")
	if _, err := sc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/clients/beta/DB")}); err == nil {
		t.Error("the denied PutParameter wrote the parameter")
	}

	rc := route53.NewFromConfig(cfg)
	_, err = rc.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("local."), CallerReference: aws.String("r"),
		VPC: &r53types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: r53types.VPCRegionUsEast1}})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "User: "+user+" is not authorized to perform: ec2:DescribeVpcs "+
		"because no identity-based policy allows the ec2:DescribeVpcs action")
	zone, err := rc.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com."), CallerReference: aws.String("r")})
	if err != nil {
		t.Fatalf("allowed CreateHostedZone: %v", err)
	}
	id := strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")
	_, err = rc.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "User: "+user+" is not authorized to perform: route53:ListResourceRecordSets on resource: "+
		"arn:aws:route53:::hostedzone/"+id+" because no identity-based policy allows the route53:ListResourceRecordSets action")

	xc := ec2.NewFromConfig(cfg)
	if _, err := xc.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("allowed DescribeInstances: %v", err)
	}
	_, err = xc.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, "You are not authorized to perform this operation. User: "+user+
		" is not authorized to perform: ec2:TerminateInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0 "+
		"with an explicit deny in an identity-based policy")
}

// RunInstances is evaluated on every resource a launch uses or makes, as AWS evaluates it; with
// tags, ec2:CreateTags too; with a resolve:ssm image, ssm:GetParameters on the parameter; with
// an instance profile, iam:PassRole on its role.
func TestPolicyRunInstancesResources(t *testing.T) {
	base := `{"Sid": "Run", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": [
			"arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:*:*:network-interface/*", "arn:aws:ec2:*:*:volume/*",
			"arn:aws:ec2:*::image/*", "arn:aws:ec2:*:*:subnet/*", "arn:aws:ec2:*:*:security-group/*"]}`
	run := func(e *Emulator) error {
		_, err := ec2.NewFromConfig(inProcess(e)).RunInstances(context.Background(), &ec2.RunInstancesInput{
			ImageId:  aws.String("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro,
			KeyName:            aws.String("ops"),
			IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("app")},
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("ClientId"), Value: aws.String("acme")}}}},
		})
		return err
	}
	prefix := "You are not authorized to perform this operation. User: " + user + " is not authorized to perform: "
	for _, tc := range []struct {
		name, statements, want string
	}{
		{"no key pair", base, "ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:key-pair/ops because no identity-based policy allows the ec2:RunInstances action"},
		{"no tagging", base + `, {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:key-pair/ops"}`,
			"ec2:CreateTags on resource: arn:aws:ec2:us-east-1:123456789012:instance/* because no identity-based policy allows the ec2:CreateTags action"},
		{"no PassRole", base + `, {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:key-pair/ops"},
			{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}}}`,
			"iam:PassRole on resource: arn:aws:iam::123456789012:role/app because no identity-based policy allows the iam:PassRole action"},
		{"no parameter", base + `, {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:key-pair/ops"},
			{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}}},
			{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/app"}`,
			"ssm:GetParameters on resource: arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 " +
				"because no identity-based policy allows the ssm:GetParameters action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := policyEmulator(t, `{"Version": "2012-10-17", "Statement": [`+tc.statements+`]}`)
			wantDenied(t, run(e), "UnauthorizedOperation", http.StatusForbidden, prefix+tc.want)
		})
	}
	e := policyEmulator(t, `{"Version": "2012-10-17", "Statement": [`+base+`, {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:key-pair/ops"},
		{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}}},
		{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/app"},
		{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "arn:aws:ssm:*::parameter/aws/service/*"}]}`)
	if err := run(e); err != nil {
		t.Fatalf("every resource allowed: %v", err)
	}
	// Tagging on its own is not tagging at launch: the condition keeps CreateTags to launches.
	_, err := ec2.NewFromConfig(inProcess(e)).CreateTags(context.Background(), &ec2.CreateTagsInput{
		Resources: []string{"i-0123456789abcdef0"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, prefix+"ec2:CreateTags on resource: "+
		"arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0 because no identity-based policy allows the ec2:CreateTags action")
}

// Without a policy, everything is allowed, as before.
func TestNoPolicyAllowsAll(t *testing.T) {
	e, err := New(Options{Seed: "iam"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := ssm.NewFromConfig(inProcess(e)).DescribeParameters(context.Background(), &ssm.DescribeParametersInput{}); err != nil {
		t.Fatal(err)
	}
}

// A launch whose subnet and group are given on its network interface is evaluated on those.
func TestPolicyRunInstancesNetworkInterface(t *testing.T) {
	e, err := New(Options{Seed: "iam"})
	if err != nil {
		t.Fatal(err)
	}
	subnets, err := ec2.NewFromConfig(inProcess(e)).DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	image := publicImage(t, e) // the same in every emulator of the region
	e.Close()
	if err != nil || len(subnets.Subnets) < 2 {
		t.Fatalf("subnets: %v", err)
	}
	other := aws.ToString(subnets.Subnets[1].SubnetId)
	p := policyEmulator(t, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:RunInstances", "NotResource": "arn:aws:ec2:*:*:subnet/`+other+`"}]}`)
	_, err = ec2.NewFromConfig(inProcess(p)).RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String(image), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro,
		NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(other)}},
	})
	wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, "You are not authorized to perform this operation. User: "+user+
		" is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:subnet/"+other+
		" because no identity-based policy allows the ec2:RunInstances action")
}

// publicImage is the id of the emulator's Amazon Linux 2023 image in its region.
func publicImage(t *testing.T, e *Emulator) string {
	t.Helper()
	out, err := ssm.NewFromConfig(inProcess(e)).GetParameter(context.Background(), &ssm.GetParameterInput{
		Name: aws.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")})
	if err != nil {
		t.Fatalf("the image parameter: %v", err)
	}
	return aws.ToString(out.Parameter.Value)
}
