package ec2

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// createVpc makes a VPC of block; edit adjusts the request.
func (f *fixture) createVpc(t *testing.T, block string, edit func(*sdk.CreateVpcInput)) types.Vpc {
	t.Helper()
	in := &sdk.CreateVpcInput{CidrBlock: aws.String(block)}
	if edit != nil {
		edit(in)
	}
	out, err := f.client.CreateVpc(f.ctx, in)
	if err != nil {
		t.Fatalf("CreateVpc %s: %v", block, err)
	}
	return *out.Vpc
}

// createSubnet makes a subnet of block in vpc; edit adjusts the request.
func (f *fixture) createSubnet(t *testing.T, vpc, block string, edit func(*sdk.CreateSubnetInput)) types.Subnet {
	t.Helper()
	in := &sdk.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(block)}
	if edit != nil {
		edit(in)
	}
	out, err := f.client.CreateSubnet(f.ctx, in)
	if err != nil {
		t.Fatalf("CreateSubnet %s: %v", block, err)
	}
	return *out.Subnet
}

func (f *fixture) defaultVpc(t *testing.T) types.Vpc {
	t.Helper()
	out, err := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("default VPC: %v, %v", out, err)
	}
	return out.Vpcs[0]
}

var (
	vpcIDForm    = regexp.MustCompile(`^vpc-[0-9a-f]{17}$`)
	subnetIDForm = regexp.MustCompile(`^subnet-[0-9a-f]{17}$`)
)

