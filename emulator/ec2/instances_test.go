package ec2

import (
	"context"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

// The provisioning sequence of flow's reference scripts, through the SDK: launch with every
// option they use, then find the client id and the address the way the boot script does.
func TestRunInstancesAsProvisioned(t *testing.T) {
	f := newFixture(t, nil)
	subnets, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{
		Filters: []types.Filter{{Name: aws.String("availability-zone"), Values: []string{"us-east-1b"}}},
	})
	if err != nil || len(subnets.Subnets) != 1 {
		t.Fatalf("DescribeSubnets: %v, %d subnets", err, len(subnets.Subnets))
	}
	subnet := subnets.Subnets[0]
	groups, err := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
	if err != nil || len(groups.SecurityGroups) != 1 {
		t.Fatalf("DescribeSecurityGroups: %v", err)
	}
	group := aws.ToString(groups.SecurityGroups[0].GroupId)
	const script = "#!/bin/bash\n/opt/app/boot.sh\n"
	const role = "arn:aws:iam::123456789012:instance-profile/app-server"

	out := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.KeyName = aws.String("ops")
		in.SubnetId = subnet.SubnetId
		in.SecurityGroupIds = []string{group}
		in.UserData = b64(script)
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String(role)}
		in.TagSpecifications = []types.TagSpecification{{
			ResourceType: types.ResourceTypeInstance,
			Tags:         []types.Tag{{Key: aws.String("ClientId"), Value: aws.String("acme")}, {Key: aws.String("Name"), Value: aws.String("acme-app")}},
		}}
		in.MetadataOptions = &types.InstanceMetadataOptionsRequest{InstanceMetadataTags: types.InstanceMetadataTagsStateEnabled}
		in.ClientToken = aws.String("acme-provision-1")
	})
	if !strings.HasPrefix(aws.ToString(out.ReservationId), "r-") || len(aws.ToString(out.ReservationId)) != 19 {
		t.Errorf("ReservationId = %q, want r- and 17 hex digits", aws.ToString(out.ReservationId))
	}
	if aws.ToString(out.OwnerId) != "123456789012" {
		t.Errorf("OwnerId = %q", aws.ToString(out.OwnerId))
	}
	launched := out.Instances[0]
	if launched.State.Name != types.InstanceStateNamePending || aws.ToInt32(launched.State.Code) != 0 {
		t.Errorf("launched state = %v, want pending", launched.State.Name)
	}
	id := aws.ToString(launched.InstanceId)
	if !instanceID.MatchString(id) || len(id) != 19 {
		t.Errorf("InstanceId = %q", id)
	}

	// The boot script: describe-instances --filters Name=instance-id,Values=$INSTANCE_ID.
	desc, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{
		Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	inst := desc.Reservations[0].Instances[0]
	if v, _ := tagValue(inst.Tags, "ClientId"); v != "acme" {
		t.Errorf("ClientId tag = %q, want acme", v)
	}
	if inst.State.Name != types.InstanceStateNameRunning || aws.ToInt32(inst.State.Code) != 16 {
		t.Errorf("state = %v, want running (PendingFor 0)", inst.State.Name)
	}
	ip, err := netip.ParseAddr(aws.ToString(inst.PrivateIpAddress))
	if err != nil || !netip.MustParsePrefix(aws.ToString(subnet.CidrBlock)).Contains(ip) {
		t.Errorf("PrivateIpAddress %q not in subnet %s", aws.ToString(inst.PrivateIpAddress), aws.ToString(subnet.CidrBlock))
	}
	wantDNS := "ip-" + strings.ReplaceAll(ip.String(), ".", "-") + ".ec2.internal"
	checks := map[string][2]string{
		"ImageId":          {aws.ToString(inst.ImageId), PublicImages("us-east-1")[0].ID},
		"InstanceType":     {string(inst.InstanceType), "t3.micro"},
		"KeyName":          {aws.ToString(inst.KeyName), "ops"},
		"SubnetId":         {aws.ToString(inst.SubnetId), aws.ToString(subnet.SubnetId)},
		"VpcId":            {aws.ToString(inst.VpcId), aws.ToString(subnet.VpcId)},
		"AvailabilityZone": {aws.ToString(inst.Placement.AvailabilityZone), "us-east-1b"},
		"PrivateDnsName":   {aws.ToString(inst.PrivateDnsName), wantDNS},
		"ClientToken":      {aws.ToString(inst.ClientToken), "acme-provision-1"},
		"Profile":          {aws.ToString(inst.IamInstanceProfile.Arn), role},
		"SecurityGroup":    {aws.ToString(inst.SecurityGroups[0].GroupId), group},
		"Architecture":     {string(inst.Architecture), "x86_64"},
		"HttpTokens":       {string(inst.MetadataOptions.HttpTokens), "required"}, // AL2023 is ImdsSupport v2.0
		"MetadataTags":     {string(inst.MetadataOptions.InstanceMetadataTags), "enabled"},
		"ENI address":      {aws.ToString(inst.NetworkInterfaces[0].PrivateIpAddress), ip.String()},
		"LaunchTime":       {inst.LaunchTime.Format("15:04:05"), launched.LaunchTime.Format("15:04:05")},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if !strings.HasPrefix(aws.ToString(inst.IamInstanceProfile.Id), "AIPA") {
		t.Errorf("instance profile id = %q", aws.ToString(inst.IamInstanceProfile.Id))
	}

	attr, err := f.client.DescribeInstanceAttribute(f.ctx, &sdk.DescribeInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameUserData,
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
	if err != nil || string(data) != script {
		t.Errorf("userData = %q (%v), want %q", data, err, script)
	}

	view, ok, err := f.svc.Instance(f.ctx, id)
	if err != nil || !ok {
		t.Fatalf("Instance(%s) = %v, %v", id, ok, err)
	}
	// The forms without a context, kept for callers that have none, answer the same.
	if old, ok, err := f.svc.Instance(context.Background(), id); err != nil || !ok || old.ID != id {
		t.Errorf("Instance(%s) = %v, %v, %v", id, old.ID, ok, err)
	}
	if latest, ok, err := f.svc.LatestRunning(context.Background()); err != nil || !ok || latest.ID != id {
		t.Errorf("LatestRunning() = %v, %v, %v; want %s", latest.ID, ok, err, id)
	}
	if view.PrivateIP != ip.String() || string(view.UserData) != script || !view.MetadataTags || view.State != "running" ||
		view.IAMInstanceProfileARN != role || view.Region != "us-east-1" || len(view.Tags) != 2 || view.Tags[0].Key != "ClientId" {
		t.Errorf("Instance view = %+v", view)
	}
}

func TestRunInstancesDefaults(t *testing.T) {
	f := newFixture(t, nil)
	amzn2 := PublicImages("us-east-1")[4]
	out, err := f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{
		ImageId: aws.String(amzn2.ID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	inst := out.Instances[0]
	if inst.InstanceType != "m1.small" {
		t.Errorf("default InstanceType = %s, want m1.small", inst.InstanceType)
	}
	if aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1a" {
		t.Errorf("default zone = %s, want the first default subnet's", aws.ToString(inst.Placement.AvailabilityZone))
	}
	if inst.MetadataOptions.HttpTokens != "optional" || aws.ToInt32(inst.MetadataOptions.HttpPutResponseHopLimit) != 1 {
		t.Errorf("metadata defaults for an image without ImdsSupport = %+v", inst.MetadataOptions)
	}
	if len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupName) != "default" {
		t.Errorf("SecurityGroups = %+v, want the default group", inst.SecurityGroups)
	}
	if inst.KeyName != nil || inst.IamInstanceProfile != nil || inst.Tags != nil {
		t.Errorf("unset options show: key %v, profile %v, tags %v", inst.KeyName, inst.IamInstanceProfile, inst.Tags)
	}
	attr, err := f.client.DescribeInstanceAttribute(f.ctx, &sdk.DescribeInstanceAttributeInput{
		InstanceId: inst.InstanceId, Attribute: types.InstanceAttributeNameUserData,
	})
	if err != nil || attr.UserData == nil || attr.UserData.Value != nil {
		t.Errorf("userData of an instance without = %+v, %v; want an empty value", attr.UserData, err)
	}

	// A profile by name, and the arm64 image on a Graviton type.
	out = f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.ImageId = aws.String(al2023arm)
		in.InstanceType = "t4g.small"
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("app")}
		in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateOptional, HttpPutResponseHopLimit: aws.Int32(3)}
		in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1c")}
	})
	inst = out.Instances[0]
	if inst.Architecture != "arm64" || aws.ToString(inst.IamInstanceProfile.Arn) != "arn:aws:iam::123456789012:instance-profile/app" ||
		inst.MetadataOptions.HttpTokens != "optional" || aws.ToInt32(inst.MetadataOptions.HttpPutResponseHopLimit) != 3 ||
		aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1c" {
		t.Errorf("arm64 launch = arch %s, profile %v, metadata %+v, zone %s", inst.Architecture, inst.IamInstanceProfile, inst.MetadataOptions, aws.ToString(inst.Placement.AvailabilityZone))
	}
}

