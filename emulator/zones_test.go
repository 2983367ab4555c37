package emulator

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

// defaultVPC returns the id of region's default VPC, asked of the emulated EC2 signed for region.
func defaultVPC(t *testing.T, cfg aws.Config, region string) string {
	t.Helper()
	cfg.Region = region
	out, err := ec2.NewFromConfig(cfg).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{
		Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}},
	})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("default VPC of %s: %v %v", region, out, err)
	}
	return aws.ToString(out.Vpcs[0].VpcId)
}

// TestPrivateZoneVPCsAcrossRegions: a private zone made for us-east-1's default VPC is associated
// with eu-west-1's after its creation, each VPC looked up in the emulated EC2 of its own region,
// and disassociated down to its last VPC.
func TestPrivateZoneVPCsAcrossRegions(t *testing.T) {
	e, err := New(Options{Seed: "zones"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	cfg := inProcess(e)
	east, west := defaultVPC(t, cfg, "us-east-1"), defaultVPC(t, cfg, "eu-west-1")
	rc := route53.NewFromConfig(cfg)
	zone, err := rc.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("local."), CallerReference: aws.String("zones"),
		VPC: &r53types.VPC{VPCId: aws.String(east), VPCRegion: r53types.VPCRegionUsEast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := zone.HostedZone.Id
	associate := func(vpc string, region r53types.VPCRegion) error {
		_, err := rc.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: id, VPC: &r53types.VPC{VPCId: aws.String(vpc), VPCRegion: region}})
		return err
	}
	// eu-west-1's VPC is not in us-east-1.
	emutest.WantCode(t, associate(west, r53types.VPCRegionUsEast1), "InvalidVPCId")
	if err := associate(west, r53types.VPCRegionEuWest1); err != nil {
		t.Fatal(err)
	}
	got, err := rc.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	var vpcs []string
	for _, v := range got.VPCs {
		vpcs = append(vpcs, string(v.VPCRegion)+"/"+aws.ToString(v.VPCId))
	}
	if want := []string{"us-east-1/" + east, "eu-west-1/" + west}; !slices.Equal(vpcs, want) {
		t.Errorf("VPCs %v, want %v", vpcs, want)
	}
	disassociate := func(vpc string, region r53types.VPCRegion) error {
		_, err := rc.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: id, VPC: &r53types.VPC{VPCId: aws.String(vpc), VPCRegion: region}})
		return err
	}
	if err := disassociate(east, r53types.VPCRegionUsEast1); err != nil {
		t.Fatal(err)
	}
	emutest.WantCode(t, disassociate(west, r53types.VPCRegionEuWest1), "LastVPCAssociation")
}

// TestPolicyVPCAssociation: associating a VPC with a private zone, and disassociating it, need
// ec2:DescribeVpcs besides the Route 53 action on the zone, as AWS lists it among their
// dependent actions.
func TestPolicyVPCAssociation(t *testing.T) {
	e := policyEmulator(t, `{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": ["route53:CreateHostedZone", "route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone", "ec2:DescribeVpcs"], "Resource": "*"}]}`)
	cfg := inProcess(e)
	ctx := context.Background()
	east, west := defaultVPC(t, cfg, "us-east-1"), defaultVPC(t, cfg, "eu-west-1")
	rc := route53.NewFromConfig(cfg)
	zone, err := rc.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("local."), CallerReference: aws.String("p"),
		VPC: &r53types.VPC{VPCId: aws.String(east), VPCRegion: r53types.VPCRegionUsEast1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: zone.HostedZone.Id,
		VPC: &r53types.VPC{VPCId: aws.String(west), VPCRegion: r53types.VPCRegionEuWest1}}); err != nil {
		t.Fatalf("allowed AssociateVPCWithHostedZone: %v", err)
	}

	e = policyEmulator(t, `{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": ["route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone"], "Resource": "*"}]}`)
	rc = route53.NewFromConfig(inProcess(e))
	_, err = rc.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: zone.HostedZone.Id,
		VPC: &r53types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: r53types.VPCRegionEuWest1}})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "User: "+user+" is not authorized to perform: ec2:DescribeVpcs "+
		"because no identity-based policy allows the ec2:DescribeVpcs action")
	_, err = rc.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: zone.HostedZone.Id,
		VPC: &r53types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: r53types.VPCRegionEuWest1}})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "User: "+user+" is not authorized to perform: ec2:DescribeVpcs "+
		"because no identity-based policy allows the ec2:DescribeVpcs action")
}

// TestZonesByVPCAndPolicy: ListHostedZonesByVPC finds a private zone by the emulated EC2's VPC,
// owned by the emulator's account, and needs ec2:DescribeVpcs besides its own action, as AWS
// lists it among its dependent actions; the VPC association authorizations are actions on their
// zone.
func TestZonesByVPCAndPolicy(t *testing.T) {
	e := policyEmulator(t, `{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": ["route53:CreateHostedZone", "route53:ListHostedZonesByVPC", "ec2:DescribeVpcs"], "Resource": "*"},
		{"Effect": "Allow", "Action": "route53:*VPCAssociationAuthorization*", "Resource": "arn:aws:route53:::hostedzone/*"}]}`)
	cfg := inProcess(e)
	ctx := context.Background()
	east := defaultVPC(t, cfg, "us-east-1")
	rc := route53.NewFromConfig(cfg)
	zone, err := rc.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("local."), CallerReference: aws.String("by-vpc"),
		VPC: &r53types.VPC{VPCId: aws.String(east), VPCRegion: r53types.VPCRegionUsEast1}})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")
	out, err := rc.ListHostedZonesByVPC(ctx, &route53.ListHostedZonesByVPCInput{VPCId: aws.String(east), VPCRegion: r53types.VPCRegionUsEast1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.HostedZoneSummaries) != 1 || aws.ToString(out.HostedZoneSummaries[0].HostedZoneId) != id ||
		aws.ToString(out.HostedZoneSummaries[0].Owner.OwningAccount) != "123456789012" {
		t.Errorf("zones of %s: %+v", east, out.HostedZoneSummaries)
	}
	if _, err := rc.CreateVPCAssociationAuthorization(ctx, &route53.CreateVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id),
		VPC: &r53types.VPC{VPCId: aws.String(defaultVPC(t, cfg, "eu-west-1")), VPCRegion: r53types.VPCRegionEuWest1}}); err != nil {
		t.Fatalf("allowed CreateVPCAssociationAuthorization: %v", err)
	}

	e = policyEmulator(t, `{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "route53:ListHostedZonesByVPC", "Resource": "*"}]}`)
	rc = route53.NewFromConfig(inProcess(e))
	_, err = rc.ListHostedZonesByVPC(ctx, &route53.ListHostedZonesByVPCInput{VPCId: aws.String(east), VPCRegion: r53types.VPCRegionUsEast1})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "User: "+user+" is not authorized to perform: ec2:DescribeVpcs "+
		"because no identity-based policy allows the ec2:DescribeVpcs action")
	_, err = rc.ListVPCAssociationAuthorizations(ctx, &route53.ListVPCAssociationAuthorizationsInput{HostedZoneId: aws.String(id)})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "User: "+user+" is not authorized to perform: route53:ListVPCAssociationAuthorizations on resource: "+
		"arn:aws:route53:::hostedzone/"+id+" because no identity-based policy allows the route53:ListVPCAssociationAuthorizations action")
}
