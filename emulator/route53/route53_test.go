package route53

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

var ctx = context.Background()

// fixedClock is a clock tests move by hand.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

// fakeVPCs knows a fixed set of VPCs, all in ap-northeast-1 (keyed by id), or keyed by
// "REGION/id" in another region.
type fakeVPCs map[string]bool

func (v fakeVPCs) VPCExists(_ context.Context, region, id string) (bool, error) {
	if region == "ap-northeast-1" && v[id] {
		return true, nil
	}
	return v[region+"/"+id], nil
}

// start serves a new Service and returns it with a client that does not retry.
func start(t testing.TB, opts Options) (*Service, *route53.Client) {
	t.Helper()
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc, client(emutest.Serve(t, svc))
}

// client is the real Route 53 client for the emulator at url, without retries.
func client(url string) *route53.Client { return route53.NewFromConfig(emutest.Config(url)) }

func createTestZone(t *testing.T, c *route53.Client, name, ref string) *route53.CreateHostedZoneOutput {
	t.Helper()
	out, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(ref)})
	if err != nil {
		t.Fatalf("CreateHostedZone %s: %v", name, err)
	}
	return out
}

func upsertA(name, ip string) types.Change {
	return types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &types.ResourceRecordSet{
		Name: aws.String(name), Type: types.RRTypeA, TTL: aws.Int64(300),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String(ip)}},
	}}
}

func rrChange(action types.ChangeAction, name string, typ types.RRType, ttl int64, values ...string) types.Change {
	set := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		set.ResourceRecords = append(set.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return types.Change{Action: action, ResourceRecordSet: set}
}

func changeBatch(t *testing.T, c *route53.Client, zoneID string, changes ...types.Change) (*route53.ChangeResourceRecordSetsOutput, error) {
	t.Helper()
	return c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
		ChangeBatch:  &types.ChangeBatch{Changes: changes},
	})
}

// records lists every record set of a zone as "name type ttl values".
func records(t *testing.T, c *route53.Client, zoneID string) []string {
	t.Helper()
	var out []string
	p := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.ResourceRecordSets {
			out = append(out, describeSet(s))
		}
	}
	return out
}

func describeSet(s types.ResourceRecordSet) string {
	var values []string
	for _, r := range s.ResourceRecords {
		values = append(values, aws.ToString(r.Value))
	}
	return fmt.Sprintf("%s %s %d %s", aws.ToString(s.Name), s.Type, aws.ToInt64(s.TTL), strings.Join(values, ","))
}

// wantBatchError checks that err is InvalidChangeBatch carrying exactly these messages, in
// AWS's bracketed form.
func wantBatchError(t *testing.T, err error, messages ...string) {
	t.Helper()
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) {
		t.Fatalf("want *types.InvalidChangeBatch, got %T %v", err, err)
	}
	if want := "[" + strings.Join(messages, ", ") + "]"; icb.ErrorMessage() != want {
		t.Errorf("InvalidChangeBatch message\n got: %s\nwant: %s", icb.ErrorMessage(), want)
	}
	if emutest.Status(err) != 400 {
		t.Errorf("status %d, want 400", emutest.Status(err))
	}
}

func TestPublicHostedZoneLifecycle(t *testing.T) {
	_, c := start(t, Options{IDs: wire.IDs{Seed: "lifecycle"}})
	out, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name:             aws.String("Example.COM"),
		CallerReference:  aws.String("ref-1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("the example")},
	})
	if err != nil {
		t.Fatal(err)
	}
	zone := out.HostedZone
	id := strings.TrimPrefix(aws.ToString(zone.Id), "/hostedzone/")
	if !strings.HasPrefix(aws.ToString(zone.Id), "/hostedzone/Z") || len(id) != 21 || strings.ToUpper(id) != id {
		t.Errorf("zone id %q, want /hostedzone/Z and 20 upper-case letters and digits", aws.ToString(zone.Id))
	}
	if aws.ToString(zone.Name) != "example.com." || aws.ToString(zone.CallerReference) != "ref-1" {
		t.Errorf("zone %s %s", aws.ToString(zone.Name), aws.ToString(zone.CallerReference))
	}
	if zone.Config == nil || aws.ToString(zone.Config.Comment) != "the example" || zone.Config.PrivateZone {
		t.Errorf("config %+v", zone.Config)
	}
	if aws.ToInt64(zone.ResourceRecordSetCount) != 2 {
		t.Errorf("record count %d, want 2", aws.ToInt64(zone.ResourceRecordSetCount))
	}
	if want := "https://route53.amazonaws.com/2013-04-01/hostedzone/" + id; aws.ToString(out.Location) != want {
		t.Errorf("Location %q, want %q", aws.ToString(out.Location), want)
	}
	if out.ChangeInfo.Status != types.ChangeStatusPending || !strings.HasPrefix(aws.ToString(out.ChangeInfo.Id), "/change/C") {
		t.Errorf("change info %+v", out.ChangeInfo)
	}
	if out.VPC != nil {
		t.Errorf("a public zone answered a VPC")
	}
	servers := out.DelegationSet.NameServers
	if len(servers) != 4 {
		t.Fatalf("name servers %v", servers)
	}
	for _, ns := range servers {
		var n, group int
		var tld string
		if _, err := fmt.Sscanf(ns, "ns-%d.awsdns-%d.%s", &n, &group, &tld); err != nil || group != (n%512)/8 {
			t.Errorf("name server %q does not look like Route 53's", ns)
		}
	}

	change, err := c.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id})
	if err != nil {
		t.Fatal(err)
	}
	if change.ChangeInfo.Status != types.ChangeStatusInsync {
		t.Errorf("GetChange status %s, want INSYNC", change.ChangeInfo.Status)
	}

	got, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: zone.Id}) // the SDK strips /hostedzone/
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.HostedZone.Id) != aws.ToString(zone.Id) || !slices.Equal(got.DelegationSet.NameServers, servers) || got.VPCs != nil {
		t.Errorf("GetHostedZone %s %v %v, want %s %v", aws.ToString(got.HostedZone.Id), got.DelegationSet.NameServers, got.VPCs, aws.ToString(zone.Id), servers)
	}

	want := []string{
		"example.com. NS 172800 " + strings.Join(servers, ".,") + ".",
		"example.com. SOA 900 " + servers[0] + ". awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
	}
	if got := records(t, c, id); !slices.Equal(got, want) {
		t.Errorf("records\n got %q\nwant %q", got, want)
	}

	del, err := c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if del.ChangeInfo.Status != types.ChangeStatusPending {
		t.Errorf("delete status %s", del.ChangeInfo.Status)
	}
	_, err = c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	var nsz *types.NoSuchHostedZone
	if !errors.As(err, &nsz) || emutest.Status(err) != 404 || nsz.ErrorMessage() != "No hosted zone found with ID: "+id {
		t.Fatalf("GetHostedZone after delete: %v", err)
	}
	_, err = c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	if !errors.As(err, &nsz) {
		t.Errorf("DeleteHostedZone twice: %v", err)
	}
	_, err = c.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("CNOSUCHCHANGE")})
	var nsc *types.NoSuchChange
	if !errors.As(err, &nsc) || emutest.Status(err) != 404 {
		t.Errorf("GetChange unknown: %v", err)
	}
}

