package route53

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

func vpcIn(id string, region types.VPCRegion) *types.VPC {
	return &types.VPC{VPCId: aws.String(id), VPCRegion: region}
}

func createPrivateZone(t *testing.T, c *route53.Client, name, ref string, v *types.VPC) string {
	t.Helper()
	out, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(ref), VPC: v})
	if err != nil {
		t.Fatalf("CreateHostedZone %s: %v", name, err)
	}
	return stripPrefix(aws.ToString(out.HostedZone.Id))
}

// zonesOf lists, page by page, the zones ListHostedZonesByVPC answers for v, as "id name owner".
func zonesOf(t *testing.T, c *route53.Client, v *types.VPC, maxItems int32) (zones []string, pages int) {
	t.Helper()
	in := &route53.ListHostedZonesByVPCInput{VPCId: v.VPCId, VPCRegion: v.VPCRegion}
	if maxItems != 0 {
		in.MaxItems = aws.Int32(maxItems)
	}
	for {
		out, err := c.ListHostedZonesByVPC(ctx, in)
		if err != nil {
			t.Fatalf("ListHostedZonesByVPC: %v", err)
		}
		if want := cmp.Or(maxItems, 100); aws.ToInt32(out.MaxItems) != want {
			t.Errorf("MaxItems %d, want %d", aws.ToInt32(out.MaxItems), want)
		}
		pages++
		for _, s := range out.HostedZoneSummaries {
			zones = append(zones, fmt.Sprintf("%s %s %s", aws.ToString(s.HostedZoneId), aws.ToString(s.Name), aws.ToString(s.Owner.OwningAccount)))
			if s.Owner.OwningService != nil {
				t.Errorf("zone %s owned by a service, %s", aws.ToString(s.HostedZoneId), aws.ToString(s.Owner.OwningService))
			}
		}
		if out.NextToken == nil {
			return zones, pages
		}
		in.NextToken = out.NextToken
	}
}

