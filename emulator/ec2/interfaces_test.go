package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

// RunInstances with NetworkInterfaces, as AWS takes the primary one: its subnet, private address,
// security groups, public address (AssociatePublicIpAddress over the subnet's default),
// DeleteOnTermination and description; what may not go with it, or is not emulated, is refused.
func TestRunInstancesNetworkInterfaces(t *testing.T) {
	f := newFixture(t, nil)
	vpc := aws.ToString(f.createVpc(t, "10.1.0.0/16", nil).VpcId)
	sub := aws.ToString(f.createSubnet(t, vpc, "10.1.2.0/24", nil).SubnetId)
	group := defaultGroupID(t, f, vpc)
	eni := func(e types.InstanceNetworkInterfaceSpecification) func(*sdk.RunInstancesInput) {
		return func(in *sdk.RunInstancesInput) {
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{e}
		}
	}

	inst := f.run(t, 1, eni(types.InstanceNetworkInterfaceSpecification{
		DeviceIndex: aws.Int32(0), SubnetId: aws.String(sub), PrivateIpAddress: aws.String("10.1.2.50"),
		Groups: []string{group}, AssociatePublicIpAddress: aws.Bool(true), DeleteOnTermination: aws.Bool(false),
		Description: aws.String("primary"),
	})).Instances[0]
	if aws.ToString(inst.SubnetId) != sub || aws.ToString(inst.PrivateIpAddress) != "10.1.2.50" || aws.ToString(inst.PublicIpAddress) == "" {
		t.Errorf("launched in %s at %s, public %q", aws.ToString(inst.SubnetId), aws.ToString(inst.PrivateIpAddress), aws.ToString(inst.PublicIpAddress))
	}
	ni := f.describe(t, aws.ToString(inst.InstanceId)).NetworkInterfaces[0]
	if aws.ToInt32(ni.Attachment.DeviceIndex) != 0 || aws.ToBool(ni.Attachment.DeleteOnTermination) || aws.ToString(ni.Description) != "primary" ||
		len(ni.Groups) != 1 || aws.ToString(ni.Groups[0].GroupId) != group || ni.Association == nil || aws.ToString(ni.Association.PublicIp) != aws.ToString(inst.PublicIpAddress) {
		t.Errorf("network interface = %+v", ni)
	}

	// The primary address may come as PrivateIpAddresses, as the AWS CLI sends it.
	listed := f.run(t, 1, eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(sub),
		PrivateIpAddresses: []types.PrivateIpAddressSpecification{{PrivateIpAddress: aws.String("10.1.2.60"), Primary: aws.Bool(true)}}})).Instances[0]
	if aws.ToString(listed.PrivateIpAddress) != "10.1.2.60" {
		t.Errorf("primary address from PrivateIpAddresses = %s", aws.ToString(listed.PrivateIpAddress))
	}

	// Without AssociatePublicIpAddress the subnet decides: a default subnet maps one, a subnet of
	// one's own does not; false refuses the default subnet's.
	for _, c := range []struct {
		name   string
		spec   types.InstanceNetworkInterfaceSpecification
		public bool
	}{
		{"own subnet", types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(sub)}, false},
		{"default subnet", types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)}, true},
		{"default subnet, refused", types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: aws.Bool(false)}, false},
	} {
		got := f.run(t, 1, eni(c.spec)).Instances[0]
		if (aws.ToString(got.PublicIpAddress) != "") != c.public {
			t.Errorf("%s: public address %q", c.name, aws.ToString(got.PublicIpAddress))
		}
	}

	for _, c := range []struct {
		name string
		edit func(*sdk.RunInstancesInput)
		code string
	}{
		{"and a subnet", func(in *sdk.RunInstancesInput) {
			eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)})(in)
			in.SubnetId = aws.String(sub)
		}, "InvalidParameterCombination"},
		{"and groups", func(in *sdk.RunInstancesInput) {
			eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)})(in)
			in.SecurityGroupIds = []string{group}
		}, "InvalidParameterCombination"},
		{"and a private address", func(in *sdk.RunInstancesInput) {
			eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)})(in)
			in.PrivateIpAddress = aws.String("172.31.0.10")
		}, "InvalidParameterCombination"},
		{"no device index", eni(types.InstanceNetworkInterfaceSpecification{SubnetId: aws.String(sub)}), "InvalidParameterValue"},
		{"secondary interface", func(in *sdk.RunInstancesInput) {
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0)}, {DeviceIndex: aws.Int32(1)}}
		}, "UnsupportedOperation"},
		{"same index twice", func(in *sdk.RunInstancesInput) {
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0)}, {DeviceIndex: aws.Int32(0)}}
		}, "InvalidParameterValue"},
		{"existing interface", eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), NetworkInterfaceId: aws.String("eni-0123456789abcdef0")}), "UnsupportedOperation"},
		{"address outside the subnet", eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(sub), PrivateIpAddress: aws.String("10.9.9.9")}), "InvalidParameterValue"},
		{"address in use", eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(sub), PrivateIpAddress: aws.String("10.1.2.50")}), "InvalidIPAddress.InUse"},
		{"group of another VPC", eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), Groups: []string{group}}), "InvalidParameter"},
		{"secondary address", eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(sub),
			PrivateIpAddresses: []types.PrivateIpAddressSpecification{{PrivateIpAddress: aws.String("10.1.2.60"), Primary: aws.Bool(true)}, {PrivateIpAddress: aws.String("10.1.2.61")}}}), "UnsupportedOperation"},
		{"unknown subnet", eni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String("subnet-0123456789abcdef0")}), "InvalidSubnetID.NotFound"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := &sdk.RunInstancesInput{ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
			c.edit(in)
			_, err := f.client.RunInstances(f.ctx, in)
			emutest.WantCode(t, err, c.code)
		})
	}
}