func TestRunInstancesErrors(t *testing.T) {
	f := newFixture(t, nil)
	tags := func(n int) []types.Tag {
		var out []types.Tag
		for i := range n {
			out = append(out, types.Tag{Key: aws.String("k" + strings.Repeat("x", i)), Value: aws.String("v")})
		}
		return out
	}
	cases := []struct {
		name string
		edit func(*sdk.RunInstancesInput)
		code string
	}{
		{"unknown image", func(in *sdk.RunInstancesInput) { in.ImageId = aws.String("ami-0123456789abcdef0") }, "InvalidAMIID.NotFound"},
		{"malformed image", func(in *sdk.RunInstancesInput) { in.ImageId = aws.String("ubuntu") }, "InvalidAMIID.Malformed"},
		{"no image", func(in *sdk.RunInstancesInput) { in.ImageId = nil }, "MissingParameter"},
		{"missing parameter", func(in *sdk.RunInstancesInput) { in.ImageId = aws.String("resolve:ssm:/golden/ami") }, "SsmInvalidParameter"},
		{"unknown type", func(in *sdk.RunInstancesInput) { in.InstanceType = "t3.gigantic" }, "InvalidParameterValue"},
		{"unknown family", func(in *sdk.RunInstancesInput) { in.InstanceType = "zz9.micro" }, "InvalidParameterValue"},
		{"architecture", func(in *sdk.RunInstancesInput) { in.ImageId = aws.String(al2023arm) }, "InvalidParameterValue"},
		{"min above max", func(in *sdk.RunInstancesInput) { in.MinCount = aws.Int32(3) }, "InvalidParameterValue"},
		{"zero count", func(in *sdk.RunInstancesInput) { in.MinCount, in.MaxCount = aws.Int32(0), aws.Int32(0) }, "InvalidParameterValue"},
		{"unknown subnet", func(in *sdk.RunInstancesInput) { in.SubnetId = aws.String("subnet-0123456789abcdef0") }, "InvalidSubnetID.NotFound"},
		{"unknown zone", func(in *sdk.RunInstancesInput) {
			in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1q")}
		}, "InvalidParameterValue"},
		{"unknown group", func(in *sdk.RunInstancesInput) { in.SecurityGroupIds = []string{"sg-0123456789abcdef0"} }, "InvalidGroup.NotFound"},
		{"unknown group name", func(in *sdk.RunInstancesInput) { in.SecurityGroups = []string{"web"} }, "InvalidGroup.NotFound"},
		{"malformed group", func(in *sdk.RunInstancesInput) { in.SecurityGroupIds = []string{"web"} }, "InvalidGroupId.Malformed"},
		{"user data not base64", func(in *sdk.RunInstancesInput) { in.UserData = aws.String("#!/bin/bash\necho hi") }, "InvalidParameterValue"},
		{"user data too long", func(in *sdk.RunInstancesInput) { in.UserData = b64(strings.Repeat("x", 16*1024+1)) }, "InvalidParameterValue"},
		{"profile arn and name", func(in *sdk.RunInstancesInput) {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::123456789012:instance-profile/a"), Name: aws.String("a")}
		}, "InvalidParameterCombination"},
		{"profile arn", func(in *sdk.RunInstancesInput) {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::123456789012:role/a")}
		}, "InvalidParameterValue"},
		{"metadata value", func(in *sdk.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: "sometimes"}
		}, "InvalidParameterValue"},
		{"hop limit", func(in *sdk.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpPutResponseHopLimit: aws.Int32(65)}
		}, "InvalidParameterValue"},
		{"tag resource type", func(in *sdk.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: tags(1)}}
		}, "InvalidParameterValue"},
		{"reserved tag", func(in *sdk.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}}}
		}, "InvalidParameterValue"},
		{"too many tags", func(in *sdk.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: tags(51)}}
		}, "TagLimitExceeded"},
		{"address outside subnet", func(in *sdk.RunInstancesInput) { in.PrivateIpAddress = aws.String("10.0.0.9") }, "InvalidParameterValue"},
		{"address for many", func(in *sdk.RunInstancesInput) {
			in.PrivateIpAddress = aws.String("172.31.0.9")
			in.MaxCount = aws.Int32(2)
		}, "InvalidParameterCombination"},
		{"dry run", func(in *sdk.RunInstancesInput) { in.DryRun = aws.Bool(true) }, "DryRunOperation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := &sdk.RunInstancesInput{
				ImageId:      aws.String(al2023x86),
				InstanceType: "t3.micro",
				MinCount:     aws.Int32(1),
				MaxCount:     aws.Int32(1),
			}
			c.edit(in)
			_, err := f.client.RunInstances(f.ctx, in)
			emutest.WantCode(t, err, c.code)
		})
	}
	out, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{})
	if err != nil || len(out.Reservations) != 0 {
		t.Errorf("after failed launches: %d reservations, %v; want none", len(out.Reservations), err)
	}
}