func TestListHostedZonesByVPC(t *testing.T) {
	svc, c := start(t, Options{VPCs: fakeVPCs{"vpc-1": true, "vpc-2": true, "eu-west-1/vpc-9": true}, AccountID: "111122223333"})
	vpc1, vpc2, vpc9 := vpcIn("vpc-1", types.VPCRegionApNortheast1), vpcIn("vpc-2", types.VPCRegionApNortheast1), vpcIn("vpc-9", types.VPCRegionEuWest1)
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("z%d.local.", i)
		id := createPrivateZone(t, c, name, "by-vpc-"+name, vpc1)
		want = append(want, id+" "+name+" 111122223333")
	}
	slices.Sort(want) // listed by id
	createPrivateZone(t, c, "other.local.", "by-vpc-other", vpc2)
	createTestZone(t, c, "example.com.", "by-vpc-public")

	// Every private zone of the VPC, and only those, whatever the page size.
	for _, size := range []int32{0, 1, 2, 5} {
		got, pages := zonesOf(t, c, vpc1, size)
		if !slices.Equal(got, want) {
			t.Errorf("maxitems %d: zones\n got %q\nwant %q", size, got, want)
		}
		if wantPages := map[int32]int{0: 1, 1: 5, 2: 3, 5: 1}[size]; pages != wantPages {
			t.Errorf("maxitems %d: %d pages, want %d", size, pages, wantPages)
		}
	}

	// A VPC associated later lists the zone; disassociated, it does not; a VPC of no zone lists
	// none.
	zone := strings.Fields(want[2])[0]
	if _, err := c.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(zone), VPC: vpc9}); err != nil {
		t.Fatal(err)
	}
	if got, _ := zonesOf(t, c, vpc9, 0); !slices.Equal(got, want[2:3]) {
		t.Errorf("associated VPC: %q, want %q", got, want[2:3])
	}
	if got, _ := zonesOf(t, c, vpcIn("vpc-9", types.VPCRegionUsEast1), 0); len(got) != 0 {
		t.Errorf("the same VPC id in another region: %q", got)
	}
	if _, err := c.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(zone), VPC: vpc1}); err != nil {
		t.Fatal(err)
	}
	if got, _ := zonesOf(t, c, vpc1, 0); !slices.Equal(got, slices.Delete(slices.Clone(want), 2, 3)) {
		t.Errorf("after disassociating: %q", got)
	}
	if got, _ := zonesOf(t, c, vpcIn("vpc-404", types.VPCRegionApNortheast1), 0); len(got) != 0 {
		t.Errorf("a VPC of no zone: %q", got)
	}

	// A page's token resumes that listing only.
	first, err := c.ListHostedZonesByVPC(ctx, &route53.ListHostedZonesByVPCInput{VPCId: vpc1.VPCId, VPCRegion: vpc1.VPCRegion, MaxItems: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v %v", first, err)
	}
	list := func(v *types.VPC, maxItems int32, token string) error {
		in := &route53.ListHostedZonesByVPCInput{VPCId: v.VPCId, VPCRegion: v.VPCRegion}
		if maxItems != 0 {
			in.MaxItems = aws.Int32(maxItems)
		}
		if token != "" {
			in.NextToken = aws.String(token)
		}
		_, err := c.ListHostedZonesByVPC(ctx, in)
		return err
	}
	for _, tc := range []struct {
		what, code, message string
		err                 error
	}{
		{"a token made up", "InvalidPaginationToken", "The pagination token not-a-token is not valid: pass the NextToken of the previous response, for the same request.",
			list(vpc1, 0, "not-a-token")},
		{"another VPC's token", "InvalidPaginationToken", "The pagination token " + aws.ToString(first.NextToken) + " is not valid: pass the NextToken of the previous response, for the same request.",
			list(vpc2, 0, aws.ToString(first.NextToken))},
		{"no VPC id", "InvalidInput", "Invalid request: a VPC with both VPCId and VPCRegion is required", list(vpcIn("", types.VPCRegionApNortheast1), 0, "")},
		{"a VPC id too long", "InvalidInput", "Invalid request: VPCId is 1025 characters long, longer than the 1024 allowed",
			list(vpcIn("vpc-"+strings.Repeat("a", 1021), types.VPCRegionApNortheast1), 0, "")},
		{"a region Route 53 does not know", "InvalidInput", "Invalid request: VPCRegion 'mars-north-1' is not one of [" + strings.Join(vpcRegions(), ", ") + "]",
			list(vpcIn("vpc-1", "mars-north-1"), 0, "")},
		{"maxitems not positive", "InvalidInput", `Invalid request: maxitems must be a positive integer, not "-1"`, list(vpc1, -1, "")},
	} {
		if api := emutest.WantCode(t, tc.err, tc.code); api.ErrorMessage() != tc.message || emutest.Status(tc.err) != 400 {
			t.Errorf("%s: %d %q, want 400 %q", tc.what, emutest.Status(tc.err), api.ErrorMessage(), tc.message)
		}
	}
	// The SDKs refuse to send a request without a region; the emulator answers one as AWS does.
	resp, err := http.Get(emutest.Serve(t, svc) + "/2013-04-01/hostedzonesbyvpc?vpcid=vpc-1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>InvalidInput</Code><Message>Invalid request: a VPC with both VPCId and VPCRegion is required</Message>") {
		t.Errorf("no vpcregion: %d %s", resp.StatusCode, body)
	}
}