// A VPC and a subnet of one's own, an instance in them, and deleting them again.
func TestCreateVpcAndSubnet(t *testing.T) {
	f := newFixture(t, nil)
	def := f.defaultVpc(t)

	v := f.createVpc(t, "10.1.0.0/16", func(in *sdk.CreateVpcInput) {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{tag("Name", "acme")}}}
	})
	vpcID := aws.ToString(v.VpcId)
	if !vpcIDForm.MatchString(vpcID) || aws.ToString(v.CidrBlock) != "10.1.0.0/16" || aws.ToBool(v.IsDefault) ||
		v.State != types.VpcStatePending || v.InstanceTenancy != types.TenancyDefault || aws.ToString(v.OwnerId) != "123456789012" {
		t.Errorf("CreateVpc = %s %s default=%v %s tenancy %s owner %s", vpcID, aws.ToString(v.CidrBlock), aws.ToBool(v.IsDefault), v.State, v.InstanceTenancy, aws.ToString(v.OwnerId))
	}
	if aws.ToString(v.DhcpOptionsId) != aws.ToString(def.DhcpOptionsId) {
		t.Errorf("DhcpOptionsId = %s, want the account's default %s", aws.ToString(v.DhcpOptionsId), aws.ToString(def.DhcpOptionsId))
	}
	if len(v.CidrBlockAssociationSet) != 1 || aws.ToString(v.CidrBlockAssociationSet[0].CidrBlock) != "10.1.0.0/16" ||
		v.CidrBlockAssociationSet[0].CidrBlockState.State != types.VpcCidrBlockStateCodeAssociated ||
		!strings.HasPrefix(aws.ToString(v.CidrBlockAssociationSet[0].AssociationId), "vpc-cidr-assoc-") {
		t.Errorf("CidrBlockAssociationSet = %+v", v.CidrBlockAssociationSet)
	}
	if got, _ := tagValue(v.Tags, "Name"); got != "acme" {
		t.Errorf("Name tag = %q", got)
	}

	// Described, it is available, and the tag filters find it.
	vpcs, err := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{VpcIds: []string{vpcID}})
	if err != nil || len(vpcs.Vpcs) != 1 || vpcs.Vpcs[0].State != types.VpcStateAvailable {
		t.Fatalf("DescribeVpcs: %+v, %v", vpcs, err)
	}
	for _, flt := range []types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"acme"}},
		{Name: aws.String("tag-key"), Values: []string{"Name"}},
		{Name: aws.String("is-default"), Values: []string{"false"}},
		{Name: aws.String("cidr"), Values: []string{"10.1.0.0/16"}},
	} {
		vpcs, err = f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{Filters: []types.Filter{flt}})
		if err != nil || len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].VpcId) != vpcID {
			t.Errorf("filter %s: %+v, %v", aws.ToString(flt.Name), vpcs, err)
		}
	}
	if exists, err := f.svc.VPCExists(f.ctx, "us-east-1", vpcID); err != nil || !exists {
		t.Errorf("VPCExists(new VPC) = %v, %v", exists, err)
	}

	// Its own default security group.
	groups, err := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}},
	})
	if err != nil || len(groups.SecurityGroups) != 1 {
		t.Fatalf("groups of the new VPC: %+v, %v", groups, err)
	}
	group := groups.SecurityGroups[0]
	if aws.ToString(group.GroupName) != "default" || aws.ToString(group.Description) != "default VPC security group" {
		t.Errorf("default group = %s %q", aws.ToString(group.GroupName), aws.ToString(group.Description))
	}
	all, _ := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{})
	if len(all.SecurityGroups) != 2 {
		t.Errorf("%d security groups, want the two default ones", len(all.SecurityGroups))
	}

	sub := f.createSubnet(t, vpcID, "10.1.1.0/24", func(in *sdk.CreateSubnetInput) {
		in.AvailabilityZone = aws.String("us-east-1b")
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeSubnet, Tags: []types.Tag{tag("Tier", "app")}}}
	})
	subID := aws.ToString(sub.SubnetId)
	if !subnetIDForm.MatchString(subID) || aws.ToString(sub.VpcId) != vpcID || aws.ToString(sub.CidrBlock) != "10.1.1.0/24" ||
		aws.ToString(sub.AvailabilityZone) != "us-east-1b" || aws.ToInt32(sub.AvailableIpAddressCount) != 251 ||
		aws.ToBool(sub.DefaultForAz) || aws.ToBool(sub.MapPublicIpOnLaunch) || sub.State != types.SubnetStateAvailable ||
		aws.ToString(sub.SubnetArn) != "arn:aws:ec2:us-east-1:123456789012:subnet/"+subID {
		t.Errorf("CreateSubnet = %s vpc %s %s %s free %d default=%v public=%v %s %s", subID, aws.ToString(sub.VpcId), aws.ToString(sub.CidrBlock),
			aws.ToString(sub.AvailabilityZone), aws.ToInt32(sub.AvailableIpAddressCount), aws.ToBool(sub.DefaultForAz), aws.ToBool(sub.MapPublicIpOnLaunch), sub.State, aws.ToString(sub.SubnetArn))
	}
	if got, _ := tagValue(sub.Tags, "Tier"); got != "app" {
		t.Errorf("Tier tag = %q", got)
	}
	// Without a zone, one of the region's; a host address is made canonical.
	other := f.createSubnet(t, vpcID, "10.1.2.77/24", nil)
	if zone := aws.ToString(other.AvailabilityZone); !slices.Contains([]string{"us-east-1a", "us-east-1b", "us-east-1c"}, zone) {
		t.Errorf("zone chosen = %q", zone)
	}
	if aws.ToString(other.CidrBlock) != "10.1.2.0/24" {
		t.Errorf("CidrBlock = %s, want the canonical 10.1.2.0/24", aws.ToString(other.CidrBlock))
	}
	subnets, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}})
	if err != nil || len(subnets.Subnets) != 2 {
		t.Errorf("subnets of the VPC: %+v, %v", subnets, err)
	}
	subnets, err = f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("tag:Tier"), Values: []string{"app"}}}})
	if err != nil || len(subnets.Subnets) != 1 || aws.ToString(subnets.Subnets[0].SubnetId) != subID {
		t.Errorf("tag:Tier filter: %+v, %v", subnets, err)
	}

	// CreateTags and DeleteTags take the new ids too.
	if _, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{vpcID, subID}, Tags: []types.Tag{tag("Env", "prod")}}); err != nil {
		t.Fatal(err)
	}
	subnets, _ = f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("tag:Env"), Values: []string{"prod"}}}})
	vpcs, _ = f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("tag:Env"), Values: []string{"prod"}}}})
	if len(subnets.Subnets) != 1 || len(vpcs.Vpcs) != 1 {
		t.Errorf("tag:Env found %d subnets and %d VPCs, want one of each", len(subnets.Subnets), len(vpcs.Vpcs))
	}
	if _, err := f.client.DeleteTags(f.ctx, &sdk.DeleteTagsInput{Resources: []string{vpcID}, Tags: []types.Tag{{Key: aws.String("Name")}}}); err != nil {
		t.Fatal(err)
	}
	vpcs, _ = f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{VpcIds: []string{vpcID}})
	if got := tagPairs(vpcs.Vpcs[0].Tags); len(got) != 1 || got[0] != "Env=prod" {
		t.Errorf("VPC tags after DeleteTags = %v", got)
	}

	// An instance launched in the subnet is in the VPC, with an address of the subnet and the
	// VPC's default group.
	inst := f.run(t, 1, func(in *sdk.RunInstancesInput) { in.SubnetId = aws.String(subID) }).Instances[0]
	id := aws.ToString(inst.InstanceId)
	ip, err := netip.ParseAddr(aws.ToString(inst.PrivateIpAddress))
	if err != nil || !netip.MustParsePrefix("10.1.1.0/24").Contains(ip) || ip.As4()[3] < 4 || ip.As4()[3] == 255 {
		t.Errorf("PrivateIpAddress = %s, want a usable address of 10.1.1.0/24", aws.ToString(inst.PrivateIpAddress))
	}
	if aws.ToString(inst.VpcId) != vpcID || aws.ToString(inst.SubnetId) != subID || aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1b" ||
		len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupId) != aws.ToString(group.GroupId) {
		t.Errorf("instance in vpc %s subnet %s zone %s groups %+v", aws.ToString(inst.VpcId), aws.ToString(inst.SubnetId), aws.ToString(inst.Placement.AvailabilityZone), inst.SecurityGroups)
	}
	if aws.ToString(inst.NetworkInterfaces[0].VpcId) != vpcID {
		t.Errorf("network interface VpcId = %s", aws.ToString(inst.NetworkInterfaces[0].VpcId))
	}
	view, ok, err := f.svc.Instance(f.ctx, id)
	if err != nil || !ok || view.VpcID != vpcID || view.SubnetID != subID || view.PrivateIP != ip.String() || !slices.Equal(view.SecurityGroups, []string{"default"}) {
		t.Errorf("Instance view = %+v, %v, %v", view, ok, err)
	}
	byVpc, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}})
	if err != nil || !slices.Equal(instanceIDsOf(byVpc.Reservations), []string{id}) {
		t.Errorf("instances by vpc-id: %v, %v", instanceIDsOf(byVpc.Reservations), err)
	}
	sub2, _ := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{SubnetIds: []string{subID}})
	if n := aws.ToInt32(sub2.Subnets[0].AvailableIpAddressCount); n != 250 {
		t.Errorf("AvailableIpAddressCount after a launch = %d, want 250", n)
	}
	// A group of another VPC does not go with the subnet.
	_, err = f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{
		ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subID), SecurityGroupIds: []string{defaultGroupID(t, f, aws.ToString(def.VpcId))},
	})
	emutest.WantCode(t, err, "InvalidParameter")

	// VPCs may overlap: the same address is free in a subnet of another VPC.
	twin := f.createVpc(t, "10.1.0.0/16", nil)
	twinSub := f.createSubnet(t, aws.ToString(twin.VpcId), "10.1.1.0/24", nil)
	same := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.SubnetId = twinSub.SubnetId
		in.PrivateIpAddress = aws.String(ip.String())
	}).Instances[0]
	if aws.ToString(same.VpcId) != aws.ToString(twin.VpcId) || aws.ToString(same.PrivateIpAddress) != ip.String() {
		t.Errorf("twin launch = vpc %s ip %s", aws.ToString(same.VpcId), aws.ToString(same.PrivateIpAddress))
	}

	// Not deleted while in use; deleted once the instance is terminated and the subnets are gone.
	_, err = f.client.DeleteSubnet(f.ctx, &sdk.DeleteSubnetInput{SubnetId: aws.String(subID)})
	emutest.WantCode(t, err, "DependencyViolation")
	_, err = f.client.DeleteVpc(f.ctx, &sdk.DeleteVpcInput{VpcId: aws.String(vpcID)})
	emutest.WantCode(t, err, "DependencyViolation")
	if _, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.DeleteSubnet(f.ctx, &sdk.DeleteSubnetInput{SubnetId: aws.String(subID)})
	emutest.WantCode(t, err, "DependencyViolation") // stopped is not terminated
	if _, err := f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{subID, aws.ToString(other.SubnetId)} {
		if _, err := f.client.DeleteSubnet(f.ctx, &sdk.DeleteSubnetInput{SubnetId: aws.String(s)}); err != nil {
			t.Fatalf("DeleteSubnet %s: %v", s, err)
		}
	}
	_, err = f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{SubnetIds: []string{subID}})
	emutest.WantCode(t, err, "InvalidSubnetID.NotFound")
	if gone := f.describe(t, id); gone.State.Name != types.InstanceStateNameTerminated {
		t.Errorf("the terminated instance of a deleted subnet is %s", gone.State.Name)
	}
	if _, err := f.client.DeleteVpc(f.ctx, &sdk.DeleteVpcInput{VpcId: aws.String(vpcID)}); err != nil {
		t.Fatalf("DeleteVpc: %v", err)
	}
	_, err = f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{VpcIds: []string{vpcID}})
	emutest.WantCode(t, err, "InvalidVpcID.NotFound")
	_, err = f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(group.GroupId)}})
	emutest.WantCode(t, err, "InvalidGroup.NotFound")
	_, err = f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{vpcID}, Tags: []types.Tag{tag("k", "v")}})
	emutest.WantCode(t, err, "InvalidVpcID.NotFound")
	_, err = f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{subID}, Tags: []types.Tag{tag("k", "v")}})
	emutest.WantCode(t, err, "InvalidSubnetID.NotFound")
	if exists, err := f.svc.VPCExists(f.ctx, "us-east-1", vpcID); err != nil || exists {
		t.Errorf("VPCExists(deleted VPC) = %v, %v", exists, err)
	}
}