func TestPrivateHostedZone(t *testing.T) {
	_, c := start(t, Options{VPCs: fakeVPCs{"vpc-1": true, "vpc-2": true, "eu-west-1/vpc-9": true}})
	out, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name:             aws.String("local"),
		CallerReference:  aws.String("private-1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("clients"), PrivateZone: true},
		VPC:              &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionApNortheast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.HostedZone.Config.PrivateZone || out.VPC == nil || aws.ToString(out.VPC.VPCId) != "vpc-1" || out.VPC.VPCRegion != types.VPCRegionApNortheast1 {
		t.Errorf("private zone %+v VPC %+v", out.HostedZone.Config, out.VPC)
	}
	if out.DelegationSet != nil {
		t.Errorf("a private zone answered a delegation set %v", out.DelegationSet.NameServers)
	}
	got, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: out.HostedZone.Id})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.VPCs) != 1 || aws.ToString(got.VPCs[0].VPCId) != "vpc-1" || got.DelegationSet != nil {
		t.Errorf("GetHostedZone VPCs %+v delegation %+v", got.VPCs, got.DelegationSet)
	}
	want := []string{
		"local. NS 172800 ns-1536.awsdns-00.co.uk.,ns-0.awsdns-00.com.,ns-1024.awsdns-00.org.,ns-512.awsdns-00.net.",
		"local. SOA 900 ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
	}
	if got := records(t, c, aws.ToString(out.HostedZone.Id)); !slices.Equal(got, want) {
		t.Errorf("records\n got %q\nwant %q", got, want)
	}

	// A VPC alone makes the zone private.
	out2, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("local."), CallerReference: aws.String("private-2"),
		VPC: &types.VPC{VPCId: aws.String("vpc-2"), VPCRegion: types.VPCRegionApNortheast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out2.HostedZone.Config.PrivateZone {
		t.Errorf("a zone with a VPC is not private")
	}

	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("local."), CallerReference: aws.String("private-3"),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionApNortheast1},
	})
	var cde *types.ConflictingDomainExists
	if !errors.As(err, &cde) {
		t.Errorf("same private name on the same VPC: %v", err)
	}

	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("other.local."), CallerReference: aws.String("private-4"),
		VPC: &types.VPC{VPCId: aws.String("vpc-404"), VPCRegion: types.VPCRegionApNortheast1},
	})
	var bad *types.InvalidVPCId
	if !errors.As(err, &bad) || emutest.Status(err) != 400 {
		t.Errorf("unknown VPC: %v", err)
	}
	// A VPC is looked up in its own region: there, it is found; said to be elsewhere, it is not.
	if _, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("eu.local."), CallerReference: aws.String("private-eu"),
		VPC: &types.VPC{VPCId: aws.String("vpc-9"), VPCRegion: types.VPCRegionEuWest1},
	}); err != nil {
		t.Errorf("VPC in its own region: %v", err)
	}
	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("other.local."), CallerReference: aws.String("private-6"),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionUsEast1},
	})
	if !errors.As(err, &bad) || bad.ErrorMessage() != "The VPC vpc-1 in region us-east-1 that you provided is not authorized to make the association." {
		t.Errorf("VPC in another region: %v", err)
	}

	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("other.local."), CallerReference: aws.String("private-5"),
		HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true},
	})
	var in *types.InvalidInput
	if !errors.As(err, &in) {
		t.Errorf("PrivateZone without a VPC: %v", err)
	}

	private, err := c.ListHostedZones(ctx, &route53.ListHostedZonesInput{HostedZoneType: types.HostedZoneTypePrivateHostedZone})
	if err != nil || len(private.HostedZones) != 3 {
		t.Errorf("private zones: %v %v", private, err)
	}
}