func TestVPCAssociationAuthorizations(t *testing.T) {
	_, c := start(t, Options{VPCs: fakeVPCs{"vpc-1": true, "vpc-2": true, "vpc-3": true, "eu-west-1/vpc-9": true}})
	zone := createPrivateZone(t, c, "local.", "auth-1", vpcIn("vpc-1", types.VPCRegionApNortheast1))
	public := stripPrefix(aws.ToString(createTestZone(t, c, "example.com.", "auth-public").HostedZone.Id))
	authorize := func(zone string, v *types.VPC) (*route53.CreateVPCAssociationAuthorizationOutput, error) {
		return c.CreateVPCAssociationAuthorization(ctx, &route53.CreateVPCAssociationAuthorizationInput{HostedZoneId: aws.String(zone), VPC: v})
	}
	deauthorize := func(zone string, v *types.VPC) error {
		_, err := c.DeleteVPCAssociationAuthorization(ctx, &route53.DeleteVPCAssociationAuthorizationInput{HostedZoneId: aws.String(zone), VPC: v})
		return err
	}
	// authorized lists the zone's authorizations, size a page, following NextToken.
	authorized := func(size int32) (vpcs []string, pages int) {
		t.Helper()
		in := &route53.ListVPCAssociationAuthorizationsInput{HostedZoneId: aws.String(zone), MaxResults: aws.Int32(size)}
		for {
			page, err := c.ListVPCAssociationAuthorizations(ctx, in)
			if err != nil {
				t.Fatalf("ListVPCAssociationAuthorizations: %v", err)
			}
			if aws.ToString(page.HostedZoneId) != zone {
				t.Errorf("HostedZoneId %q, want %q", aws.ToString(page.HostedZoneId), zone)
			}
			pages++
			for _, v := range page.VPCs {
				vpcs = append(vpcs, string(v.VPCRegion)+"/"+aws.ToString(v.VPCId))
			}
			if page.NextToken == nil {
				return vpcs, pages
			}
			in.NextToken = page.NextToken
		}
	}

	out, err := authorize(zone, vpcIn("vpc-9", types.VPCRegionEuWest1))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.HostedZoneId) != zone || aws.ToString(out.VPC.VPCId) != "vpc-9" || out.VPC.VPCRegion != types.VPCRegionEuWest1 {
		t.Errorf("CreateVPCAssociationAuthorization answered %s %+v", aws.ToString(out.HostedZoneId), out.VPC)
	}
	for _, v := range []*types.VPC{vpcIn("vpc-3", types.VPCRegionApNortheast1), vpcIn("vpc-2", types.VPCRegionApNortheast1), vpcIn("vpc-9", types.VPCRegionEuWest1)} {
		if _, err := authorize(zone, v); err != nil { // vpc-9 again: nothing changes
			t.Fatalf("authorize %s: %v", aws.ToString(v.VPCId), err)
		}
	}
	want := []string{"ap-northeast-1/vpc-2", "ap-northeast-1/vpc-3", "eu-west-1/vpc-9"}
	for size, wantPages := range map[int32]int{1: 3, 2: 2, 50: 1} {
		if got, pages := authorized(size); !slices.Equal(got, want) || pages != wantPages {
			t.Errorf("maxresults %d: %q in %d pages, want %q in %d", size, got, pages, want, wantPages)
		}
	}

	// With one account, an association needs no authorization; deleting one leaves the
	// association made.
	if _, err := c.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(zone), VPC: vpcIn("vpc-2", types.VPCRegionApNortheast1)}); err != nil {
		t.Fatal(err)
	}
	if err := deauthorize(zone, vpcIn("vpc-2", types.VPCRegionApNortheast1)); err != nil {
		t.Fatal(err)
	}
	if got := vpcsOfZone(t, c, zone); !slices.Equal(got, []string{"ap-northeast-1/vpc-1", "ap-northeast-1/vpc-2"}) {
		t.Errorf("VPCs after deleting an authorization: %q", got)
	}
	if got, _ := authorized(50); !slices.Equal(got, want[1:]) {
		t.Errorf("authorizations after deleting one: %q", got)
	}

	list := func(zone, token string) error {
		in := &route53.ListVPCAssociationAuthorizationsInput{HostedZoneId: aws.String(zone)}
		if token != "" {
			in.NextToken = aws.String(token)
		}
		_, err := c.ListVPCAssociationAuthorizations(ctx, in)
		return err
	}
	page, err := c.ListVPCAssociationAuthorizations(ctx, &route53.ListVPCAssociationAuthorizationsInput{HostedZoneId: aws.String(zone), MaxResults: aws.Int32(1)})
	if err != nil || page.NextToken == nil {
		t.Fatalf("first page: %v %v", page, err)
	}
	for _, tc := range []struct {
		what    string
		err     error
		code    string
		status  int
		message string
	}{
		{"an unknown zone", second(authorize("ZNOPE", vpcIn("vpc-2", types.VPCRegionApNortheast1))), "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE"},
		{"a public zone", second(authorize(public, vpcIn("vpc-2", types.VPCRegionApNortheast1))), "InvalidInput", 400,
			"Invalid input: the hosted zone " + public + " is a public hosted zone; only a private hosted zone can be associated with a VPC"},
		{"a VPC said to be in a region it is not in", second(authorize(zone, vpcIn("vpc-9", types.VPCRegionUsEast1))), "InvalidVPCId", 400,
			"The VPC vpc-9 in region us-east-1 that you provided is not authorized to make the association."},
		{"no VPC", second(authorize(zone, &types.VPC{})), "InvalidInput", 400, "Invalid request: a VPC with both VPCId and VPCRegion is required"},
		{"a region Route 53 does not know", second(authorize(zone, vpcIn("vpc-2", "mars-north-1"))), "InvalidInput", 400,
			"Invalid request: VPCRegion 'mars-north-1' is not one of [" + strings.Join(vpcRegions(), ", ") + "]"},
		{"deleting an authorization never made", deauthorize(zone, vpcIn("vpc-1", types.VPCRegionApNortheast1)), "VPCAssociationAuthorizationNotFound", 404,
			"The VPC that you specified is not authorized to be associated with the hosted zone."},
		{"deleting on an unknown zone", deauthorize("ZNOPE", vpcIn("vpc-3", types.VPCRegionApNortheast1)), "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE"},
		{"deleting without a VPC", deauthorize(zone, &types.VPC{}), "InvalidInput", 400, "Invalid request: a VPC with both VPCId and VPCRegion is required"},
		{"listing an unknown zone", list("ZNOPE", ""), "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE"},
		{"another zone's token", list(public, aws.ToString(page.NextToken)), "InvalidPaginationToken", 400,
			"The pagination token " + aws.ToString(page.NextToken) + " is not valid: pass the NextToken of the previous response, for the same request."},
	} {
		if api := emutest.WantCode(t, tc.err, tc.code); api.ErrorMessage() != tc.message || emutest.Status(tc.err) != tc.status {
			t.Errorf("%s: %d %q, want %d %q", tc.what, emutest.Status(tc.err), api.ErrorMessage(), tc.status, tc.message)
		}
	}
}