func TestRunInstancesPrivateAddress(t *testing.T) {
	f := newFixture(t, nil)
	first := f.run(t, 1, func(in *sdk.RunInstancesInput) { in.PrivateIpAddress = aws.String("172.31.0.10") })
	if got := aws.ToString(first.Instances[0].PrivateIpAddress); got != "172.31.0.10" {
		t.Errorf("PrivateIpAddress = %s, want the requested 172.31.0.10", got)
	}
	_, err := f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{
		ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		PrivateIpAddress: aws.String("172.31.0.10"),
	})
	emutest.WantCode(t, err, "InvalidIPAddress.InUse")
	_, err = f.client.RunInstances(f.ctx, &sdk.RunInstancesInput{
		ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		PrivateIpAddress: aws.String("172.31.0.3"), // reserved by AWS
	})
	emutest.WantCode(t, err, "InvalidParameterValue")
}

func TestClientToken(t *testing.T) {
	f := newFixture(t, nil)
	launch := func(token string, instanceType types.InstanceType, zone string) (*sdk.RunInstancesOutput, error) {
		in := &sdk.RunInstancesInput{
			ImageId: aws.String(al2023x86), InstanceType: instanceType,
			MinCount: aws.Int32(2), MaxCount: aws.Int32(2), ClientToken: aws.String(token),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("ClientId"), Value: aws.String("acme")}}}},
		}
		if zone != "" {
			in.Placement = &types.Placement{AvailabilityZone: aws.String(zone)}
		}
		return f.client.RunInstances(f.ctx, in)
	}
	first, err := launch("acme-1", "t3.micro", "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := launch("acme-1", "t3.micro", "")
	if err != nil {
		t.Fatalf("repeated RunInstances: %v", err)
	}
	if aws.ToString(again.ReservationId) != aws.ToString(first.ReservationId) ||
		strings.Join(instanceIDsOf([]types.Reservation{{Instances: again.Instances}}), ",") != strings.Join(instanceIDsOf([]types.Reservation{{Instances: first.Instances}}), ",") {
		t.Errorf("repeat answered reservation %s %v, want %s %v", aws.ToString(again.ReservationId), again.Instances, aws.ToString(first.ReservationId), first.Instances)
	}
	if again.Instances[0].State.Name != types.InstanceStateNameRunning {
		t.Errorf("repeat shows state %s, want the current one (running)", again.Instances[0].State.Name)
	}
	// AWS lets the zone differ between retries.
	if _, err := launch("acme-1", "t3.micro", "us-east-1a"); err != nil {
		t.Errorf("repeat with a zone: %v", err)
	}
	all, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{})
	if err != nil || len(instanceIDsOf(all.Reservations)) != 2 {
		t.Fatalf("after repeats: %v instances, %v; want 2", instanceIDsOf(all.Reservations), err)
	}

	_, err = launch("acme-1", "t3.small", "")
	emutest.WantCode(t, err, "IdempotentParameterMismatch")

	if _, err := f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{aws.ToString(first.Instances[0].InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	_, err = launch("acme-1", "t3.micro", "")
	emutest.WantCode(t, err, "IdempotentInstanceTerminated")
}

func TestDescribeInstancesFilters(t *testing.T) {
	f := newFixture(t, nil)
	tagged := func(client string) func(*sdk.RunInstancesInput) {
		return func(in *sdk.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("ClientId"), Value: aws.String(client)}}}}
		}
	}
	acme := f.run(t, 1, tagged("acme")).Instances[0]
	globex := f.run(t, 1, tagged("globex")).Instances[0]
	plain := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.InstanceType = "t3.small"
		in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1b")}
	}).Instances[0]
	if _, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: []string{aws.ToString(globex.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	id := func(i types.Instance) string { return aws.ToString(i.InstanceId) }
	filter := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}
	cases := []struct {
		filters []types.Filter
		want    []string
	}{
		{[]types.Filter{filter("instance-id", id(acme))}, []string{id(acme)}},
		{[]types.Filter{filter("tag:ClientId", "acme")}, []string{id(acme)}},
		{[]types.Filter{filter("tag:ClientId", "*")}, []string{id(acme), id(globex)}},
		{[]types.Filter{filter("tag-key", "ClientId")}, []string{id(acme), id(globex)}},
		{[]types.Filter{filter("tag-value", "glob?x")}, []string{id(globex)}},
		{[]types.Filter{filter("instance-state-name", "running")}, []string{id(acme), id(plain)}},
		{[]types.Filter{filter("instance-state-name", "stopped", "stopping")}, []string{id(globex)}},
		{[]types.Filter{filter("private-ip-address", aws.ToString(plain.PrivateIpAddress))}, []string{id(plain)}},
		{[]types.Filter{filter("instance-type", "t3.small")}, []string{id(plain)}},
		{[]types.Filter{filter("image-id", aws.ToString(acme.ImageId))}, []string{id(acme), id(globex), id(plain)}},
		{[]types.Filter{filter("subnet-id", aws.ToString(plain.SubnetId))}, []string{id(plain)}},
		{[]types.Filter{filter("availability-zone", "us-east-1a")}, []string{id(acme), id(globex)}},
		{[]types.Filter{filter("vpc-id", aws.ToString(acme.VpcId)), filter("tag:ClientId", "acme", "globex"), filter("instance-state-code", "16")}, []string{id(acme)}},
		{[]types.Filter{filter("tag:ClientId", "initech")}, nil},
	}
	for _, c := range cases {
		out, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: c.filters})
		if err != nil {
			t.Fatalf("filters %v: %v", c.filters, err)
		}
		if got := instanceIDsOf(out.Reservations); strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("filter %s=%v: got %v, want %v", aws.ToString(c.filters[0].Name), c.filters[0].Values, got, c.want)
		}
	}

	_, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{filter("colour", "blue")}})
	emutest.WantCode(t, err, "InvalidParameterValue")
	_, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{"i-0000000000000000a", id(acme), "i-0000000000000000b"}})
	apiErr := emutest.WantCode(t, err, "InvalidInstanceID.NotFound")
	if msg := apiErr.ErrorMessage(); !strings.Contains(msg, "i-0000000000000000a, i-0000000000000000b") {
		t.Errorf("NotFound message %q does not name the missing ids", msg)
	}
	_, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{"i-xyz"}})
	emutest.WantCode(t, err, "InvalidInstanceID.Malformed")
	out, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{id(plain), id(acme)}})
	if err != nil || strings.Join(instanceIDsOf(out.Reservations), " ") != id(acme)+" "+id(plain) {
		t.Errorf("by ids: %v, %v", instanceIDsOf(out.Reservations), err)
	}
}