func defaultGroupID(t *testing.T, f *fixture, vpcID string) string {
	t.Helper()
	out, err := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}},
		{Name: aws.String("group-name"), Values: []string{"default"}},
	}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("default group of %s: %+v, %v", vpcID, out, err)
	}
	return aws.ToString(out.SecurityGroups[0].GroupId)
}

func TestCreateVpcOptionsAndErrors(t *testing.T) {
	f := newFixture(t, nil)
	dedicated := f.createVpc(t, "10.9.8.7/28", func(in *sdk.CreateVpcInput) { in.InstanceTenancy = types.TenancyDedicated })
	if dedicated.InstanceTenancy != types.TenancyDedicated || aws.ToString(dedicated.CidrBlock) != "10.9.8.0/28" {
		t.Errorf("CreateVpc = tenancy %s block %s", dedicated.InstanceTenancy, aws.ToString(dedicated.CidrBlock))
	}
	vpcs, _ := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{VpcIds: []string{aws.ToString(dedicated.VpcId)}})
	if vpcs.Vpcs[0].InstanceTenancy != types.TenancyDedicated {
		t.Errorf("described tenancy = %s", vpcs.Vpcs[0].InstanceTenancy)
	}

	tagged := func(kind types.ResourceType, tags ...types.Tag) func(*sdk.CreateVpcInput) {
		return func(in *sdk.CreateVpcInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: kind, Tags: tags}}
		}
	}
	cases := []struct {
		name  string
		block string
		edit  func(*sdk.CreateVpcInput)
		code  string
	}{
		{"too large", "10.0.0.0/8", nil, "InvalidVpc.Range"},
		{"/15", "10.0.0.0/15", nil, "InvalidVpc.Range"},
		{"too small", "10.0.0.0/29", nil, "InvalidVpc.Range"},
		{"no prefix length", "10.0.0.0", nil, "InvalidParameterValue"},
		{"not an address", "ten/16", nil, "InvalidParameterValue"},
		{"prefix length above 32", "10.0.0.0/33", nil, "InvalidParameterValue"},
		{"IPv6", "2001:db8::/56", nil, "InvalidParameterValue"},
		{"no block", "", nil, "MissingParameter"},
		{"host tenancy", "10.0.0.0/16", func(in *sdk.CreateVpcInput) { in.InstanceTenancy = types.TenancyHost }, "InvalidParameterValue"},
		{"tags of another type", "10.0.0.0/16", tagged(types.ResourceTypeSubnet, tag("k", "v")), "InvalidParameterValue"},
		{"reserved tag", "10.0.0.0/16", tagged(types.ResourceTypeVpc, tag("aws:x", "v")), "InvalidParameterValue"},
		{"no tags", "10.0.0.0/16", tagged(types.ResourceTypeVpc), "InvalidParameterValue"},
		{"IPAM", "", func(in *sdk.CreateVpcInput) { in.Ipv4IpamPoolId = aws.String("ipam-pool-0123456789abcdef0") }, "UnsupportedOperation"},
		{"IPv6 block", "10.0.0.0/16", func(in *sdk.CreateVpcInput) { in.AmazonProvidedIpv6CidrBlock = aws.Bool(true) }, "UnsupportedOperation"},
		{"dry run", "10.0.0.0/16", func(in *sdk.CreateVpcInput) { in.DryRun = aws.Bool(true) }, "DryRunOperation"},
	}
	for _, c := range cases {
		in := &sdk.CreateVpcInput{}
		if c.block != "" {
			in.CidrBlock = aws.String(c.block)
		}
		if c.edit != nil {
			c.edit(in)
		}
		_, err := f.client.CreateVpc(f.ctx, in)
		t.Run(c.name, func(t *testing.T) { emutest.WantCode(t, err, c.code) })
	}
	// None of the refused requests made a VPC.
	all, _ := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{})
	if len(all.Vpcs) != 2 {
		t.Errorf("%d VPCs, want the default one and the dedicated one", len(all.Vpcs))
	}
}