// TestVPCAssociationAuthorizationLimit: a zone holds at most 100 authorizations, Route 53's
// quota; deleting one makes room.
func TestVPCAssociationAuthorizationLimit(t *testing.T) {
	_, c := start(t, Options{})
	zone := createPrivateZone(t, c, "local.", "limit", vpcIn("vpc-0", types.VPCRegionUsEast1))
	authorize := func(i int) error {
		_, err := c.CreateVPCAssociationAuthorization(ctx, &route53.CreateVPCAssociationAuthorizationInput{
			HostedZoneId: aws.String(zone), VPC: vpcIn(fmt.Sprintf("vpc-%03d", i), types.VPCRegionUsEast1)})
		return err
	}
	for i := range maxZoneAuthorizations {
		if err := authorize(i); err != nil {
			t.Fatalf("authorization %d: %v", i+1, err)
		}
	}
	err := authorize(maxZoneAuthorizations)
	if api := emutest.WantCode(t, err, "TooManyVPCAssociationAuthorizations"); emutest.Status(err) != 400 ||
		api.ErrorMessage() != "The hosted zone "+zone+" already has 100 VPC association authorizations, the most a hosted zone can have." {
		t.Errorf("authorization 101: %d %q", emutest.Status(err), api.ErrorMessage())
	}
	if err := authorize(7); err != nil {
		t.Errorf("authorizing again a VPC already authorized: %v", err)
	}
	if _, err := c.DeleteVPCAssociationAuthorization(ctx, &route53.DeleteVPCAssociationAuthorizationInput{
		HostedZoneId: aws.String(zone), VPC: vpcIn("vpc-007", types.VPCRegionUsEast1)}); err != nil {
		t.Fatal(err)
	}
	if err := authorize(maxZoneAuthorizations); err != nil {
		t.Errorf("authorization 100 after deleting one: %v", err)
	}
}

