package ec2

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// imageIDs returns the ids of images, in order.
func imageIDs(images []types.Image) []string {
	var out []string
	for _, im := range images {
		out = append(out, aws.ToString(im.ImageId))
	}
	return out
}

// describeImages returns the images in answers DescribeImages with in.
func (f *fixture) describeImages(t *testing.T, in *sdk.DescribeImagesInput) []types.Image {
	t.Helper()
	out, err := f.client.DescribeImages(f.ctx, in)
	if err != nil {
		t.Fatalf("DescribeImages: %v", err)
	}
	return out.Images
}

// A golden image made Packer's way: a builder instance, CreateImage (pending, then available),
// instances launched from it, DeregisterImage, and no launch afterwards.
func TestCreateImageLifecycle(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.PendingFor = time.Minute })
	builder := aws.ToString(f.run(t, 1, nil).Instances[0].InstanceId)
	create := &sdk.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("golden-2026.01 [web]"), Description: aws.String("the golden image"), NoReboot: aws.Bool(true),
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{tag("Role", "golden")}},
			{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{tag("Role", "golden-root")}},
		}}
	_, err := f.client.CreateImage(f.ctx, create)
	emutest.WantCode(t, err, "IncorrectInstanceState") // the builder is still pending

	f.clock.Advance(time.Minute)
	out, err := f.client.CreateImage(f.ctx, create)
	if err != nil {
		t.Fatalf("CreateImage: %v", err)
	}
	ami := aws.ToString(out.ImageId)
	if !wire.IsImageID(ami) {
		t.Fatalf("image id %q", ami)
	}
	_, err = f.client.CreateImage(f.ctx, create)
	emutest.WantCode(t, err, "InvalidAMIName.Duplicate")

	mine := f.describeImages(t, &sdk.DescribeImagesInput{Owners: []string{"self"}})
	if len(mine) != 1 {
		t.Fatalf("Owners=self: %d images, want 1", len(mine))
	}
	im := mine[0]
	if im.State != types.ImageStatePending || aws.ToString(im.OwnerId) != wire.DefaultAccountID || aws.ToString(im.SourceInstanceId) != builder ||
		aws.ToString(im.Name) != "golden-2026.01 [web]" || im.Architecture != types.ArchitectureValuesX8664 || aws.ToString(im.RootDeviceName) != "/dev/xvda" {
		t.Errorf("new image = %+v", im)
	}
	if v, _ := tagValue(im.Tags, "Role"); v != "golden" {
		t.Errorf("image tags = %v", im.Tags)
	}
	if len(im.BlockDeviceMappings) != 1 || im.BlockDeviceMappings[0].Ebs == nil || aws.ToInt32(im.BlockDeviceMappings[0].Ebs.VolumeSize) != 8 {
		t.Fatalf("block devices = %+v", im.BlockDeviceMappings)
	}
	snap := aws.ToString(im.BlockDeviceMappings[0].Ebs.SnapshotId)
	_, err = f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	emutest.WantCode(t, err, "InvalidAMIID.Unavailable") // still pending

	// The waiter sees it available once PendingFor has passed.
	f.clock.Advance(time.Minute)
	waiter := sdk.NewImageAvailableWaiter(f.client, func(o *sdk.ImageAvailableWaiterOptions) { o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond })
	if err := waiter.Wait(f.ctx, &sdk.DescribeImagesInput{ImageIds: []string{ami}}, time.Minute); err != nil {
		t.Fatalf("image-available: %v", err)
	}

	// Owners, ids and filters select it; Amazon's images are apart.
	for _, c := range []struct {
		name string
		in   sdk.DescribeImagesInput
		want bool
	}{
		{"self", sdk.DescribeImagesInput{Owners: []string{"self"}}, true},
		{"account", sdk.DescribeImagesInput{Owners: []string{wire.DefaultAccountID}}, true},
		{"amazon", sdk.DescribeImagesInput{Owners: []string{"amazon"}}, false},
		{"id", sdk.DescribeImagesInput{ImageIds: []string{ami}}, true},
		{"name", sdk.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"golden-*"}}}}, true},
		{"state", sdk.DescribeImagesInput{Owners: []string{"self"}, Filters: []types.Filter{{Name: aws.String("state"), Values: []string{"available"}}}}, true},
		{"pending", sdk.DescribeImagesInput{Owners: []string{"self"}, Filters: []types.Filter{{Name: aws.String("state"), Values: []string{"pending"}}}}, false},
		{"tag", sdk.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("tag:Role"), Values: []string{"golden"}}}}, true},
		{"tag-key", sdk.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{"Nope"}}}}, false},
		{"source", sdk.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("source-instance-id"), Values: []string{builder}}}}, true},
		{"everything", sdk.DescribeImagesInput{}, true},
	} {
		got := slices.Contains(imageIDs(f.describeImages(t, &c.in)), ami)
		if got != c.want {
			t.Errorf("%s: image listed = %v, want %v", c.name, got, c.want)
		}
	}
	amazon := f.describeImages(t, &sdk.DescribeImagesInput{Owners: []string{"amazon"}})
	if len(amazon) != len(PublicImages("us-east-1")) {
		t.Errorf("Owners=amazon: %d images", len(amazon))
	}

	// CreateTags reaches images and snapshots.
	if _, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{ami, snap}, Tags: []types.Tag{tag("Version", "1")}}); err != nil {
		t.Fatalf("CreateTags on the image and its snapshot: %v", err)
	}
	if v, _ := tagValue(f.describeImages(t, &sdk.DescribeImagesInput{ImageIds: []string{ami}})[0].Tags, "Version"); v != "1" {
		t.Error("tag on the image not shown")
	}

	// Launch from it: the instance carries the image id and its architecture.
	inst := f.run(t, 1, func(in *sdk.RunInstancesInput) { in.ImageId = aws.String(ami) }).Instances[0]
	if aws.ToString(inst.ImageId) != ami {
		t.Errorf("launched from %s, want %s", aws.ToString(inst.ImageId), ami)
	}
	_, err = f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t4g.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	emutest.WantCode(t, err, "InvalidParameterValue") // an arm64 type for an x86_64 image

	// Deregistered: gone from the listing, no launch, its snapshot stays to register again.
	if _, err := f.client.DeregisterImage(f.ctx, &sdk.DeregisterImageInput{ImageId: aws.String(ami)}); err != nil {
		t.Fatalf("DeregisterImage: %v", err)
	}
	if got := f.describeImages(t, &sdk.DescribeImagesInput{ImageIds: []string{ami}}); len(got) != 0 {
		t.Errorf("deregistered image still described: %v", imageIDs(got))
	}
	_, err = f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	emutest.WantCode(t, err, "InvalidAMIID.Unavailable")
	_, err = f.client.DeregisterImage(f.ctx, &sdk.DeregisterImageInput{ImageId: aws.String(ami)})
	emutest.WantCode(t, err, "InvalidAMIID.Unavailable")
	if _, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}); err != nil {
		t.Errorf("the instance launched from a deregistered image: %v", err)
	}
	_, err = f.client.DeregisterImage(f.ctx, &sdk.DeregisterImageInput{ImageId: amazon[0].ImageId})
	emutest.WantCode(t, err, "AuthFailure")

	reg, err := f.client.RegisterImage(f.ctx, &sdk.RegisterImageInput{
		Name: aws.String("golden-2026.01 [web]"), Architecture: types.ArchitectureValuesX8664, VirtualizationType: aws.String("hvm"),
		RootDeviceName: aws.String("/dev/xvda"), EnaSupport: aws.Bool(true), ImdsSupport: types.ImdsSupportValuesV20,
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{SnapshotId: aws.String(snap)}}},
	})
	if err != nil {
		t.Fatalf("RegisterImage from the snapshot: %v", err)
	}
	again := f.describeImages(t, &sdk.DescribeImagesInput{ImageIds: []string{aws.ToString(reg.ImageId)}})[0]
	if again.State != types.ImageStateAvailable || again.ImdsSupport != types.ImdsSupportValuesV20 || aws.ToInt32(again.BlockDeviceMappings[0].Ebs.VolumeSize) != 8 {
		t.Errorf("registered image = %+v", again)
	}
	launched := f.run(t, 1, func(in *sdk.RunInstancesInput) { in.ImageId = reg.ImageId }).Instances[0]
	if launched.MetadataOptions.HttpTokens != types.HttpTokensStateRequired {
		t.Errorf("instance of an ImdsSupport v2.0 image: tokens %s", launched.MetadataOptions.HttpTokens)
	}
}