func TestCallerReferenceIsNeverReused(t *testing.T) {
	_, c := start(t, Options{})
	out := createTestZone(t, c, "a.example.", "ref")
	for _, name := range []string{"a.example.", "b.example."} { // same and different parameters
		_, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String("ref")})
		var exists *types.HostedZoneAlreadyExists
		if !errors.As(err, &exists) || emutest.Status(err) != 409 {
			t.Fatalf("repeated CallerReference for %s: %v", name, err)
		}
		if exists.ErrorMessage() != "A hosted zone has already been created with the specified caller reference." {
			t.Errorf("message %q", exists.ErrorMessage())
		}
	}
	if _, err := c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: out.HostedZone.Id}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("a.example."), CallerReference: aws.String("ref")})
	emutest.WantCode(t, err, "HostedZoneAlreadyExists") // the CallerReference of a deleted zone
	// Public zones may share a name.
	createTestZone(t, c, "a.example.", "ref-2")

	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("a..example"), CallerReference: aws.String("ref-3")})
	var idn *types.InvalidDomainName
	if !errors.As(err, &idn) {
		t.Errorf("malformed name: %v", err)
	}
}

func TestChangeResourceRecordSets(t *testing.T) {
	_, c := start(t, Options{})
	zone, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("local."), CallerReference: aws.String("ref"),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionApNortheast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(zone.HostedZone.Id)

	out, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(id),
		ChangeBatch:  &types.ChangeBatch{Comment: aws.String("boot"), Changes: []types.Change{upsertA("ACME.local", "10.0.1.23")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.ChangeInfo.Status != types.ChangeStatusPending || aws.ToString(out.ChangeInfo.Comment) != "boot" {
		t.Errorf("change info %+v", out.ChangeInfo)
	}
	got, err := c.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id})
	if err != nil || got.ChangeInfo.Status != types.ChangeStatusInsync || aws.ToString(got.ChangeInfo.Comment) != "boot" {
		t.Fatalf("GetChange %+v %v", got, err)
	}
	// UPSERT again replaces.
	if _, err := changeBatch(t, c, id, upsertA("acme.local.", "10.0.1.24")); err != nil {
		t.Fatal(err)
	}
	if recs := records(t, c, id); !slices.Contains(recs, "acme.local. A 300 10.0.1.24") || len(recs) != 3 {
		t.Errorf("records after UPSERT %q", recs)
	}
	zoneNow, _ := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	if aws.ToInt64(zoneNow.HostedZone.ResourceRecordSetCount) != 3 {
		t.Errorf("record count %d", aws.ToInt64(zoneNow.HostedZone.ResourceRecordSetCount))
	}

	cases := []struct {
		name    string
		changes []types.Change
		want    []string
	}{
		{"create existing", []types.Change{rrChange(types.ChangeActionCreate, "acme.local.", types.RRTypeA, 300, "10.0.0.1")},
			[]string{"Tried to create resource record set [name='acme.local.', type='A'] but it already exists"}},
		{"delete missing", []types.Change{rrChange(types.ChangeActionDelete, "nobody.local.", types.RRTypeA, 300, "10.0.0.1")},
			[]string{"Tried to delete resource record set [name='nobody.local.', type='A'] but it was not found"}},
		{"delete with another TTL", []types.Change{rrChange(types.ChangeActionDelete, "acme.local.", types.RRTypeA, 60, "10.0.1.24")},
			[]string{"Tried to delete resource record set [name='acme.local.', type='A'] but the values provided do not match the current values"}},
		{"delete with other values", []types.Change{rrChange(types.ChangeActionDelete, "acme.local.", types.RRTypeA, 300, "10.0.1.23")},
			[]string{"Tried to delete resource record set [name='acme.local.', type='A'] but the values provided do not match the current values"}},
		{"CNAME beside an A", []types.Change{rrChange(types.ChangeActionCreate, "acme.local.", types.RRTypeCname, 300, "other.local.")},
			[]string{"RRSet of type CNAME with DNS name acme.local. is not permitted as it conflicts with other records with the same DNS name in zone local."}},
		{"CNAME at the apex", []types.Change{rrChange(types.ChangeActionUpsert, "local.", types.RRTypeCname, 300, "other.example.")},
			[]string{"RRSet of type CNAME with DNS name local. is not permitted at apex in zone local."}},
		{"outside the zone", []types.Change{upsertA("acme.example.com", "10.0.0.1")},
			[]string{"RRSet with DNS name acme.example.com. is not permitted in zone local."}},
		{"not an IPv4 address", []types.Change{upsertA("bad.local.", "10.0.0.256")},
			[]string{"Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '10.0.0.256''"}},
		{"two addresses in one value", []types.Change{upsertA("bad.local.", "10.0.0.1, 10.0.0.2")},
			[]string{"Invalid Resource Record: 'FATAL problem: ARRDATANotSingleField (Value contains spaces) encountered with '10.0.0.1, 10.0.0.2''"}},
		{"not an IPv6 address", []types.Change{rrChange(types.ChangeActionUpsert, "v6.local.", types.RRTypeAaaa, 300, "10.0.0.1")},
			[]string{"Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '10.0.0.1''"}},
		{"empty label", []types.Change{upsertA("a..local.", "10.0.0.1")},
			[]string{"FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with 'a..local.'"}},
		{"the same record twice", []types.Change{upsertA("twice.local.", "10.0.0.1"), upsertA("Twice.local", "10.0.0.2")},
			[]string{"The request contains an invalid set of changes for a resource record set 'A twice.local.'"}},
		{"apex SOA and NS", []types.Change{
			rrChange(types.ChangeActionDelete, "local.", types.RRTypeNs, 172800, "ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.", "ns-512.awsdns-00.net."),
			rrChange(types.ChangeActionDelete, "local.", types.RRTypeSoa, 900, "ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")},
			[]string{"A HostedZone must contain at least one NS record for the zone itself.", "A HostedZone must contain exactly one SOA record."}},
		{"every problem is reported", []types.Change{upsertA("x.other.", "10.0.0.1"), upsertA("y.other.", "10.0.0.1")},
			[]string{"RRSet with DNS name x.other. is not permitted in zone local.", "RRSet with DNS name y.other. is not permitted in zone local."}},
	}
	before := records(t, c, id)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := changeBatch(t, c, id, tc.changes...)
			wantBatchError(t, err, tc.want...)
		})
	}
	if after := records(t, c, id); !slices.Equal(before, after) {
		t.Errorf("rejected batches changed the zone\nbefore %q\n after %q", before, after)
	}

	// A non-CNAME where a CNAME is.
	if _, err := changeBatch(t, c, id, rrChange(types.ChangeActionCreate, "www.local.", types.RRTypeCname, 300, "acme.local.")); err != nil {
		t.Fatal(err)
	}
	_, err = changeBatch(t, c, id, rrChange(types.ChangeActionCreate, "www.local.", types.RRTypeTxt, 300, `"hello"`))
	wantBatchError(t, err, "RRSet of type TXT with DNS name www.local. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone local.")
}