// TestVPCAssociationAuthorizationsPersist: authorizations are kept in the state directory, seen
// by another process on it, and go with their zone.
func TestVPCAssociationAuthorizationsPersist(t *testing.T) {
	dir := t.TempDir()
	_, a := start(t, Options{Dir: dir})
	_, b := start(t, Options{Dir: dir})
	zone := createPrivateZone(t, a, "local.", "persist", vpcIn("vpc-1", types.VPCRegionUsEast1))
	if _, err := a.CreateVPCAssociationAuthorization(ctx, &route53.CreateVPCAssociationAuthorizationInput{
		HostedZoneId: aws.String(zone), VPC: vpcIn("vpc-2", types.VPCRegionUsWest2)}); err != nil {
		t.Fatal(err)
	}
	out, err := b.ListVPCAssociationAuthorizations(ctx, &route53.ListVPCAssociationAuthorizationsInput{HostedZoneId: aws.String(zone)})
	if err != nil || len(out.VPCs) != 1 || aws.ToString(out.VPCs[0].VPCId) != "vpc-2" || out.VPCs[0].VPCRegion != types.VPCRegionUsWest2 {
		t.Fatalf("the other process lists %+v, %v", out, err)
	}
	if _, err := b.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(zone)}); err != nil {
		t.Fatal(err)
	}
	_, err = a.ListVPCAssociationAuthorizations(ctx, &route53.ListVPCAssociationAuthorizationsInput{HostedZoneId: aws.String(zone)})
	emutest.WantCode(t, err, "NoSuchHostedZone")
}

// vpcsOfZone lists the VPCs GetHostedZone answers for the zone, as "region/id".
func vpcsOfZone(t *testing.T, c *route53.Client, zone string) []string {
	t.Helper()
	out, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(zone)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range out.VPCs {
		got = append(got, string(v.VPCRegion)+"/"+aws.ToString(v.VPCId))
	}
	return got
}

// BenchmarkListHostedZonesByVPC: one page of the 10 private zones of a VPC among 500 zones (the
// default quota of an account), SDK to emulator over loopback HTTP, state in memory.
func BenchmarkListHostedZonesByVPC(b *testing.B) {
	_, c := start(b, Options{})
	for i := range 500 {
		in := &route53.CreateHostedZoneInput{Name: aws.String(fmt.Sprintf("z%d.local.", i)), CallerReference: aws.String(fmt.Sprint(i)),
			VPC: vpcIn(fmt.Sprintf("vpc-%d", i%50), types.VPCRegionUsEast1)}
		if _, err := c.CreateHostedZone(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	in := &route53.ListHostedZonesByVPCInput{VPCId: aws.String("vpc-7"), VPCRegion: types.VPCRegionUsEast1}
	b.ReportAllocs()
	for b.Loop() {
		out, err := c.ListHostedZonesByVPC(ctx, in)
		if err != nil || len(out.HostedZoneSummaries) != 10 {
			b.Fatal(out, err)
		}
	}
}
