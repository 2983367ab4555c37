package ec2

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

func tag(key, value string) types.Tag {
	return types.Tag{Key: aws.String(key), Value: aws.String(value)}
}

func TestCreateAndDeleteTags(t *testing.T) {
	f := newFixture(t, nil)
	inst := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.TagSpecifications = []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{tag("ClientId", "acme")}},
			{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{tag("Backup", "daily")}},
		}
	}).Instances[0]
	id := aws.ToString(inst.InstanceId)
	volume := aws.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId)
	vpcs, _ := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{})
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)

	_, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{
		Resources: []string{id, vpc, volume},
		Tags:      []types.Tag{tag("Env", "prod"), tag("ClientId", "acme-2"), {Key: aws.String("Empty")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tags := f.describe(t, id).Tags
	if got := fmt.Sprint(tagPairs(tags)); got != "[ClientId=acme-2 Env=prod Empty=]" {
		t.Errorf("instance tags = %s, want the value replaced in place and the new ones after", got)
	}
	vpcs, _ = f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("tag:Env"), Values: []string{"prod"}}}})
	if len(vpcs.Vpcs) != 1 {
		t.Errorf("VPC tag filter found %d", len(vpcs.Vpcs))
	}

	// A Value deletes only when it matches; no Value deletes the key.
	_, err = f.client.DeleteTags(f.ctx, &sdk.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{tag("Env", "dev")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tagValue(f.describe(t, id).Tags, "Env"); !ok {
		t.Error("DeleteTags with another value deleted the tag")
	}
	_, err = f.client.DeleteTags(f.ctx, &sdk.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{tag("Env", "prod"), {Key: aws.String("ClientId")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(tagPairs(f.describe(t, id).Tags)); got != "[Empty=]" {
		t.Errorf("after deleting by value and by key: %s", got)
	}
	_, err = f.client.DeleteTags(f.ctx, &sdk.DeleteTagsInput{Resources: []string{id, vpc}})
	if err != nil {
		t.Fatal(err)
	}
	if tags := f.describe(t, id).Tags; len(tags) != 0 {
		t.Errorf("DeleteTags without tags left %v", tagPairs(tags))
	}

	many := func(n int, prefix string) []types.Tag {
		var out []types.Tag
		for i := range n {
			out = append(out, tag(fmt.Sprintf("%s%d", prefix, i), "v"))
		}
		return out
	}
	if _, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{id}, Tags: many(50, "a")}); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	_, err = f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{id}, Tags: many(1, "b")})
	emutest.WantCode(t, err, "TagLimitExceeded")
	if _, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{id}, Tags: many(1, "a")}); err != nil {
		t.Errorf("replacing a value at the limit: %v", err)
	}

	errs := []struct {
		name      string
		resources []string
		tags      []types.Tag
		code      string
	}{
		{"reserved prefix", []string{vpc}, []types.Tag{tag("aws:cloudformation:stack-name", "x")}, "InvalidParameterValue"},
		{"reserved prefix, any case", []string{vpc}, []types.Tag{tag("AWS:x", "x")}, "InvalidParameterValue"},
		{"long key", []string{vpc}, []types.Tag{tag(strings.Repeat("k", 129), "x")}, "InvalidParameterValue"},
		{"long value", []string{vpc}, []types.Tag{tag("k", strings.Repeat("v", 257))}, "InvalidParameterValue"},
		{"unknown instance", []string{"i-0123456789abcdef0"}, []types.Tag{tag("k", "v")}, "InvalidInstanceID.NotFound"},
		{"malformed instance", []string{"i-zz"}, []types.Tag{tag("k", "v")}, "InvalidInstanceID.Malformed"},
		{"unknown subnet", []string{"subnet-0123456789abcdef0"}, []types.Tag{tag("k", "v")}, "InvalidSubnetID.NotFound"},
		{"unknown kind", []string{"acme"}, []types.Tag{tag("k", "v")}, "InvalidID"},
	}
	for _, c := range errs {
		_, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: c.resources, Tags: c.tags})
		t.Run(c.name, func(t *testing.T) { emutest.WantCode(t, err, c.code) })
	}
	// Nothing of a refused request is kept.
	_, err = f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{vpc, "vpc-0123456789abcdef0"}, Tags: []types.Tag{tag("Half", "done")}})
	emutest.WantCode(t, err, "InvalidVpcID.NotFound")
	vpcs, _ = f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{})
	if len(vpcs.Vpcs[0].Tags) != 0 {
		t.Errorf("a refused CreateTags tagged the VPC: %v", tagPairs(vpcs.Vpcs[0].Tags))
	}
	_, err = f.client.DeleteTags(f.ctx, &sdk.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("aws:x")}}})
	emutest.WantCode(t, err, "InvalidParameterValue")
	_, err = f.client.DeleteTags(f.ctx, &sdk.DeleteTagsInput{Resources: []string{"i-0123456789abcdef0"}})
	emutest.WantCode(t, err, "InvalidInstanceID.NotFound")
}

func tagPairs(tags []types.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return out
}

// TestMetadataTagKeys: an instance whose tags are in its instance metadata may only have keys
// that make paths there, at launch and later.
func TestMetadataTagKeys(t *testing.T) {
	f := newFixture(t, nil)
	launch := func(key string) (*sdk.RunInstancesOutput, error) {
		return f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{
			ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			MetadataOptions:   &types.InstanceMetadataOptionsRequest{InstanceMetadataTags: types.InstanceMetadataTagsStateEnabled},
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{tag(key, "v")}}},
		})
	}
	for _, key := range []string{"Client Id", "client/id", ".", "..", "_index", "clé"} {
		_, err := launch(key)
		if apiErr := emutest.WantCode(t, err, "InvalidParameterValue"); !strings.Contains(apiErr.ErrorMessage(), "( "+key+" )") {
			t.Errorf("%q: message %q does not name the key", key, apiErr.ErrorMessage())
		}
	}
	out, err := launch("Client-Id_1:a@b,c+=.d")
	if err != nil {
		t.Fatalf("a key of every allowed character: %v", err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	_, err = f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{tag("Owner", "ops"), tag("Cost Centre", "42")}})
	emutest.WantCode(t, err, "InvalidParameterValue")
	if _, ok := tagValue(f.describe(t, id).Tags, "Owner"); ok {
		t.Error("the refused CreateTags added a tag")
	}
	// Without tags in instance metadata any key goes.
	plain := aws.ToString(f.run(t, 1, nil).Instances[0].InstanceId)
	if _, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{plain}, Tags: []types.Tag{tag("Cost Centre", "42"), tag("a/b", "c")}}); err != nil {
		t.Errorf("CreateTags on an instance without tags in metadata: %v", err)
	}
}

// CreateTags and DeleteTags without a resource name the parameter as AWS does: resourceIdSet.
func TestTagsWithoutResources(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	if api := emutest.WantCode(t, err, "MissingParameter"); api.ErrorMessage() != "The request must contain the parameter resourceIdSet" {
		t.Errorf("CreateTags: %q", api.ErrorMessage())
	}
	_, err = f.client.DeleteTags(f.ctx, &sdk.DeleteTagsInput{Resources: []string{}})
	if api := emutest.WantCode(t, err, "MissingParameter"); api.ErrorMessage() != "The request must contain the parameter resourceIdSet" {
		t.Errorf("DeleteTags: %q", api.ErrorMessage())
	}
}