// A space or a tab in a record name is refused as invalid input, before the batch is looked at;
// escaped (\040) it is a name like any other.
func TestRecordNameUnsupportedCharacter(t *testing.T) {
	_, c := start(t, Options{IDs: wire.IDs{Seed: "names"}})
	id := aws.ToString(createTestZone(t, c, "local.", "names").HostedZone.Id)
	for name, char := range map[string]string{"my host.local.": " ", "tab\there.local.": "\t"} {
		_, err := changeBatch(t, c, id, upsertA(name, "10.0.0.1"), upsertA("fine.local.", "10.0.0.2"))
		api := emutest.WantCode(t, err, "InvalidInput")
		want := "FATAL problem: UnsupportedCharacter (Value contains unsupported characters) encountered with '" + char + "'"
		if api.ErrorMessage() != want {
			t.Errorf("%q: %q, want %q", name, api.ErrorMessage(), want)
		}
	}
	if got := records(t, c, id); slices.ContainsFunc(got, func(r string) bool { return strings.HasPrefix(r, "fine.") }) {
		t.Errorf("a refused batch changed the zone: %q", got)
	}
	if _, err := changeBatch(t, c, id, upsertA("my\\040host.local.", "10.0.0.1")); err != nil {
		t.Errorf("an escaped space: %v", err)
	}
}

func TestChangeBatchIsAllOrNothing(t *testing.T) {
	_, c := start(t, Options{})
	id := aws.ToString(createTestZone(t, c, "local.", "ref").HostedZone.Id)
	if _, err := changeBatch(t, c, id, upsertA("old.local.", "10.0.0.1")); err != nil {
		t.Fatal(err)
	}
	before := records(t, c, id)
	// A good change, then a bad one: nothing is applied. The DELETE fails, so the CREATE after it
	// finds the record set still there: both are reported, as AWS does.
	_, err := changeBatch(t, c, id,
		upsertA("new.local.", "10.0.0.2"),
		rrChange(types.ChangeActionDelete, "old.local.", types.RRTypeA, 60, "10.0.0.1"),
		rrChange(types.ChangeActionCreate, "old.local.", types.RRTypeA, 60, "10.0.0.9"),
	)
	wantBatchError(t, err,
		"Tried to delete resource record set [name='old.local.', type='A'] but the values provided do not match the current values",
		"Tried to create resource record set [name='old.local.', type='A'] but it already exists")
	if after := records(t, c, id); !slices.Equal(before, after) {
		t.Fatalf("a rejected batch changed the zone\nbefore %q\n after %q", before, after)
	}
	// DELETE then CREATE of the same record set replaces it; an A can become a CNAME in one batch.
	_, err = changeBatch(t, c, id,
		rrChange(types.ChangeActionDelete, "old.local.", types.RRTypeA, 300, "10.0.0.1"),
		rrChange(types.ChangeActionCreate, "old.local.", types.RRTypeCname, 60, "new.local."),
		upsertA("new.local.", "10.0.0.2"),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"local. NS", "local. SOA", "new.local. A 300 10.0.0.2", "old.local. CNAME 60 new.local."}
	got := records(t, c, id)
	for i := range got {
		if i < 2 {
			got[i] = strings.Join(strings.Fields(got[i])[:2], " ")
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("records\n got %q\nwant %q", got, want)
	}
	// A DELETE matching exactly (values in another order) empties the zone again.
	if _, err := changeBatch(t, c, id,
		rrChange(types.ChangeActionDelete, "old.local.", types.RRTypeCname, 60, "new.local."),
		rrChange(types.ChangeActionDelete, "new.local.", types.RRTypeA, 300, "10.0.0.2"),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)}); err != nil {
		t.Fatalf("delete emptied zone: %v", err)
	}
}

