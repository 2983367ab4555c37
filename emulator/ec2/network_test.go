package ec2

import (
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

func TestDefaultVPC(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Region = "eu-west-1"; o.Parameters = publicParameters("eu-west-1") })
	vpcs, err := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vpcs.Vpcs) != 1 {
		t.Fatalf("%d VPCs, want the default one", len(vpcs.Vpcs))
	}
	vpc := vpcs.Vpcs[0]
	vpcID := aws.ToString(vpc.VpcId)
	if !regexp.MustCompile(`^vpc-[0-9a-f]{17}$`).MatchString(vpcID) || aws.ToString(vpc.CidrBlock) != "172.31.0.0/16" ||
		!aws.ToBool(vpc.IsDefault) || vpc.State != types.VpcStateAvailable || aws.ToString(vpc.OwnerId) != "123456789012" {
		t.Errorf("default VPC = %s %s default=%v %s owner %s", vpcID, aws.ToString(vpc.CidrBlock), aws.ToBool(vpc.IsDefault), vpc.State, aws.ToString(vpc.OwnerId))
	}
	byFilter, err := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(byFilter.Vpcs) != 1 {
		t.Errorf("is-default filter: %v, %v", byFilter, err)
	}
	_, err = f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
	emutest.WantCode(t, err, "InvalidVpcID.NotFound")

	subnets, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ zone, cidr string }{{"eu-west-1a", "172.31.0.0/20"}, {"eu-west-1b", "172.31.16.0/20"}, {"eu-west-1c", "172.31.32.0/20"}}
	if len(subnets.Subnets) != len(want) {
		t.Fatalf("%d subnets, want %d", len(subnets.Subnets), len(want))
	}
	for i, s := range subnets.Subnets {
		if aws.ToString(s.AvailabilityZone) != want[i].zone || aws.ToString(s.CidrBlock) != want[i].cidr || !aws.ToBool(s.DefaultForAz) ||
			aws.ToString(s.VpcId) != vpcID || aws.ToInt32(s.AvailableIpAddressCount) != 4091 || s.State != types.SubnetStateAvailable {
			t.Errorf("subnet %d = %s %s default=%v vpc %s free %d", i, aws.ToString(s.AvailabilityZone), aws.ToString(s.CidrBlock), aws.ToBool(s.DefaultForAz), aws.ToString(s.VpcId), aws.ToInt32(s.AvailableIpAddressCount))
		}
	}
	b := aws.ToString(subnets.Subnets[1].SubnetId)
	one, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{SubnetIds: []string{b}})
	if err != nil || len(one.Subnets) != 1 || aws.ToString(one.Subnets[0].SubnetId) != b {
		t.Errorf("by id: %v, %v", one, err)
	}
	filtered, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{Filters: []types.Filter{
		{Name: aws.String("default-for-az"), Values: []string{"true"}},
		{Name: aws.String("availability-zone"), Values: []string{"eu-west-1c"}},
	}})
	if err != nil || len(filtered.Subnets) != 1 || aws.ToString(filtered.Subnets[0].CidrBlock) != "172.31.32.0/20" {
		t.Errorf("filtered: %v, %v", filtered, err)
	}
	_, err = f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
	emutest.WantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	emutest.WantCode(t, err, "InvalidParameterValue")

	// An instance in eu-west-1 gets that region's DNS name, and the subnet one address less.
	inst := f.run(t, 1, func(in *sdk.RunInstancesInput) { in.SubnetId = aws.String(b) }).Instances[0]
	if !regexp.MustCompile(`^ip-172-31-\d+-\d+\.eu-west-1\.compute\.internal$`).MatchString(aws.ToString(inst.PrivateDnsName)) {
		t.Errorf("PrivateDnsName = %s", aws.ToString(inst.PrivateDnsName))
	}
	one, _ = f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{SubnetIds: []string{b}})
	if n := aws.ToInt32(one.Subnets[0].AvailableIpAddressCount); n != 4090 {
		t.Errorf("AvailableIpAddressCount after a launch = %d, want 4090", n)
	}
}

func TestDescribeSecurityGroups(t *testing.T) {
	f := newFixture(t, nil)
	all, err := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{})
	if err != nil || len(all.SecurityGroups) != 1 {
		t.Fatalf("DescribeSecurityGroups: %v, %v", all, err)
	}
	g := all.SecurityGroups[0]
	if aws.ToString(g.GroupName) != "default" || len(g.IpPermissionsEgress) != 1 || aws.ToString(g.IpPermissionsEgress[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Errorf("default group = %+v", g)
	}
	byID, err := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(g.GroupId)}})
	if err != nil || len(byID.SecurityGroups) != 1 {
		t.Errorf("by id: %v, %v", byID, err)
	}
	_, err = f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0123456789abcdef0"}})
	emutest.WantCode(t, err, "InvalidGroup.NotFound")
	_, err = f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{GroupNames: []string{"web"}})
	emutest.WantCode(t, err, "InvalidGroup.NotFound")
	_, err = f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{GroupIds: []string{"web"}})
	emutest.WantCode(t, err, "InvalidGroupId.Malformed")
}

func TestDescribeImages(t *testing.T) {
	f := newFixture(t, nil)
	builder := f.run(t, 1, nil).Instances[0].InstanceId
	made, err := f.client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: builder, Name: aws.String("acme-golden-2025-06-01")})
	if err != nil {
		t.Fatal(err)
	}
	own := Image{ID: aws.ToString(made.ImageId), Name: "acme-golden-2025-06-01"}
	public := PublicImages("us-east-1")
	for _, im := range public {
		if !wire.IsImageID(im.ID) || len(im.ID) != 21 || len(im.Parameters) == 0 {
			t.Errorf("public image %s %s has %d parameters", im.ID, im.Name, len(im.Parameters))
		}
	}
	if PublicImages("us-east-1")[0].ID != public[0].ID || PublicImages("eu-west-1")[0].ID == public[0].ID {
		t.Error("image ids are not stable per region")
	}
	amazon, err := f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(amazon.Images) != len(public) {
		t.Fatalf("Owners amazon: %d images, %v; want %d", len(amazon.Images), err, len(public))
	}
	self, err := f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil || len(self.Images) != 1 || aws.ToString(self.Images[0].OwnerId) != "123456789012" || aws.ToString(self.Images[0].Name) != own.Name {
		t.Fatalf("Owners self: %+v, %v", self.Images, err)
	}
	named, err := f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{
		Owners:  []string{AmazonOwnerID},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023.*-arm64"}}},
	})
	if err != nil || len(named.Images) != 1 || named.Images[0].Architecture != "arm64" || named.Images[0].ImdsSupport != "v2.0" {
		t.Errorf("name filter: %+v, %v", named.Images, err)
	}
	byID, err := f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{ImageIds: []string{public[4].ID}})
	if err != nil || len(byID.Images) != 1 || aws.ToString(byID.Images[0].Name) != public[4].Name {
		t.Errorf("by id: %+v, %v", byID.Images, err)
	}
	_, err = f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	emutest.WantCode(t, err, "InvalidAMIID.NotFound")
	_, err = f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{ImageIds: []string{"golden"}})
	emutest.WantCode(t, err, "InvalidAMIID.Malformed")

	// Instances launch from one's own images too.
	inst := f.run(t, 1, func(in *sdk.RunInstancesInput) { in.ImageId = aws.String(own.ID) }).Instances[0]
	if aws.ToString(inst.ImageId) != own.ID {
		t.Errorf("ImageId = %s", aws.ToString(inst.ImageId))
	}
}
