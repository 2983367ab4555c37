package ec2

import (
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

// Subnets carry their zone's id, in answers, in filters and in CreateSubnet.
func TestSubnetZoneIDs(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Region = "eu-west-1"; o.Parameters = publicParameters("eu-west-1") })
	out, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range out.Subnets {
		got[aws.ToString(s.AvailabilityZone)] = aws.ToString(s.AvailabilityZoneId)
	}
	want := map[string]string{"eu-west-1a": "euw1-az1", "eu-west-1b": "euw1-az2", "eu-west-1c": "euw1-az3"}
	for zone, id := range want {
		if got[zone] != id {
			t.Errorf("%s: zone id %q, want %q", zone, got[zone], id)
		}
	}
	byID, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{Filters: []types.Filter{
		{Name: aws.String("availability-zone-id"), Values: []string{"euw1-az2"}}}})
	if err != nil || len(byID.Subnets) != 1 || aws.ToString(byID.Subnets[0].AvailabilityZone) != "eu-west-1b" {
		t.Errorf("filter availability-zone-id: %v, %+v", err, byID)
	}

	vpc, err := f.client.CreateVpc(f.ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	created, err := f.client.CreateSubnet(f.ctx, &sdk.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZoneId: aws.String("euw1-az3")})
	if err != nil {
		t.Fatal(err)
	}
	if s := created.Subnet; aws.ToString(s.AvailabilityZone) != "eu-west-1c" || aws.ToString(s.AvailabilityZoneId) != "euw1-az3" || aws.ToBool(s.MapPublicIpOnLaunch) {
		t.Errorf("CreateSubnet by zone id: %s %s, maps public IPs %v", aws.ToString(s.AvailabilityZone), aws.ToString(s.AvailabilityZoneId), aws.ToBool(s.MapPublicIpOnLaunch))
	}
	_, err = f.client.CreateSubnet(f.ctx, &sdk.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.2.0/24"), AvailabilityZoneId: aws.String("use1-az1")})
	emutest.WantCode(t, err, "InvalidParameterValue")
	_, err = f.client.CreateSubnet(f.ctx, &sdk.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.2.0/24"),
		AvailabilityZone: aws.String("eu-west-1a"), AvailabilityZoneId: aws.String("euw1-az1")})
	emutest.WantCode(t, err, "InvalidParameterCombination")

	// RunInstances places by zone id too.
	inst := f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.Placement = &types.Placement{AvailabilityZoneId: aws.String("euw1-az2")}
	}).Instances[0]
	if zone := aws.ToString(inst.Placement.AvailabilityZone); zone != "eu-west-1b" {
		t.Errorf("launched by zone id euw1-az2 in %s", zone)
	}
}

// Default subnets map a public IP on launch: an instance there has one and a public DNS name
// while it runs, and loses it when it stops; one in a subnet of one's own has none.
func TestPublicIPOnDefaultSubnets(t *testing.T) {
	f := newFixture(t, nil)
	subnets, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subnets.Subnets {
		if !aws.ToBool(s.MapPublicIpOnLaunch) {
			t.Errorf("default subnet %s does not map public IPs on launch", aws.ToString(s.SubnetId))
		}
	}
	launched := f.run(t, 2, nil).Instances
	seen := map[string]bool{}
	for _, inst := range launched {
		got := f.describe(t, aws.ToString(inst.InstanceId))
		ip, dns := aws.ToString(got.PublicIpAddress), aws.ToString(got.PublicDnsName)
		if !regexp.MustCompile(`^3\.(8\d|9[0-5])\.\d+\.\d+$`).MatchString(ip) || seen[ip] {
			t.Errorf("public IP %q: want a new address of 3.80.0.0/12", ip)
		}
		seen[ip] = true
		if want := "ec2-" + regexp.MustCompile(`\.`).ReplaceAllString(ip, "-") + ".compute-1.amazonaws.com"; dns != want {
			t.Errorf("public DNS name %q, want %q", dns, want)
		}
	}
	id := aws.ToString(launched[0].InstanceId)
	byIP, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("ip-address"), Values: []string{aws.ToString(f.describe(t, id).PublicIpAddress)}}}})
	if err != nil || len(instanceIDsOf(byIP.Reservations)) != 1 || instanceIDsOf(byIP.Reservations)[0] != id {
		t.Errorf("filter ip-address: %v, %v", err, instanceIDsOf(byIP.Reservations))
	}
	if _, err := f.client.StopInstances(f.ctx, &sdk.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if stopped := f.describe(t, id); stopped.PublicIpAddress != nil || aws.ToString(stopped.PublicDnsName) != "" {
		t.Errorf("a stopped instance keeps %v %q", aws.ToString(stopped.PublicIpAddress), aws.ToString(stopped.PublicDnsName))
	}

	vpc, err := f.client.CreateVpc(f.ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	own, err := f.client.CreateSubnet(f.ctx, &sdk.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.1.0.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	private := f.run(t, 1, func(in *sdk.RunInstancesInput) { in.SubnetId = own.Subnet.SubnetId }).Instances[0]
	if got := f.describe(t, aws.ToString(private.InstanceId)); got.PublicIpAddress != nil || aws.ToString(got.PublicDnsName) != "" {
		t.Errorf("an instance in a subnet of one's own got %v %q", aws.ToString(got.PublicIpAddress), aws.ToString(got.PublicDnsName))
	}
}

// Parameters the emulator cannot honour are refused, never dropped.
func TestRunInstancesRefusesWhatItCannotHonour(t *testing.T) {
	f := newFixture(t, nil)
	for name, edit := range map[string]func(*sdk.RunInstancesInput){
		"Placement.HostId": func(in *sdk.RunInstancesInput) {
			in.Placement = &types.Placement{HostId: aws.String("h-0123456789abcdef0")}
		},
		"Placement.Tenancy": func(in *sdk.RunInstancesInput) { in.Placement = &types.Placement{Tenancy: types.TenancyHost} },
		"HibernationOptions": func(in *sdk.RunInstancesInput) {
			in.HibernationOptions = &types.HibernationOptionsRequest{Configured: aws.Bool(true)}
		},
	} {
		in := &sdk.RunInstancesInput{ImageId: aws.String(al2023x86), InstanceType: types.InstanceType("t3.micro"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
		edit(in)
		_, err := f.client.RunInstances(f.ctx, in)
		if api := emutest.WantCode(t, err, "UnsupportedOperation"); !regexp.MustCompile(regexp.QuoteMeta(name)).MatchString(api.ErrorMessage()) {
			t.Errorf("%s: %q does not name it", name, api.ErrorMessage())
		}
	}
	// Hibernation not asked for is what every instance has.
	f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.HibernationOptions = &types.HibernationOptionsRequest{Configured: aws.Bool(false)}
	})
	out, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{})
	if err != nil || len(instanceIDsOf(out.Reservations)) != 1 {
		t.Errorf("after the refusals: %v, %v instances, want only the one launched", err, instanceIDsOf(out.Reservations))
	}
}