func TestChangeValidationInvalidInput(t *testing.T) {
	_, c := start(t, Options{})
	id := aws.ToString(createTestZone(t, c, "local.", "ref").HostedZone.Id)
	noTTL := types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
		Name: aws.String("acme.local"), Type: types.RRTypeA,
		ResourceRecords: []types.ResourceRecord{{Value: aws.String("10.0.0.1")}},
	}}
	_, err := changeBatch(t, c, id, noTTL)
	var in *types.InvalidInput
	if !errors.As(err, &in) || emutest.Status(err) != 400 {
		t.Fatalf("no TTL: %v", err)
	}
	if want := "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=CREATE, Name=acme.local, Type=A, SetIdentifier=null]"; in.ErrorMessage() != want {
		t.Errorf("message\n got %s\nwant %s", in.ErrorMessage(), want)
	}
	both := upsertA("acme.local.", "10.0.0.1")
	both.ResourceRecordSet.AliasTarget = &types.AliasTarget{DNSName: aws.String("x.local."), HostedZoneId: aws.String(id), EvaluateTargetHealth: false}
	_, err = changeBatch(t, c, id, both)
	if !errors.As(err, &in) || !strings.Contains(in.ErrorMessage(), "but found more than one") {
		t.Errorf("TTL and alias: %v", err)
	}
	_, err = changeBatch(t, c, "ZNOSUCHZONE", upsertA("acme.local.", "10.0.0.1"))
	var nsz *types.NoSuchHostedZone
	if !errors.As(err, &nsz) {
		t.Errorf("unknown zone: %v", err)
	}
}

func TestAliasAndWeightedRecordSets(t *testing.T) {
	_, c := start(t, Options{})
	id := aws.ToString(createTestZone(t, c, "example.com.", "ref").HostedZone.Id)
	alias := types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
		Name: aws.String("example.com."), Type: types.RRTypeA,
		AliasTarget: &types.AliasTarget{DNSName: aws.String("My-LB-1.us-east-1.elb.amazonaws.com"), HostedZoneId: aws.String("Z35SXDOTRQ7X7K"), EvaluateTargetHealth: true},
	}}
	weighted := func(id string, w int64, ip string) types.Change {
		ch := upsertA("www.example.com.", ip)
		ch.ResourceRecordSet.SetIdentifier, ch.ResourceRecordSet.Weight = aws.String(id), aws.Int64(w)
		return ch
	}
	if _, err := changeBatch(t, c, id, alias, weighted("blue", 10, "10.0.0.1"), weighted("green", 90, "10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	sets := out.ResourceRecordSets
	if len(sets) != 5 {
		t.Fatalf("%d record sets", len(sets))
	}
	a := sets[0]
	if a.Type != types.RRTypeA || a.AliasTarget == nil || aws.ToString(a.AliasTarget.DNSName) != "my-lb-1.us-east-1.elb.amazonaws.com." || a.TTL != nil {
		t.Errorf("alias record %+v", a)
	}
	if aws.ToString(sets[3].SetIdentifier) != "blue" || aws.ToInt64(sets[4].Weight) != 90 {
		t.Errorf("weighted records %+v %+v", sets[3], sets[4])
	}
	_, err = changeBatch(t, c, id, weighted("blue", 10, "10.0.0.1"), types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: weighted("blue", 5, "10.0.0.3").ResourceRecordSet})
	wantBatchError(t, err, "The request contains an invalid set of changes for a resource record set 'A www.example.com.'")
	_, err = changeBatch(t, c, id, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: weighted("blue", 5, "10.0.0.3").ResourceRecordSet})
	wantBatchError(t, err, "Tried to create resource record set [name='www.example.com.', type='A', set-identifier='blue'] but it already exists")
}

func TestListResourceRecordSetsOrderAndPagination(t *testing.T) {
	_, c := start(t, Options{})
	id := aws.ToString(createTestZone(t, c, "example.com", "ref").HostedZone.Id)
	if _, err := changeBatch(t, c, id,
		upsertA("www.example.com", "10.0.0.1"),
		upsertA("*.example.com", "10.0.0.2"),
		upsertA("a.b.example.com", "10.0.0.3"),
		upsertA("b.example.com", "10.0.0.4"),
		upsertA("example.com", "10.0.0.5"),
		rrChange(types.ChangeActionCreate, "example.com", types.RRTypeMx, 300, "10 mail.example.com."),
		rrChange(types.ChangeActionCreate, "example.com", types.RRTypeTxt, 300, `"v=spf1 -all"`),
		upsertA("x-y.example.com", "10.0.0.6"),
	); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range records(t, c, id) {
		f := strings.Fields(r)
		names = append(names, f[0]+" "+f[1])
	}
	// By reversed labels (com.example., com.example.\052., com.example.b., com.example.b.a., ...),
	// then type.
	want := []string{
		"example.com. A", "example.com. MX", "example.com. NS", "example.com. SOA", "example.com. TXT",
		`\052.example.com. A`, "b.example.com. A", "a.b.example.com. A", "www.example.com. A", "x-y.example.com. A",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("order\n got %q\nwant %q", names, want)
	}

	// Pages of three, by hand: each page resumes at the Next* of the one before.
	var paged []string
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), MaxItems: aws.Int32(3)}
	for pages := 0; ; pages++ {
		out, err := c.ListResourceRecordSets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt32(out.MaxItems) != 3 {
			t.Errorf("MaxItems %d", aws.ToInt32(out.MaxItems))
		}
		for _, s := range out.ResourceRecordSets {
			paged = append(paged, aws.ToString(s.Name)+" "+string(s.Type))
		}
		if !out.IsTruncated {
			if out.NextRecordName != nil {
				t.Errorf("NextRecordName on the last page")
			}
			break
		}
		if pages == 0 && (aws.ToString(out.NextRecordName) != "example.com." || out.NextRecordType != types.RRTypeSoa) {
			t.Errorf("first page ends before %s %s", aws.ToString(out.NextRecordName), out.NextRecordType)
		}
		in.StartRecordName, in.StartRecordType = out.NextRecordName, out.NextRecordType
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged\n got %q\nwant %q", paged, want)
	}

	// A start name that does not exist starts at the next name.
	out, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordName: aws.String("c.example.com"), MaxItems: aws.Int32(1)})
	if err != nil || aws.ToString(out.ResourceRecordSets[0].Name) != "www.example.com." {
		t.Errorf("start at c.example.com: %v %v", out, err)
	}
	// A type without a name is InvalidInput.
	_, err = c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordType: types.RRTypeA})
	var ii *types.InvalidInput
	if !errors.As(err, &ii) {
		t.Errorf("type without name: %v", err)
	}
	_, err = c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOPE")})
	var nsz *types.NoSuchHostedZone
	if !errors.As(err, &nsz) {
		t.Errorf("unknown zone: %v", err)
	}
}

