package emulator

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// CreateImage is evaluated on the image and snapshot it makes and the instance it reads, and
// tagging them at creation needs ec2:CreateTags with ec2:CreateAction CreateImage;
// DeregisterImage on the image, whose ARN names no account.
func TestPolicyImages(t *testing.T) {
	run := `{"Effect": "Allow", "Action": ["ec2:RunInstances", "ssm:GetParameters"], "Resource": "*"}`
	image := `{"Effect": "Allow", "Action": "ec2:CreateImage", "Resource": ["arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:*::image/*"]}`
	prefix := "You are not authorized to perform this operation. User: " + user + " is not authorized to perform: "
	ctx := context.Background()
	create := func(e *Emulator) (*ec2.CreateImageOutput, error) {
		c := ec2.NewFromConfig(inProcess(e))
		run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro})
		if err != nil {
			t.Fatal(err)
		}
		return c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: run.Instances[0].InstanceId, Name: aws.String("golden"),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{{Key: aws.String("Role"), Value: aws.String("golden")}}}}})
	}
	_, err := create(policyEmulator(t, `{"Version": "2012-10-17", "Statement": [`+run+`, `+image+`]}`))
	wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, prefix+"ec2:CreateImage on resource: arn:aws:ec2:us-east-1:123456789012:snapshot/* "+
		"because no identity-based policy allows the ec2:CreateImage action")
	_, err = create(policyEmulator(t, `{"Version": "2012-10-17", "Statement": [`+run+`, `+image+`,
		{"Effect": "Allow", "Action": "ec2:CreateImage", "Resource": "arn:aws:ec2:*:*:snapshot/*"}]}`))
	wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, prefix+"ec2:CreateTags on resource: arn:aws:ec2:us-east-1::image/* "+
		"because no identity-based policy allows the ec2:CreateTags action")

	e := policyEmulator(t, `{"Version": "2012-10-17", "Statement": [`+run+`, `+image+`,
		{"Effect": "Allow", "Action": "ec2:CreateImage", "Resource": "arn:aws:ec2:*:*:snapshot/*"},
		{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"StringEquals": {"ec2:CreateAction": "CreateImage"}}}]}`)
	out, err := create(e)
	if err != nil {
		t.Fatalf("every resource allowed: %v", err)
	}
	_, err = ec2.NewFromConfig(inProcess(e)).DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: out.ImageId})
	wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, prefix+"ec2:DeregisterImage on resource: arn:aws:ec2:us-east-1::image/"+
		aws.ToString(out.ImageId)+" because no identity-based policy allows the ec2:DeregisterImage action")
}