func TestCreateSubnetErrors(t *testing.T) {
	f := newFixture(t, nil)
	v := aws.ToString(f.createVpc(t, "10.2.0.0/20", nil).VpcId)
	f.createSubnet(t, v, "10.2.4.0/22", nil)
	def := aws.ToString(f.defaultVpc(t).VpcId)

	cases := []struct {
		name, vpc, block string
		edit             func(*sdk.CreateSubnetInput)
		code             string
	}{
		{"unknown VPC", "vpc-0123456789abcdef0", "10.2.0.0/24", nil, "InvalidVpcID.NotFound"},
		{"outside the VPC", v, "10.3.0.0/24", nil, "InvalidSubnet.Range"},
		{"larger than the VPC", v, "10.2.0.0/16", nil, "InvalidSubnet.Range"},
		{"too small", v, "10.2.0.0/29", nil, "InvalidSubnet.Range"},
		{"same block", v, "10.2.4.0/22", nil, "InvalidSubnet.Conflict"},
		{"inside another", v, "10.2.5.0/24", nil, "InvalidSubnet.Conflict"},
		{"around another", v, "10.2.0.0/20", nil, "InvalidSubnet.Conflict"},
		{"default subnet", def, "172.31.0.0/24", nil, "InvalidSubnet.Conflict"},
		{"not a block", v, "10.2.0.0/40", nil, "InvalidParameterValue"},
		{"no block", v, "", nil, "MissingParameter"},
		{"zone of another region", v, "10.2.0.0/24", func(in *sdk.CreateSubnetInput) { in.AvailabilityZone = aws.String("us-west-2a") }, "InvalidParameterValue"},
		{"unknown zone", v, "10.2.0.0/24", func(in *sdk.CreateSubnetInput) { in.AvailabilityZone = aws.String("us-east-1q") }, "InvalidParameterValue"},
		{"tags of another type", v, "10.2.0.0/24", func(in *sdk.CreateSubnetInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{tag("k", "v")}}}
		}, "InvalidParameterValue"},
		{"IPv6", v, "10.2.0.0/24", func(in *sdk.CreateSubnetInput) { in.Ipv6CidrBlock = aws.String("2600:1f16:cfe:3660::/64") }, "UnsupportedOperation"},
		{"dry run", v, "10.2.0.0/24", func(in *sdk.CreateSubnetInput) { in.DryRun = aws.Bool(true) }, "DryRunOperation"},
	}
	for _, c := range cases {
		in := &sdk.CreateSubnetInput{VpcId: aws.String(c.vpc)}
		if c.block != "" {
			in.CidrBlock = aws.String(c.block)
		}
		if c.edit != nil {
			c.edit(in)
		}
		_, err := f.client.CreateSubnet(f.ctx, in)
		t.Run(c.name, func(t *testing.T) { emutest.WantCode(t, err, c.code) })
	}
	// The default VPC takes subnets of one's own beside its default ones, and VPCs may overlap.
	extra := f.createSubnet(t, def, "172.31.48.0/24", nil)
	if aws.ToBool(extra.DefaultForAz) {
		t.Error("a new subnet of the default VPC is default for its zone")
	}
	f.createSubnet(t, aws.ToString(f.createVpc(t, "10.2.0.0/16", nil).VpcId), "10.2.4.0/22", nil)
	subnets, _ := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{})
	if len(subnets.Subnets) != 6 {
		t.Errorf("%d subnets, want 3 default and 3 created", len(subnets.Subnets))
	}
}