func TestListHostedZonesPagination(t *testing.T) {
	_, c := start(t, Options{IDs: wire.IDs{Seed: "pages"}})
	names := []string{"b.example.com.", "example.com.", "a.example.org.", "example.net.", "www.example.com."}
	for i, n := range names {
		createTestZone(t, c, n, fmt.Sprint("ref-", i))
	}
	var ids []string
	in := &route53.ListHostedZonesInput{MaxItems: aws.Int32(2)}
	for {
		out, err := c.ListHostedZones(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range out.HostedZones {
			ids = append(ids, aws.ToString(z.Id))
		}
		if !out.IsTruncated {
			break
		}
		if len(out.HostedZones) != 2 || out.NextMarker == nil {
			t.Fatalf("truncated page %+v", out)
		}
		in.Marker = out.NextMarker
	}
	if len(ids) != len(names) || !slices.IsSorted(ids) {
		t.Errorf("zones by ListHostedZones %q", ids)
	}

	// ListHostedZonesByName: reversed labels, in pages of two.
	want := []string{"example.com.", "b.example.com.", "www.example.com.", "example.net.", "a.example.org."}
	var got []string
	byName := &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(2)}
	for {
		out, err := c.ListHostedZonesByName(ctx, byName)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range out.HostedZones {
			got = append(got, aws.ToString(z.Name))
		}
		if !out.IsTruncated {
			break
		}
		byName.DNSName, byName.HostedZoneId = out.NextDNSName, out.NextHostedZoneId
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListHostedZonesByName\n got %q\nwant %q", got, want)
	}
	out, err := c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("example.net")})
	if err != nil || len(out.HostedZones) != 2 || aws.ToString(out.HostedZones[0].Name) != "example.net." || aws.ToString(out.DNSName) != "example.net" {
		t.Errorf("from example.net: %+v %v", out, err)
	}
	_, err = c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{HostedZoneId: aws.String("Z1")})
	var ii *types.InvalidInput
	if !errors.As(err, &ii) {
		t.Errorf("hostedzoneid without dnsname: %v", err)
	}
}

func TestDeleteNonEmptyZone(t *testing.T) {
	_, c := start(t, Options{})
	id := aws.ToString(createTestZone(t, c, "example.com.", "ref").HostedZone.Id)
	// A delegation to a subdomain is an NS record set, but not a required one.
	if _, err := changeBatch(t, c, id, rrChange(types.ChangeActionCreate, "sub.example.com.", types.RRTypeNs, 300, "ns1.other.net.")); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	var notEmpty *types.HostedZoneNotEmpty
	if !errors.As(err, &notEmpty) || emutest.Status(err) != 400 {
		t.Fatalf("delete non-empty zone: %v", err)
	}
	if notEmpty.ErrorMessage() != "The specified hosted zone contains non-required resource record sets and so cannot be deleted." {
		t.Errorf("message %q", notEmpty.ErrorMessage())
	}
}

