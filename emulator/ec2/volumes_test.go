package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

// disks returns the DeleteOnTermination of each of inst's disks, by device name.
func disks(inst types.Instance) map[string]bool {
	out := map[string]bool{}
	for _, m := range inst.BlockDeviceMappings {
		out[aws.ToString(m.DeviceName)] = aws.ToBool(m.Ebs.DeleteOnTermination)
	}
	return out
}

// BlockDeviceMappings at launch, as AWS takes them: over the image's root a bigger size and
// DeleteOnTermination, extra EBS volumes with a size or a snapshot, and NoDevice dropping one of
// the image's devices; what AWS refuses is refused.
func TestRunInstancesBlockDeviceMappings(t *testing.T) {
	f := newFixture(t, nil)
	ebs := func(device string, e *types.EbsBlockDevice) types.BlockDeviceMapping {
		return types.BlockDeviceMapping{DeviceName: aws.String(device), Ebs: e}
	}
	inst := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.BlockDeviceMappings = []types.BlockDeviceMapping{
			ebs("/dev/xvda", &types.EbsBlockDevice{VolumeSize: aws.Int32(30), DeleteOnTermination: aws.Bool(false)}),
			ebs("/dev/sdf", &types.EbsBlockDevice{VolumeSize: aws.Int32(100), VolumeType: types.VolumeTypeGp3}),
		}
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{tag("Role", "data")}}}
	}).Instances[0]
	if got := disks(inst); len(got) != 2 || got["/dev/xvda"] || !got["/dev/sdf"] {
		t.Fatalf("disks = %v, want the root kept and /dev/sdf deleted on termination", got)
	}
	data := aws.ToString(inst.BlockDeviceMappings[1].Ebs.VolumeId)
	if _, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{data}, Tags: []types.Tag{tag("k", "v")}}); err != nil {
		t.Errorf("tagging the extra volume: %v", err)
	}
	described := f.describe(t, aws.ToString(inst.InstanceId))
	if len(described.BlockDeviceMappings) != 2 {
		t.Errorf("described disks = %v", disks(described))
	}
	filtered, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("block-device-mapping.volume-id"), Values: []string{data}}}})
	if err != nil || len(instanceIDsOf(filtered.Reservations)) != 1 {
		t.Errorf("block-device-mapping.volume-id of the extra volume: %v, %v", instanceIDsOf(filtered.Reservations), err)
	}

	// The image of that instance maps both, at their sizes; a launch from it can drop the extra
	// one with NoDevice, or grow it.
	img, err := f.client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: inst.InstanceId, Name: aws.String("with-data")})
	if err != nil {
		t.Fatal(err)
	}
	im := f.describeImages(t, &sdk.DescribeImagesInput{ImageIds: []string{aws.ToString(img.ImageId)}})[0]
	if len(im.BlockDeviceMappings) != 2 || aws.ToInt32(im.BlockDeviceMappings[0].Ebs.VolumeSize) != 30 || aws.ToInt32(im.BlockDeviceMappings[1].Ebs.VolumeSize) != 100 {
		t.Fatalf("image devices = %+v", im.BlockDeviceMappings)
	}
	dropped := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.ImageId = img.ImageId
		in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"), NoDevice: aws.String("")}}
	}).Instances[0]
	if got := disks(dropped); len(got) != 1 {
		t.Errorf("NoDevice: disks = %v, want the root only", got)
	}
	kept := f.run(t, 1, func(in *sdk.RunInstancesInput) { in.ImageId = img.ImageId }).Instances[0]
	if got := disks(kept); len(got) != 2 {
		t.Errorf("from the image: disks = %v, want both", got)
	}
	snap := im.BlockDeviceMappings[1].Ebs.SnapshotId

	for _, c := range []struct {
		name     string
		mappings []types.BlockDeviceMapping
		code     string
	}{
		{"neither size nor snapshot", []types.BlockDeviceMapping{ebs("/dev/sdg", &types.EbsBlockDevice{VolumeType: types.VolumeTypeGp3})}, "InvalidBlockDeviceMapping"},
		{"neither Ebs nor NoDevice", []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdg")}}, "InvalidBlockDeviceMapping"},
		{"root smaller than its snapshot", []types.BlockDeviceMapping{ebs("/dev/xvda", &types.EbsBlockDevice{VolumeSize: aws.Int32(4)})}, "InvalidBlockDeviceMapping"},
		{"root suppressed", []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), NoDevice: aws.String("")}}, "InvalidBlockDeviceMapping"},
		{"unknown snapshot", []types.BlockDeviceMapping{ebs("/dev/sdg", &types.EbsBlockDevice{SnapshotId: aws.String("snap-0123456789abcdef0")})}, "InvalidSnapshot.NotFound"},
		{"smaller than its snapshot", []types.BlockDeviceMapping{ebs("/dev/sdg", &types.EbsBlockDevice{SnapshotId: snap, VolumeSize: aws.Int32(10)})}, "InvalidBlockDeviceMapping"},
		{"too big", []types.BlockDeviceMapping{ebs("/dev/sdg", &types.EbsBlockDevice{VolumeSize: aws.Int32(20000)})}, "InvalidParameterValue"},
		{"device twice", []types.BlockDeviceMapping{ebs("/dev/sdg", &types.EbsBlockDevice{VolumeSize: aws.Int32(1)}), ebs("/dev/sdg", &types.EbsBlockDevice{VolumeSize: aws.Int32(2)})}, "InvalidBlockDeviceMapping"},
		{"instance store", []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdg"), VirtualName: aws.String("ephemeral0")}}, "UnsupportedOperation"},
		{"provisioned iops", []types.BlockDeviceMapping{ebs("/dev/sdg", &types.EbsBlockDevice{VolumeSize: aws.Int32(10), Iops: aws.Int32(3000)})}, "UnsupportedOperation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1), BlockDeviceMappings: c.mappings})
			emutest.WantCode(t, err, c.code)
		})
	}
	// From a snapshot, the size is the snapshot's.
	fromSnap := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.BlockDeviceMappings = []types.BlockDeviceMapping{ebs("/dev/sdg", &types.EbsBlockDevice{SnapshotId: snap})}
	}).Instances[0]
	if got := disks(fromSnap); len(got) != 2 || !got["/dev/sdg"] {
		t.Errorf("from a snapshot: disks = %v", got)
	}
}