// Deleting the default VPC is allowed, as on AWS, once its subnets are gone; launching without a
// subnet then fails as it does on AWS.
func TestDeleteDefaultVpc(t *testing.T) {
	f := newFixture(t, nil)
	def := aws.ToString(f.defaultVpc(t).VpcId)
	_, err := f.client.DeleteVpc(f.ctx, &sdk.DeleteVpcInput{VpcId: aws.String(def)})
	emutest.WantCode(t, err, "DependencyViolation")
	_, err = f.client.DeleteVpc(f.ctx, &sdk.DeleteVpcInput{VpcId: aws.String("vpc-0123456789abcdef0")})
	emutest.WantCode(t, err, "InvalidVpcID.NotFound")
	_, err = f.client.DeleteSubnet(f.ctx, &sdk.DeleteSubnetInput{SubnetId: aws.String("subnet-0123456789abcdef0")})
	emutest.WantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = f.client.DeleteVpc(f.ctx, &sdk.DeleteVpcInput{VpcId: aws.String(def), DryRun: aws.Bool(true)})
	emutest.WantCode(t, err, "DryRunOperation")

	subnets, _ := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{})
	for _, s := range subnets.Subnets {
		if _, err := f.client.DeleteSubnet(f.ctx, &sdk.DeleteSubnetInput{SubnetId: s.SubnetId}); err != nil {
			t.Fatalf("DeleteSubnet %s: %v", aws.ToString(s.SubnetId), err)
		}
	}
	_, err = f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	emutest.WantCode(t, err, "MissingInput")
	if _, err := f.client.DeleteVpc(f.ctx, &sdk.DeleteVpcInput{VpcId: aws.String(def)}); err != nil {
		t.Fatalf("DeleteVpc of the default VPC: %v", err)
	}
	vpcs, _ := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{})
	groups, _ := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{})
	if len(vpcs.Vpcs) != 0 || len(groups.SecurityGroups) != 0 {
		t.Errorf("after deleting the default VPC: %d VPCs, %d groups", len(vpcs.Vpcs), len(groups.SecurityGroups))
	}
	_, err = f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	emutest.WantCode(t, err, "VPCIdNotSpecified")
	_, err = f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
	emutest.WantCode(t, err, "VPCIdNotSpecified")

	// A new VPC still gets the account's DHCP options, and its subnet takes launches.
	v := f.createVpc(t, "10.0.0.0/16", nil)
	if !strings.HasPrefix(aws.ToString(v.DhcpOptionsId), "dopt-") {
		t.Errorf("DhcpOptionsId = %q", aws.ToString(v.DhcpOptionsId))
	}
	sub := f.createSubnet(t, aws.ToString(v.VpcId), "10.0.0.0/28", nil)
	out := f.run(t, 11, func(in *sdk.RunInstancesInput) { in.SubnetId = sub.SubnetId })
	if len(out.Instances) != 11 {
		t.Errorf("%d instances in a /28, want 11", len(out.Instances))
	}
	_, err = f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sub.SubnetId})
	emutest.WantCode(t, err, "InsufficientFreeAddressesInSubnet")
}