func TestDescribeInstancesPagination(t *testing.T) {
	f := newFixture(t, nil)
	var want []string
	for range 4 {
		out := f.run(t, 3, nil)
		want = append(want, instanceIDsOf([]types.Reservation{{Instances: out.Instances}})...)
	}
	paginator := sdk.NewDescribeInstancesPaginator(f.client, &sdk.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	var got []string
	pages := 0
	reservations := map[string]int{}
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if n := len(instanceIDsOf(page.Reservations)); n > 5 {
			t.Errorf("page %d has %d instances, want at most 5", pages, n)
		}
		for _, r := range page.Reservations {
			reservations[aws.ToString(r.ReservationId)] += len(r.Instances)
		}
		got = append(got, instanceIDsOf(page.Reservations)...)
	}
	if pages != 3 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%d pages of %v, want 3 pages of %v", pages, got, want)
	}
	for id, n := range reservations {
		if n != 3 {
			t.Errorf("reservation %s shows %d instances over the pages, want 3", id, n)
		}
	}

	_, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: want[:1]})
	emutest.WantCode(t, err, "InvalidParameterCombination")
	_, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{MaxResults: aws.Int32(4)})
	emutest.WantCode(t, err, "InvalidParameterValue")
	_, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{MaxResults: aws.Int32(1001)})
	emutest.WantCode(t, err, "InvalidParameterValue")
	_, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{MaxResults: aws.Int32(5), NextToken: aws.String("bogus")})
	emutest.WantCode(t, err, "InvalidPaginationToken")
}