func TestImageErrors(t *testing.T) {
	f := newFixture(t, nil)
	builder := aws.ToString(f.run(t, 1, nil).Instances[0].InstanceId)
	snapshotOf := func() string {
		out, err := f.client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("base")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(f.describeImages(t, &sdk.DescribeImagesInput{ImageIds: []string{aws.ToString(out.ImageId)}})[0].BlockDeviceMappings[0].Ebs.SnapshotId)
	}
	snap := snapshotOf()
	root := func(ebs *types.EbsBlockDevice) []types.BlockDeviceMapping {
		return []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: ebs}}
	}
	for _, c := range []struct {
		name string
		call func() error
		code string
	}{
		{"short name", func() error {
			_, err := f.client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("ab")})
			return err
		}, "InvalidAMIName.Malformed"},
		{"name with a comma", func() error {
			_, err := f.client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("a,b,c")})
			return err
		}, "InvalidAMIName.Malformed"},
		{"unknown instance", func() error {
			_, err := f.client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("abc")})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"extra volumes", func() error {
			_, err := f.client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("abc"),
				BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdb"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(10)}}}})
			return err
		}, "UnsupportedOperation"},
		{"register from an unknown snapshot", func() error {
			_, err := f.client.RegisterImage(f.ctx, &sdk.RegisterImageInput{Name: aws.String("abc"), RootDeviceName: aws.String("/dev/xvda"),
				BlockDeviceMappings: root(&types.EbsBlockDevice{SnapshotId: aws.String("snap-0123456789abcdef0")})})
			return err
		}, "InvalidSnapshot.NotFound"},
		{"register without a root snapshot", func() error {
			_, err := f.client.RegisterImage(f.ctx, &sdk.RegisterImageInput{Name: aws.String("abc"), RootDeviceName: aws.String("/dev/xvda"),
				BlockDeviceMappings: root(&types.EbsBlockDevice{VolumeSize: aws.Int32(8)})})
			return err
		}, "InvalidBlockDeviceMapping"},
		{"register an Ebs with neither size nor snapshot", func() error {
			_, err := f.client.RegisterImage(f.ctx, &sdk.RegisterImageInput{Name: aws.String("abc"), RootDeviceName: aws.String("/dev/xvda"),
				BlockDeviceMappings: append(root(&types.EbsBlockDevice{SnapshotId: aws.String(snap)}), types.BlockDeviceMapping{DeviceName: aws.String("/dev/sdb"), Ebs: &types.EbsBlockDevice{VolumeType: types.VolumeTypeGp3}})})
			return err
		}, "InvalidBlockDeviceMapping"},
		{"register smaller than the snapshot", func() error {
			_, err := f.client.RegisterImage(f.ctx, &sdk.RegisterImageInput{Name: aws.String("abc"), RootDeviceName: aws.String("/dev/xvda"),
				BlockDeviceMappings: root(&types.EbsBlockDevice{SnapshotId: aws.String(snap), VolumeSize: aws.Int32(4)})})
			return err
		}, "InvalidBlockDeviceMapping"},
		{"register from S3", func() error {
			_, err := f.client.RegisterImage(f.ctx, &sdk.RegisterImageInput{Name: aws.String("abc"), ImageLocation: aws.String("bucket/image.manifest.xml")})
			return err
		}, "UnsupportedOperation"},
		{"deregister unknown", func() error {
			_, err := f.client.DeregisterImage(f.ctx, &sdk.DeregisterImageInput{ImageId: aws.String("ami-0123456789abcdef0")})
			return err
		}, "InvalidAMIID.NotFound"},
		{"describe unknown", func() error {
			_, err := f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
			return err
		}, "InvalidAMIID.NotFound"},
		{"tag unknown", func() error {
			_, err := f.client.CreateTags(f.ctx, &sdk.CreateTagsInput{Resources: []string{"ami-0123456789abcdef0"}, Tags: []types.Tag{tag("a", "b")}})
			return err
		}, "InvalidAMIID.NotFound"},
	} {
		emutest.WantCode(t, c.call(), c.code)
	}
	// A name is free again once its image is deregistered.
	mine := f.describeImages(t, &sdk.DescribeImagesInput{Owners: []string{"self"}})
	if _, err := f.client.DeregisterImage(f.ctx, &sdk.DeregisterImageInput{ImageId: mine[0].ImageId}); err != nil {
		t.Fatal(err)
	}
	snapshotOf()
}