func TestPrefixedIDsOnTheWire(t *testing.T) {
	svc, c := start(t, Options{})
	id := aws.ToString(createTestZone(t, c, "example.com.", "ref").HostedZone.Id)
	srv := httptest.NewServer(svc)
	defer srv.Close()
	// A client that does not strip the prefix sends it escaped.
	resp, err := http.Get(srv.URL + "/2013-04-01/hostedzone/" + strings.ReplaceAll(id, "/", "%2F"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<Id>"+id+"</Id>") {
		t.Errorf("GET with a prefixed id: %d %s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(string(body), `<?xml version="1.0"?>`+"\n"+`<GetHostedZoneResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">`) {
		t.Errorf("answer starts %.120s", body)
	}
	resp, err = http.Get(srv.URL + "/2013-04-01/healthcheck")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 501 || !strings.Contains(string(body), "<Code>NotImplemented</Code>") || !strings.Contains(string(body), "does not implement GET /2013-04-01/healthcheck") {
		t.Errorf("unknown operation: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/2013-04-01/hostedzone", strings.NewReader("<CreateHostedZoneRequest><Name>x"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>InvalidInput</Code>") {
		t.Errorf("malformed XML: %d %s", resp.StatusCode, body)
	}
}

func TestStateSurvivesReopening(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, IDs: wire.IDs{Seed: "persist"}}
	svc, c := start(t, opts)
	first := createTestZone(t, c, "local.", "ref")
	id := aws.ToString(first.HostedZone.Id)
	if _, err := changeBatch(t, c, id, upsertA("acme.local.", "10.0.1.23")); err != nil {
		t.Fatal(err)
	}
	svc.Close()

	_, c2 := start(t, opts)
	if got := records(t, c2, id); !slices.Contains(got, "acme.local. A 300 10.0.1.23") {
		t.Errorf("records after reopening %q", got)
	}
	// The sequence continues: the next zone is not the first one again, and the CallerReference
	// is still taken.
	second := createTestZone(t, c2, "other.", "ref-2")
	if aws.ToString(second.HostedZone.Id) == id {
		t.Errorf("reopened state reused zone id %s", id)
	}
	_, err := c2.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("x."), CallerReference: aws.String("ref")})
	emutest.WantCode(t, err, "HostedZoneAlreadyExists") // the CallerReference, after reopening
}

func TestSeededIDsAreReproducible(t *testing.T) {
	ids := func() []string {
		_, c := start(t, Options{IDs: wire.IDs{Seed: "same"}})
		z := createTestZone(t, c, "example.com.", "ref")
		return append([]string{aws.ToString(z.HostedZone.Id), aws.ToString(z.ChangeInfo.Id)}, z.DelegationSet.NameServers...)
	}
	if a, b := ids(), ids(); !slices.Equal(a, b) {
		t.Errorf("same seed, different ids: %q %q", a, b)
	}
}

func TestChangeDelay(t *testing.T) {
	clock := &fixedClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	_, c := start(t, Options{Clock: clock.now, ChangeDelay: time.Minute})
	z := createTestZone(t, c, "example.com.", "ref")
	if got := aws.ToTime(z.ChangeInfo.SubmittedAt); !got.Equal(clock.t) {
		t.Errorf("SubmittedAt %v, want %v", got, clock.t)
	}
	status := func() types.ChangeStatus {
		out, err := c.GetChange(ctx, &route53.GetChangeInput{Id: z.ChangeInfo.Id})
		if err != nil {
			t.Fatal(err)
		}
		return out.ChangeInfo.Status
	}
	if s := status(); s != types.ChangeStatusPending {
		t.Errorf("status right away %s", s)
	}
	clock.t = clock.t.Add(time.Minute)
	if s := status(); s != types.ChangeStatusInsync {
		t.Errorf("status after the delay %s", s)
	}
}

// TestChangesRemembered: GetChange finds every change of the last hour, however many came after
// (a fleet's boots wait behind a thousand); past the hour only the last 100 are kept.
func TestChangesRemembered(t *testing.T) {
	clock := &fixedClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	_, c := start(t, Options{Clock: clock.now})
	first := createTestZone(t, c, "example.com.", "ref").ChangeInfo.Id
	zone := createTestZone(t, c, "example.org.", "ref-2").HostedZone.Id
	for i := range 150 {
		_, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone,
			ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionUpsert, ResourceRecordSet: &types.ResourceRecordSet{
				Name: aws.String(fmt.Sprintf("h%d.example.org.", i)), Type: types.RRTypeA, TTL: aws.Int64(60),
				ResourceRecords: []types.ResourceRecord{{Value: aws.String("10.0.0.1")}}}}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetChange(ctx, &route53.GetChangeInput{Id: first}); err != nil {
		t.Errorf("the first of 152 changes, within the hour: %v", err)
	}
	clock.t = clock.t.Add(changeMemory + time.Minute)
	createTestZone(t, c, "example.net.", "ref-3")
	_, err := c.GetChange(ctx, &route53.GetChangeInput{Id: first})
	var nsc *types.NoSuchChange
	if !errors.As(err, &nsc) {
		t.Errorf("the first of 153 changes, past the hour: %v, want NoSuchChange", err)
	}
}

func TestWriteFault(t *testing.T) {
	svc, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	var fault wire.Fault
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc.WriteFault(w, r, fault)
	}))
	defer srv.Close()
	c := client(srv.URL)

	fault = wire.Throttle
	_, err = c.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if emutest.WantCode(t, err, "Throttling"); emutest.Status(err) != 400 {
		t.Errorf("throttle: %v", err)
	}
	if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		t.Errorf("the SDK's retryer does not see %v as throttling", err)
	}
	fault = wire.ServerError
	_, err = c.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if emutest.WantCode(t, err, "InternalFailure"); emutest.Status(err) != 500 {
		t.Errorf("server error: %v", err)
	}
	if !retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() {
		t.Errorf("the SDK's retryer would not retry %v", err)
	}
}

// BenchmarkChangeResourceRecordSets is one UPSERT round trip through the SDK on loopback, with
// the state in memory.
func BenchmarkChangeResourceRecordSets(b *testing.B) {
	_, c := start(b, Options{})
	out, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("local."), CallerReference: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	in := &route53.ChangeResourceRecordSetsInput{HostedZoneId: out.HostedZone.Id, ChangeBatch: &types.ChangeBatch{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		in.ChangeBatch.Changes = []types.Change{upsertA(fmt.Sprintf("client-%d.local.", i%100), fmt.Sprintf("10.0.%d.%d", i/256%256, i%256))}
		if _, err := c.ChangeResourceRecordSets(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestListHostedZonesMarker: the model makes Marker a required member of ListHostedZones'
// answer, so it is there, empty, on the first page too.
func TestListHostedZonesMarker(t *testing.T) {
	svc, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	srv := httptest.NewServer(svc)
	defer srv.Close()
	c := client(srv.URL)
	createTestZone(t, c, "a.test.", "a")
	createTestZone(t, c, "b.test.", "b")
	for _, query := range []string{"", "?maxitems=1"} {
		res, err := http.Get(srv.URL + "/2013-04-01/hostedzone" + query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), "<Marker></Marker>") {
			t.Errorf("ListHostedZones%s has no empty Marker: %s", query, body)
		}
	}
	first, err := c.ListHostedZones(ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(1)})
	if err != nil || first.Marker == nil || aws.ToString(first.Marker) != "" || !first.IsTruncated {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	second, err := c.ListHostedZones(ctx, &route53.ListHostedZonesInput{Marker: first.NextMarker})
	if err != nil || aws.ToString(second.Marker) != aws.ToString(first.NextMarker) || len(second.HostedZones) != 1 {
		t.Errorf("second page: %+v, %v", second, err)
	}
}

// TestVPCAssociation: a private zone gains VPCs in any region after its creation and loses them
// down to the last one, with AWS's errors for each refusal.
func TestVPCAssociation(t *testing.T) {
	_, c := start(t, Options{VPCs: fakeVPCs{"vpc-1": true, "vpc-2": true, "eu-west-1/vpc-9": true}})
	private, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("local."), CallerReference: aws.String("assoc-1"),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionApNortheast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	zone := private.HostedZone.Id
	public := createTestZone(t, c, "example.com.", "assoc-public").HostedZone.Id
	vpcIn := func(id string, region types.VPCRegion) *types.VPC {
		return &types.VPC{VPCId: aws.String(id), VPCRegion: region}
	}
	associate := func(zone *string, v *types.VPC) (*route53.AssociateVPCWithHostedZoneOutput, error) {
		return c.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: zone, VPC: v, Comment: aws.String("peer")})
	}
	disassociate := func(zone *string, v *types.VPC) (*route53.DisassociateVPCFromHostedZoneOutput, error) {
		return c.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: zone, VPC: v})
	}
	vpcsOf := func() []string {
		t.Helper()
		out, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: zone})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range out.VPCs {
			got = append(got, string(v.VPCRegion)+"/"+aws.ToString(v.VPCId))
		}
		return got
	}

	// A VPC of another region joins the zone; the change is answered PENDING, with its comment.
	out, err := associate(zone, vpcIn("vpc-9", types.VPCRegionEuWest1))
	if err != nil {
		t.Fatal(err)
	}
	if out.ChangeInfo.Status != types.ChangeStatusPending || aws.ToString(out.ChangeInfo.Comment) != "peer" || !strings.HasPrefix(aws.ToString(out.ChangeInfo.Id), "/change/C") {
		t.Errorf("ChangeInfo %+v", out.ChangeInfo)
	}
	if got, want := vpcsOf(), []string{"ap-northeast-1/vpc-1", "eu-west-1/vpc-9"}; !slices.Equal(got, want) {
		t.Errorf("VPCs %v, want %v", got, want)
	}

	for _, tc := range []struct {
		what    string
		err     error
		code    string
		status  int
		message string
	}{
		{"an unknown zone", second(associate(aws.String("ZNOPE"), vpcIn("vpc-2", types.VPCRegionApNortheast1))), "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE"},
		{"a public zone", second(associate(public, vpcIn("vpc-2", types.VPCRegionApNortheast1))), "PublicZoneVPCAssociation", 400,
			"Attempting to associate public zone: " + stripPrefix(aws.ToString(public)) + " with vpc: vpc-2"},
		{"a VPC said to be in a region it is not in", second(associate(zone, vpcIn("vpc-9", types.VPCRegionUsEast1))), "InvalidVPCId", 400,
			"The VPC vpc-9 in region us-east-1 that you provided is not authorized to make the association."},
		{"a VPC already associated", second(associate(zone, vpcIn("vpc-1", types.VPCRegionApNortheast1))), "ConflictingDomainExists", 400,
			"The VPC vpc-1 in region ap-northeast-1 has already been associated with the hosted zone " + stripPrefix(aws.ToString(zone)) + " with the same domain name."},
		{"a VPC not associated", second(disassociate(zone, vpcIn("vpc-2", types.VPCRegionApNortheast1))), "VPCAssociationNotFound", 404,
			"The specified VPC and hosted zone are not currently associated."},
		{"a public zone has no VPC to disassociate", second(disassociate(public, vpcIn("vpc-1", types.VPCRegionApNortheast1))), "VPCAssociationNotFound", 404,
			"The specified VPC and hosted zone are not currently associated."},
	} {
		if api := emutest.WantCode(t, tc.err, tc.code); api.ErrorMessage() != tc.message || emutest.Status(tc.err) != tc.status {
			t.Errorf("%s: %d %q, want %d %q", tc.what, emutest.Status(tc.err), api.ErrorMessage(), tc.status, tc.message)
		}
	}

	// Another zone of the same name cannot take a VPC this one has.
	other, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("local."), CallerReference: aws.String("assoc-2"), VPC: vpcIn("vpc-2", types.VPCRegionApNortheast1),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = associate(other.HostedZone.Id, vpcIn("vpc-9", types.VPCRegionEuWest1))
	emutest.WantCode(t, err, "ConflictingDomainExists")

	// Down to the last VPC, which stays.
	if _, err := disassociate(zone, vpcIn("vpc-1", types.VPCRegionApNortheast1)); err != nil {
		t.Fatal(err)
	}
	_, err = disassociate(zone, vpcIn("vpc-9", types.VPCRegionEuWest1))
	if api := emutest.WantCode(t, err, "LastVPCAssociation"); !strings.Contains(api.ErrorMessage(), "doesn't support disassociating the last VPC") {
		t.Errorf("LastVPCAssociation: %q", api.ErrorMessage())
	}
	if got, want := vpcsOf(), []string{"eu-west-1/vpc-9"}; !slices.Equal(got, want) {
		t.Errorf("VPCs %v, want %v", got, want)
	}
	// The freed VPC can join the other zone of that name now.
	if _, err := associate(other.HostedZone.Id, vpcIn("vpc-1", types.VPCRegionApNortheast1)); err != nil {
		t.Errorf("a VPC freed from a zone joining another of its name: %v", err)
	}
}

// second is the error of a call's two results.
func second[T any](_ T, err error) error { return err }