// Requests the SDK will not send: a CreateSubnet without a VPC, deletes without an id.
func TestVpcActionErrors(t *testing.T) {
	f := newFixture(t, nil)
	srv := httptest.NewServer(f.svc)
	defer srv.Close()
	for form, code := range map[string]string{
		"Action=CreateSubnet&CidrBlock=172.31.48.0/24": "MissingParameter",
		"Action=DeleteSubnet":                          "MissingParameter",
		"Action=DeleteVpc":                             "MissingParameter",
		"Action=CreateVpc&CidrBlock=10.0.0.0/16&AmazonProvidedIpv6CidrBlock=yes": "InvalidParameterValue",
	} {
		values, _ := url.ParseQuery(form)
		resp, err := http.PostForm(srv.URL, values)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>"+code+"</Code>") {
			t.Errorf("%s: %d %s, want 400 %s", form, resp.StatusCode, body, code)
		}
	}
}

// VPCs and subnets live in the state document: they survive reopening the directory, their ids
// continue from the counters there, and a seed reproduces them in a new directory.
func TestVpcsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	ctx := context.Background()
	open := func(dir string) (*Service, *sdk.Client, func()) {
		svc, err := New(Options{Dir: dir, IDs: wire.IDs{Seed: "vpcs"}, Clock: clock.Now, Parameters: publicParameters("us-east-1")})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(svc)
		return svc, sdk.NewFromConfig(emutest.Config(srv.URL)), func() { srv.Close(); svc.Close() }
	}
	build := func(client *sdk.Client) (vpcID string, sub types.Subnet, inst types.Instance) {
		v, err := client.CreateVpc(ctx, &sdk.CreateVpcInput{
			CidrBlock:         aws.String("10.7.0.0/16"),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{tag("Name", "kept")}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		s, err := client.CreateSubnet(ctx, &sdk.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.7.3.0/24")})
		if err != nil {
			t.Fatal(err)
		}
		run, err := client.RunInstances(ctx, &sdk.RunInstancesInput{
			ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: s.Subnet.SubnetId,
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(v.Vpc.VpcId), *s.Subnet, run.Instances[0]
	}
	_, client, closeFirst := open(dir)
	vpcID, sub, inst := build(client)
	closeFirst()

	svc, client, closeSecond := open(dir)
	defer closeSecond()
	vpcs, err := client.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{VpcIds: []string{vpcID}})
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if got, _ := tagValue(vpcs.Vpcs[0].Tags, "Name"); got != "kept" || aws.ToString(vpcs.Vpcs[0].CidrBlock) != "10.7.0.0/16" {
		t.Errorf("VPC after reopening = %s tags %v", aws.ToString(vpcs.Vpcs[0].CidrBlock), tagPairs(vpcs.Vpcs[0].Tags))
	}
	subnets, err := client.DescribeSubnets(ctx, &sdk.DescribeSubnetsInput{SubnetIds: []string{aws.ToString(sub.SubnetId)}})
	if err != nil || aws.ToString(subnets.Subnets[0].AvailabilityZone) != aws.ToString(sub.AvailabilityZone) || aws.ToInt32(subnets.Subnets[0].AvailableIpAddressCount) != 250 {
		t.Errorf("subnet after reopening: %+v, %v", subnets, err)
	}
	if view, ok, err := svc.Instance(context.Background(), aws.ToString(inst.InstanceId)); err != nil || !ok || view.VpcID != vpcID {
		t.Errorf("instance view after reopening = %+v, %v, %v", view, ok, err)
	}
	if exists, err := svc.VPCExists(context.Background(), "us-east-1", vpcID); err != nil || !exists {
		t.Errorf("VPCExists after reopening = %v, %v", exists, err)
	}
	next, err := client.CreateVpc(ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16")})
	if err != nil || aws.ToString(next.Vpc.VpcId) == vpcID {
		t.Errorf("a VPC made after reopening reuses an id: %v, %v", next, err)
	}

	// The same seed and requests in a new directory make the same ids, zone and address.
	_, client, closeOther := open(t.TempDir())
	defer closeOther()
	v2, sub2, inst2 := build(client)
	if v2 != vpcID || aws.ToString(sub2.SubnetId) != aws.ToString(sub.SubnetId) ||
		aws.ToString(sub2.AvailabilityZone) != aws.ToString(sub.AvailabilityZone) || aws.ToString(inst2.PrivateIpAddress) != aws.ToString(inst.PrivateIpAddress) {
		t.Errorf("seeded replay = %s %s %s %s, want %s %s %s %s", v2, aws.ToString(sub2.SubnetId), aws.ToString(sub2.AvailabilityZone), aws.ToString(inst2.PrivateIpAddress),
			vpcID, aws.ToString(sub.SubnetId), aws.ToString(sub.AvailabilityZone), aws.ToString(inst.PrivateIpAddress))
	}
}