// Images of one's own, their snapshots, tags and deregistrations are in the state.
func TestImagesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Service, *sdk.Client) {
		svc, err := New(Options{Dir: dir, IDs: wire.IDs{Seed: "images"}, Parameters: publicParameters("us-east-1")})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(svc)
		t.Cleanup(func() { srv.Close(); svc.Close() })
		return svc, sdk.NewFromConfig(emutest.Config(srv.URL))
	}
	svc, client := open()
	f := &fixture{svc: svc, client: client, ctx: t.Context()}
	builder := aws.ToString(f.run(t, 1, nil).Instances[0].InstanceId)
	kept, err := client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("kept"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{tag("Role", "golden")}}}})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := client.CreateImage(f.ctx, &sdk.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeregisterImage(f.ctx, &sdk.DeregisterImageInput{ImageId: gone.ImageId}); err != nil {
		t.Fatal(err)
	}
	svc.Close()

	svc, client = open()
	f = &fixture{svc: svc, client: client, ctx: t.Context()}
	mine := f.describeImages(t, &sdk.DescribeImagesInput{Owners: []string{"self"}})
	if got := imageIDs(mine); !slices.Equal(got, []string{aws.ToString(kept.ImageId)}) {
		t.Fatalf("after reopening, own images = %v, want %s", got, aws.ToString(kept.ImageId))
	}
	if v, _ := tagValue(mine[0].Tags, "Role"); v != "golden" || mine[0].State != types.ImageStateAvailable {
		t.Errorf("after reopening: %+v", mine[0])
	}
	f.run(t, 1, func(in *sdk.RunInstancesInput) { in.ImageId = kept.ImageId })
	_, err = client.RunInstances(f.ctx, &sdk.RunInstancesInput{ImageId: gone.ImageId, InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	emutest.WantCode(t, err, "InvalidAMIID.Unavailable")
}