func TestDescribeInstanceAttribute(t *testing.T) {
	f := newFixture(t, nil)
	inst := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.DisableApiTermination = aws.Bool(true)
		in.InstanceInitiatedShutdownBehavior = types.ShutdownBehaviorTerminate
	}).Instances[0]
	get := func(attr types.InstanceAttributeName) *sdk.DescribeInstanceAttributeOutput {
		t.Helper()
		out, err := f.client.DescribeInstanceAttribute(f.ctx, &sdk.DescribeInstanceAttributeInput{InstanceId: inst.InstanceId, Attribute: attr})
		if err != nil {
			t.Fatalf("%s: %v", attr, err)
		}
		return out
	}
	if v := aws.ToString(get(types.InstanceAttributeNameInstanceType).InstanceType.Value); v != "t3.micro" {
		t.Errorf("instanceType = %q", v)
	}
	if v := aws.ToBool(get(types.InstanceAttributeNameDisableApiTermination).DisableApiTermination.Value); !v {
		t.Errorf("disableApiTermination = %v", v)
	}
	if v := aws.ToString(get(types.InstanceAttributeNameInstanceInitiatedShutdownBehavior).InstanceInitiatedShutdownBehavior.Value); v != "terminate" {
		t.Errorf("instanceInitiatedShutdownBehavior = %q", v)
	}
	if g := get(types.InstanceAttributeNameGroupSet).Groups; len(g) != 1 || aws.ToString(g[0].GroupName) != "default" {
		t.Errorf("groupSet = %+v", g)
	}
	if v := aws.ToString(get(types.InstanceAttributeNameRootDeviceName).RootDeviceName.Value); v != "/dev/xvda" {
		t.Errorf("rootDeviceName = %q", v)
	}

	_, err := f.client.DescribeInstanceAttribute(f.ctx, &sdk.DescribeInstanceAttributeInput{InstanceId: inst.InstanceId, Attribute: "colour"})
	emutest.WantCode(t, err, "InvalidParameterValue")
	_, err = f.client.DescribeInstanceAttribute(f.ctx, &sdk.DescribeInstanceAttributeInput{InstanceId: aws.String("i-0123456789abcdef0"), Attribute: types.InstanceAttributeNameUserData})
	emutest.WantCode(t, err, "InvalidInstanceID.NotFound")

	_, err = f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}})
	emutest.WantCode(t, err, "OperationNotPermitted")
}
