package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/flow-infra/flow/emulator"
	r53emu "github.com/flow-infra/flow/emulator/route53"
	"github.com/flow-infra/flow/engine"
)

// r53Test is an emulated Route 53 alone (any VPC id is accepted, so tests can make private zones
// of several VPCs), a context whose AWS steps reach it, an SDK client, and the steps' calls.
type r53Test struct {
	ctx   context.Context
	r53   *route53.Client
	calls *calls
}

func newR53Test(t *testing.T, opts r53emu.Options) *r53Test {
	t.Helper()
	svc, err := r53emu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
	})
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	a := &AWS{Load: func(context.Context) (aws.Config, error) { return cfg, nil }}
	c := instrument(a)
	// Wait briefly between GetChange polls: the emulator's clock, not the wall clock, decides.
	ctx := withChangeWait(WithAWS(context.Background(), a), changeWait{min: time.Millisecond, max: 2 * time.Millisecond, limit: 10 * time.Second})
	return &r53Test{ctx: ctx, r53: route53.NewFromConfig(cfg), calls: c}
}

func (rt *r53Test) zone(t *testing.T, args map[string]any) map[string]any {
	t.Helper()
	out, err := runStepT(t, rt.ctx, "route53.zone", args)
	if err != nil {
		t.Fatalf("route53.zone %v: %v", args, err)
	}
	return out
}

func (rt *r53Test) upsert(t *testing.T, args map[string]any) map[string]any {
	t.Helper()
	out, err := runStepT(t, rt.ctx, "route53.upsert", args)
	if err != nil {
		t.Fatalf("route53.upsert %v: %v", args, err)
	}
	return out
}

// records returns the values and TTL of the record set name/typ in zone, as Route 53 lists it.
func (rt *r53Test) records(t *testing.T, zoneID, name string, typ r53types.RRType) ([]string, int64) {
	t.Helper()
	out, err := rt.r53.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range out.ResourceRecordSets {
		if aws.ToString(rs.Name) == name && rs.Type == typ {
			var vs []string
			for _, r := range rs.ResourceRecords {
				vs = append(vs, aws.ToString(r.Value))
			}
			return vs, aws.ToInt64(rs.TTL)
		}
	}
	return nil, 0
}

func TestRoute53ZoneCreatedThenFound(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{})
	priv := rt.zone(t, map[string]any{"name": "local", "vpc": "vpc-a", "comment": "clients"})
	if priv["created"] != true || priv["private"] != true || !strings.HasPrefix(priv["zone_id"].(string), "Z") {
		t.Fatalf("first private zone: %v", priv)
	}
	again := rt.zone(t, map[string]any{"name": "local.", "vpc": "vpc-a", "private": true})
	if again["created"] != false || again["zone_id"] != priv["zone_id"] {
		t.Errorf("again: %v, want created=false and %v", again, priv["zone_id"])
	}
	// A public zone of the same name, and a private one on another VPC, are other zones.
	pub := rt.zone(t, map[string]any{"name": "local."})
	if pub["created"] != true || pub["private"] != false || pub["zone_id"] == priv["zone_id"] {
		t.Errorf("public zone: %v", pub)
	}
	other := rt.zone(t, map[string]any{"name": "local.", "vpc": "vpc-b"})
	if other["created"] != true || other["zone_id"] == priv["zone_id"] {
		t.Errorf("zone on vpc-b: %v", other)
	}
	// The same VPC id in another region is another association.
	elsewhere := rt.zone(t, map[string]any{"name": "local.", "vpc": "vpc-a", "vpc_region": "us-west-2"})
	if elsewhere["created"] != true {
		t.Errorf("zone on vpc-a in us-west-2: %v", elsewhere)
	}
	for _, tc := range []struct {
		args map[string]any
		want any
	}{
		{map[string]any{"name": "LOCAL."}, pub["zone_id"]},
		{map[string]any{"name": "local", "vpc": "vpc-b"}, other["zone_id"]},
		{map[string]any{"name": "local", "vpc": "vpc-a", "vpc_region": "eu-west-1"}, priv["zone_id"]},
	} {
		if out := rt.zone(t, tc.args); out["created"] != false || out["zone_id"] != tc.want {
			t.Errorf("%v: %v, want the existing %v", tc.args, out, tc.want)
		}
	}
	got, err := rt.r53.GetHostedZone(context.Background(), &route53.GetHostedZoneInput{Id: aws.String(priv["zone_id"].(string))})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.HostedZone.Config; c == nil || aws.ToString(c.Comment) != "clients" || !c.PrivateZone {
		t.Errorf("config %+v", c)
	}
	if len(got.VPCs) != 1 || aws.ToString(got.VPCs[0].VPCId) != "vpc-a" || got.VPCs[0].VPCRegion != "eu-west-1" {
		t.Errorf("VPCs %+v, want vpc-a in eu-west-1 (the configuration's region)", got.VPCs)
	}
}

// TestRoute53ZoneCallerReference: a zone deleted can be created again (its CallerReference stays
// used forever), and two flows racing to create a public zone make one zone, not two.
func TestRoute53ZoneCallerReference(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{})
	first := rt.zone(t, map[string]any{"name": "example.com"})
	if _, err := rt.r53.DeleteHostedZone(context.Background(), &route53.DeleteHostedZoneInput{Id: aws.String(first["zone_id"].(string))}); err != nil {
		t.Fatal(err)
	}
	second := rt.zone(t, map[string]any{"name": "example.com"})
	if second["created"] != true || second["zone_id"] == first["zone_id"] {
		t.Fatalf("after deleting the zone: %v", second)
	}
	z, err := rt.r53.GetHostedZone(context.Background(), &route53.GetHostedZoneInput{Id: aws.String(second["zone_id"].(string))})
	if err != nil {
		t.Fatal(err)
	}
	ref := aws.ToString(z.HostedZone.CallerReference)
	// flow/HASH/DATE/2: the first reference of the day belongs to the deleted zone.
	base := zoneReferenceBase("example.com.", false, "", "", time.Now())
	if hash := base[:strings.LastIndexByte(base, '/')+1]; !strings.HasPrefix(ref, hash) || !strings.HasSuffix(ref, "/2") {
		t.Errorf("CallerReference %q, want %sDATE/2", ref, hash)
	}

	for round := 0; round < 5; round++ {
		name := []string{"a.race.", "b.race.", "c.race.", "d.race.", "e.race."}[round]
		var wg sync.WaitGroup
		outs := make([]map[string]any, 4)
		errs := make([]error, 4)
		for i := range outs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i], errs[i] = runStepT(t, rt.ctx, "route53.zone", map[string]any{"name": name})
			}()
		}
		wg.Wait()
		created := 0
		for i, out := range outs {
			if errs[i] != nil {
				t.Fatalf("racer %d: %v", i, errs[i])
			}
			if out["created"] == true {
				created++
			}
			if out["zone_id"] != outs[0]["zone_id"] {
				t.Errorf("%s: racers got zones %v and %v", name, outs[0]["zone_id"], out["zone_id"])
			}
		}
		listed, err := rt.r53.ListHostedZonesByName(context.Background(), &route53.ListHostedZonesByNameInput{DNSName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, z := range listed.HostedZones {
			if aws.ToString(z.Name) == name {
				n++
			}
		}
		if created != 1 || n != 1 {
			t.Errorf("%s: %d racers created, %d zones exist; want 1 and 1", name, created, n)
		}
	}
}

func TestRoute53ZoneValidation(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{})
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "local.", "private": true}, "route53.zone: vpc: a private zone needs one"},
		{map[string]any{"name": "local.", "private": false, "vpc": "vpc-a"}, "vpc: vpc-a is set, but private is false"},
		{map[string]any{"name": "local.", "vpc_region": "us-east-1"}, "vpc_region: only for a private zone's vpc"},
		{map[string]any{"name": "local.", "private": "yes"}, "private: expected bool, got string"},
		{map[string]any{"name": "."}, "name: must name a domain"},
	} {
		_, err := runStepT(t, rt.ctx, "route53.zone", tc.args)
		wantError(t, err, tc.want)
	}
	if len(rt.calls.n) != 0 {
		t.Errorf("calls for invalid arguments: %v", rt.calls.n)
	}
}

func TestRoute53UpsertChangesOnlyWhenNeeded(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{})
	zone := rt.zone(t, map[string]any{"name": "local.", "vpc": "vpc-a"})["zone_id"].(string)
	out := rt.upsert(t, map[string]any{"zone": "local.", "name": "acme", "values": []any{"10.0.0.5"}})
	if out["changed"] != true || out["fqdn"] != "acme.local." || out["zone_id"] != zone || !strings.HasPrefix(out["change_id"].(string), "C") {
		t.Fatalf("new record: %v", out)
	}
	if vs, ttl := rt.records(t, zone, "acme.local.", r53types.RRTypeA); !reflect.DeepEqual(vs, []string{"10.0.0.5"}) || ttl != 300 {
		t.Errorf("stored %v TTL %d", vs, ttl)
	}
	if n := rt.calls.count("GetChange"); n < 1 {
		t.Errorf("wait (the default) made no GetChange call")
	}

	// The same values, however the name is written: no change call.
	for _, name := range []string{"acme", "ACME", "acme.local", "acme.local."} {
		out = rt.upsert(t, map[string]any{"zone": "local", "name": name, "type": "A", "ttl": 300, "values": []any{"10.0.0.5"}})
		if out["changed"] != false || out["change_id"] != "" || out["fqdn"] != "acme.local." {
			t.Errorf("%s, unchanged: %v", name, out)
		}
	}
	if n := rt.calls.count("ChangeResourceRecordSets"); n != 1 {
		t.Errorf("%d ChangeResourceRecordSets calls, want 1: unchanged values must not be written", n)
	}

	// A new address, a new TTL, a second value: each is a change.
	for i, tc := range []struct {
		ttl    int
		values []any
	}{
		{300, []any{"10.0.0.6"}},
		{60, []any{"10.0.0.6"}},
		{60, []any{"10.0.0.6", "10.0.0.7"}},
	} {
		out = rt.upsert(t, map[string]any{"zone": "local.", "name": "acme", "ttl": tc.ttl, "values": tc.values, "wait": false})
		if out["changed"] != true {
			t.Errorf("change %d: %v", i, out)
		}
	}
	if n := rt.calls.count("ChangeResourceRecordSets"); n != 4 {
		t.Errorf("%d ChangeResourceRecordSets calls, want 4", n)
	}
	vs, ttl := rt.records(t, zone, "acme.local.", r53types.RRTypeA)
	sort.Strings(vs)
	if !reflect.DeepEqual(vs, []string{"10.0.0.6", "10.0.0.7"}) || ttl != 60 {
		t.Errorf("stored %v TTL %d", vs, ttl)
	}
	// Values in another order are the same record set.
	out = rt.upsert(t, map[string]any{"zone": "local.", "name": "acme", "ttl": 60, "values": []any{"10.0.0.7", "10.0.0.6"}})
	if out["changed"] != false {
		t.Errorf("same values in another order: %v", out)
	}
	// A record next to it in the listing (acme2 after acme) is not mistaken for it.
	out = rt.upsert(t, map[string]any{"zone": "local.", "name": "acme2", "values": []any{"10.0.0.6"}})
	if out["changed"] != true {
		t.Errorf("acme2: %v", out)
	}
	out = rt.upsert(t, map[string]any{"zone": "local.", "name": "@", "type": "AAAA", "values": []any{"2001:DB8::1"}})
	if out["changed"] != true || out["fqdn"] != "local." {
		t.Errorf("apex AAAA: %v", out)
	}
	if out = rt.upsert(t, map[string]any{"zone": "local.", "name": "local.", "type": "AAAA", "values": []any{"2001:db8:0::1"}}); out["changed"] != false {
		t.Errorf("the same AAAA written otherwise: %v", out)
	}
}

// TestRoute53UpsertUnread: read false sends the UPSERT without listing the record first, and so
// makes a change even when the record already holds the values.
func TestRoute53UpsertUnread(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{})
	zone := rt.zone(t, map[string]any{"name": "local.", "vpc": "vpc-a"})["zone_id"].(string)
	args := map[string]any{"zone": "local.", "zone_id": zone, "name": "acme", "values": []any{"10.0.0.5"}, "read": false, "wait": false}
	for i := range 2 {
		out := rt.upsert(t, args)
		if out["changed"] != true || out["fqdn"] != "acme.local." {
			t.Errorf("unread upsert %d: %v", i, out)
		}
	}
	if n, m := rt.calls.count("ListResourceRecordSets"), rt.calls.count("ChangeResourceRecordSets"); n != 0 || m != 2 {
		t.Errorf("%d ListResourceRecordSets and %d ChangeResourceRecordSets calls, want 0 and 2", n, m)
	}
	if vs, _ := rt.records(t, zone, "acme.local.", r53types.RRTypeA); !reflect.DeepEqual(vs, []string{"10.0.0.5"}) {
		t.Errorf("stored %v", vs)
	}
	args["read"] = true
	if out := rt.upsert(t, args); out["changed"] != false {
		t.Errorf("read after the unread upserts: %v, want unchanged", out)
	}
}

func TestRoute53UpsertChoosesTheZone(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{})
	a := rt.zone(t, map[string]any{"name": "local.", "vpc": "vpc-a"})["zone_id"].(string)
	b := rt.zone(t, map[string]any{"name": "local.", "vpc": "vpc-b"})["zone_id"].(string)
	pub := rt.zone(t, map[string]any{"name": "local."})["zone_id"].(string)
	args := func(extra map[string]any) map[string]any {
		m := map[string]any{"zone": "local.", "name": "acme", "values": []any{"10.0.0.5"}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// describe lists zones as the errors do, in ListHostedZonesByName's order (by id).
	describe := func(ids ...string) string {
		kinds := map[string]string{a: " (private: vpc-a eu-west-1)", b: " (private: vpc-b eu-west-1)", pub: " (public)"}
		sort.Strings(ids)
		var parts []string
		for _, id := range ids {
			parts = append(parts, id+kinds[id])
		}
		return strings.Join(parts, ", ")
	}

	_, err := runStepT(t, rt.ctx, "route53.upsert", args(nil))
	wantError(t, err, "route53.upsert: 3 zones named local.: "+describe(a, b, pub)+"; set vpc, private or zone_id to choose one")
	_, err = runStepT(t, rt.ctx, "route53.upsert", args(map[string]any{"private": true}))
	wantError(t, err, "route53.upsert: 2 private zones named local.: "+describe(a, b)+"; set vpc, private or zone_id to choose one")
	_, err = runStepT(t, rt.ctx, "route53.upsert", args(map[string]any{"vpc": "vpc-c"}))
	wantError(t, err, "route53.upsert: no private zone named local. associated with vpc-c; the zones of that name are "+describe(a, b, pub))
	_, err = runStepT(t, rt.ctx, "route53.upsert", args(map[string]any{"zone": "nowhere."}))
	wantError(t, err, "route53.upsert: no zone named nowhere.")
	if strings.Contains(err.Error(), "the zones of that name") {
		t.Errorf("%v: lists zones when there are none", err)
	}
	_, err = runStepT(t, rt.ctx, "route53.upsert", args(map[string]any{"zone": "", "zone_id": "ZNOSUCHZONE"}))
	wantError(t, err, "route53.upsert: GetHostedZone ZNOSUCHZONE: NoSuchHostedZone: ")

	for i, tc := range []struct {
		extra map[string]any
		zone  string
	}{
		{map[string]any{"vpc": "vpc-b"}, b},
		{map[string]any{"vpc": "vpc-a", "private": true}, a},
		{map[string]any{"private": false}, pub},
		{map[string]any{"zone": "", "zone_id": "/hostedzone/" + a}, a},
	} {
		ip := fmt.Sprintf("10.0.1.%d", i)
		tc.extra["values"] = []any{ip}
		out := rt.upsert(t, args(tc.extra))
		if out["zone_id"] != tc.zone || out["changed"] != true {
			t.Errorf("%v: %v, want a change in %s", tc.extra, out, tc.zone)
		}
		if vs, _ := rt.records(t, tc.zone, "acme.local.", r53types.RRTypeA); !reflect.DeepEqual(vs, []string{ip}) {
			t.Errorf("%v: zone %s holds %v", tc.extra, tc.zone, vs)
		}
	}
}

func TestRoute53UpsertValidation(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{})
	rt.zone(t, map[string]any{"name": "local."})
	calls := rt.calls.count("ListHostedZonesByName")
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "acme", "values": []any{"10.0.0.5"}}, "route53.upsert: set zone (a name such as local.) or zone_id"},
		{map[string]any{"zone_id": "Z1", "vpc": "vpc-a", "name": "acme", "values": []any{"10.0.0.5"}}, "with zone_id there is nothing to choose"},
		{map[string]any{"zone": "local.", "private": false, "vpc": "vpc-a", "name": "acme", "values": []any{"10.0.0.5"}}, "private is false, but vpc vpc-a selects a private zone"},
		{map[string]any{"zone": "local.", "name": "acme", "values": []any{}}, "values: give at least one value"},
		{map[string]any{"zone": "local.", "name": "acme", "values": []any{"10.0.0.300"}}, `values: "10.0.0.300" is not an IPv4 address, as a record of type A needs`},
		{map[string]any{"zone": "local.", "name": "acme", "values": []any{"acme.example.com"}}, `"acme.example.com" is not an IPv4 address`},
		{map[string]any{"zone": "local.", "name": "acme", "type": "AAAA", "values": []any{"10.0.0.5"}}, `"10.0.0.5" is not an IPv6 address, as a record of type AAAA needs`},
		{map[string]any{"zone": "local.", "name": "acme", "type": "AA", "values": []any{"10.0.0.5"}}, `type "AA" is not a Route 53 record type (A, AAAA, CAA, CNAME`},
		{map[string]any{"zone": "local.", "name": "acme", "type": "CNAME", "values": []any{"a.example.", "b.example."}}, "a CNAME has exactly one value, got 2"},
		{map[string]any{"zone": "local.", "name": "acme", "type": "CNAME", "values": []any{"10.0.0.5"}}, `values: "10.0.0.5": ` + cnameToIP},
		{map[string]any{"zone": "local.", "name": "acme", "ttl": -1, "values": []any{"10.0.0.5"}}, "ttl: -1 is not between 0 and 2147483647 seconds"},
	} {
		_, err := runStepT(t, rt.ctx, "route53.upsert", tc.args)
		wantError(t, err, tc.want)
	}
	if n := rt.calls.count("ListHostedZonesByName"); n != calls {
		t.Errorf("invalid arguments made %d calls", n-calls)
	}
	_, err := runStepT(t, rt.ctx, "route53.upsert", map[string]any{"zone": "local.", "name": "acme.example.com.", "values": []any{"10.0.0.5"}})
	wantError(t, err, "route53.upsert: name acme.example.com. is not in zone local. (")
	if n := rt.calls.count("ChangeResourceRecordSets"); n != 0 {
		t.Errorf("%d changes made for invalid arguments", n)
	}
	// A CNAME to a host is fine.
	out := rt.upsert(t, map[string]any{"zone": "local.", "name": "www", "type": "cname", "values": []any{"acme.local"}})
	if out["changed"] != true {
		t.Errorf("CNAME: %v", out)
	}
	if out := rt.upsert(t, map[string]any{"zone": "local.", "name": "www", "type": "CNAME", "values": []any{"ACME.local."}}); out["changed"] != false {
		t.Errorf("the same CNAME, written otherwise: %v", out)
	}
	// Route 53's own refusals come through with their code and every message of the batch.
	_, err = runStepT(t, rt.ctx, "route53.upsert", map[string]any{"zone": "local.", "name": "www", "values": []any{"10.0.0.5"}})
	wantError(t, err, "route53.upsert: ChangeResourceRecordSets UPSERT www.local. A in zone Z",
		": InvalidChangeBatch: [RRSet of type A with DNS name www.local. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone local.]")
}

func TestRoute53UpsertCNAMEToAnIPIsLinted(t *testing.T) {
	// Written wholly literally, a step that can only fail is an error before anything runs.
	_, err := engine.Load("lint.yaml", []byte(`name: lint
steps:
  - id: bad
    uses: route53.upsert
    with: {zone: local., name: acme, type: CNAME, values: [10.0.0.5]}
  - id: good
    uses: route53.upsert
    with: {zone: local., name: acme, type: A, values: [10.0.0.5]}
  - id: bad_ip
    uses: route53.upsert
    with: {zone: local., name: acme, values: [10.0.0.256]}
`), Default)
	// Each is reported at the value at fault.
	wantErr := "lint.yaml:5:60: step \"bad\": route53.upsert: values: \"10.0.0.5\": " + cnameToIP + "\n" +
		`lint.yaml:11:47: step "bad_ip": route53.upsert: values: "10.0.0.256" is not an IPv4 address, as a record of type A needs`
	if err == nil || err.Error() != wantErr {
		t.Errorf("load error:\n%v\nwant:\n%s", err, wantErr)
	}

	// With some arguments computed, the literal ones are still looked at: a warning.
	src := `name: lint
inputs:
  ip: {default: 10.0.0.9}
  zone: {default: local.}
steps:
  - id: bad
    uses: route53.upsert
    with: {zone: "${{ inputs.zone }}", name: acme, type: CNAME, values: [10.0.0.5]}
  - id: computed
    uses: route53.upsert
    with: {zone: local., name: acme, type: CNAME, values: ["${{ inputs.ip }}"]}
  - id: bad_ip
    uses: route53.upsert
    with: {zone: "${{ inputs.zone }}", name: acme, values: [10.0.0.256]}
`
	wf, err := engine.Load("lint.yaml", []byte(src), Default)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range wf.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		"lint.yaml:8:73: " + cnameToIP,
		`lint.yaml:14:60: values: "10.0.0.256" is not an IPv4 address, as a record of type A needs`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// At run time the same CNAME is an error, also when its value was computed.
	rt := newR53Test(t, r53emu.Options{})
	rt.zone(t, map[string]any{"name": "local."})
	res, _ := runWorkflowT(t, rt.ctx, `name: run
inputs:
  ip: {default: 10.0.0.9}
steps:
  - id: dns
    uses: route53.upsert
    with: {zone: local., name: acme, type: CNAME, values: ["${{ inputs.ip }}"]}
`, nil)
	wantError(t, res.Err, `step "dns" failed: route53.upsert: values: "10.0.0.9": `+cnameToIP)
	if n := rt.calls.count("ChangeResourceRecordSets"); n != 0 {
		t.Errorf("%d changes made", n)
	}
}

func TestRoute53UpsertQuotesTXT(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{})
	zone := rt.zone(t, map[string]any{"name": "example.com."})["zone_id"].(string)
	long := strings.Repeat("abcdefghij", 30) // 300 characters
	values := []any{"v=spf1 -all", `"already quoted"`, `say "hi" \o/`, long}
	rt.upsert(t, map[string]any{"zone": "example.com", "name": "@", "type": "TXT", "values": values})
	got, _ := rt.records(t, zone, "example.com.", r53types.RRTypeTxt)
	want := []string{`"v=spf1 -all"`, `"already quoted"`, `"say \"hi\" \\o/"`, `"` + long[:255] + `" "` + long[255:] + `"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TXT values:\n%q\nwant:\n%q", got, want)
	}
	if out := rt.upsert(t, map[string]any{"zone": "example.com", "name": "@", "type": "TXT", "values": values}); out["changed"] != false {
		t.Errorf("the same TXT values again: %v", out)
	}
	if q := quoteTXT(strings.Repeat("é", 200)); strings.Count(q, `"`) != 4 || !strings.HasPrefix(q, `"`+strings.Repeat("é", 127)+`" "`) {
		t.Errorf("a long UTF-8 value is split inside a character: %q", q)
	}
	if q := quoteTXT(""); q != `""` {
		t.Errorf("empty TXT: %q", q)
	}
}

// TestRoute53UpsertWaits uses the emulator's ChangeDelay: a change stays PENDING for a minute of
// the emulator's clock, which moves 20s a request, so the step must poll until INSYNC.
func TestRoute53UpsertWaits(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(20 * time.Second)
		return now
	}
	rt := newR53Test(t, r53emu.Options{ChangeDelay: time.Minute, Clock: clock})
	rt.zone(t, map[string]any{"name": "local."})
	out := rt.upsert(t, map[string]any{"zone": "local.", "name": "acme", "values": []any{"10.0.0.5"}})
	if out["changed"] != true {
		t.Fatalf("%v", out)
	}
	if n := rt.calls.count("GetChange"); n < 2 {
		t.Errorf("%d GetChange calls: the step did not wait for a PENDING change", n)
	}
	change, err := rt.r53.GetChange(context.Background(), &route53.GetChangeInput{Id: aws.String(out["change_id"].(string))})
	if err != nil || change.ChangeInfo.Status != r53types.ChangeStatusInsync {
		t.Errorf("the change after the step: %+v, %v", change, err)
	}
	// wait: false returns at once.
	before := rt.calls.count("GetChange")
	rt.upsert(t, map[string]any{"zone": "local.", "name": "acme", "values": []any{"10.0.0.6"}, "wait": false})
	if n := rt.calls.count("GetChange"); n != before {
		t.Errorf("wait: false made %d GetChange calls", n-before)
	}
}

func TestRoute53UpsertWaitHonoursCancellation(t *testing.T) {
	rt := newR53Test(t, r53emu.Options{ChangeDelay: time.Hour})
	rt.zone(t, map[string]any{"name": "local."})
	ctx, cancel := context.WithCancel(rt.ctx)
	defer cancel()
	// Cancel once the step has polled twice.
	go func() {
		for rt.calls.count("GetChange") < 2 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := runStepT(t, ctx, "route53.upsert", map[string]any{"zone": "local.", "name": "acme", "values": []any{"10.0.0.5"}})
	wantError(t, err, "route53.upsert: change ", "(UPSERT acme.local. A) was made, but waiting for it to be INSYNC failed: stopped")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("not context.Canceled: %v", err)
	}
}

func TestRoute53Plan(t *testing.T) {
	src := `name: plan
steps:
  - id: cfg
    uses: ssm.get
    with: {prefix: acme., strip_prefix: true}
  - id: dns
    uses: route53.upsert
    with:
      zone: local.
      name: acme
      values: ["${{ steps.cfg.values.IP }}"]
  - id: txt
    uses: route53.upsert
    with: {zone_id: /hostedzone/Z123, name: acme, type: TXT, values: [hello], ttl: 60, wait: false}
  - id: zone
    uses: route53.zone
    with: {name: local, vpc: vpc-a}
  - id: public
    uses: route53.zone
    with: {name: example.com}
`
	got := planCalls(t, src, nil)
	want := map[string][]string{
		"cfg": {"ssm:DescribeParameters Name BeginsWith acme. (paginated)", "ssm:GetParameters the names listed (batches of 10, WithDecryption)"},
		"dns": {
			"route53:ListHostedZonesByName local.",
			"route53:ListResourceRecordSets acme.local. A (MaxItems 1)",
			"route53:ChangeResourceRecordSets UPSERT acme.local. A 300 [<steps.cfg.values.IP>] (unless unchanged)",
			"route53:GetChange until INSYNC",
		},
		"txt": {
			"route53:GetHostedZone Z123",
			"route53:ListResourceRecordSets acme (in zone Z123) TXT (MaxItems 1)",
			`route53:ChangeResourceRecordSets UPSERT acme (in zone Z123) TXT 60 ["hello"] (unless unchanged)`,
		},
		"zone": {
			"route53:ListHostedZonesByName local.",
			"route53:GetHostedZone (each private zone of that name, for its VPCs)",
			"route53:CreateHostedZone local. private vpc=vpc-a (unless it exists)",
		},
		"public": {"route53:ListHostedZonesByName example.com.", "route53:CreateHostedZone example.com. public (unless it exists)"},
	}
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s: plan\n%q\nwant\n%q", k, got[k], want[k])
			}
		}
	}
}

// TestWorkflowSettingsThenDNS runs the sequence flow exists for through the engine, against the
// whole emulator: the zone on the default VPC, settings stored (one secret), read back by prefix,
// and the client's name registered with an address read from an earlier step.
func TestWorkflowSettingsThenDNS(t *testing.T) {
	a, _ := newTestAWS(t, emulator.Options{Seed: "workflow"})
	cfg, err := a.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	vpcs, err := ec2.NewFromConfig(cfg).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	if err != nil || len(vpcs.Vpcs) == 0 {
		t.Fatalf("no default VPC: %v", err)
	}
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	src := `name: settings-then-dns
inputs:
  client: {default: acme}
  vpc: {}
  db_password: {secret: true}
  ip: {default: 172.31.7.7}
steps:
  - id: zone
    uses: route53.zone
    with: {name: local., vpc: "${{ inputs.vpc }}"}
  - id: host
    uses: ssm.put
    with: {name: "${{ inputs.client }}.DB_HOST", value: db.internal}
  - id: addr
    uses: ssm.put
    with: {name: "${{ inputs.client }}.ADDRESS", value: "${{ inputs.ip }}"}
  - id: password
    uses: ssm.put
    with: {name: "${{ inputs.client }}.DB_PASSWORD", value: "${{ inputs.db_password }}", type: SecureString}
  - id: settings
    uses: ssm.get
    with: {prefix: "${{ inputs.client }}.", strip_prefix: true, require: [DB_HOST, DB_PASSWORD, ADDRESS]}
  - id: dns
    uses: route53.upsert
    with:
      zone: local.
      private: true
      vpc: ${{ inputs.vpc }}
      name: ${{ inputs.client }}
      values: ["${{ steps.settings.values.ADDRESS }}"]
outputs:
  fqdn: ${{ steps.dns.fqdn }}
  changed: ${{ steps.dns.changed }}
  zone_created: ${{ steps.zone.created }}
  password: ${{ steps.settings.values.DB_PASSWORD }}
  host: ${{ steps.settings.values.DB_HOST }}
`
	ctx := WithAWS(context.Background(), a)
	inputs := map[string]engine.Given{"vpc": {Value: vpc}, "db_password": {Value: "correct-horse-battery"}}
	res, events := runWorkflowT(t, ctx, src, inputs)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := map[string]any{"fqdn": "acme.local.", "changed": true, "zone_created": true, "password": "***", "host": "db.internal"}
	if !reflect.DeepEqual(res.Outputs, want) {
		t.Errorf("outputs %v, want %v", res.Outputs, want)
	}
	all, _ := json.Marshal(events)
	if strings.Contains(string(all), "correct-horse-battery") {
		t.Errorf("the events show the secret")
	}
	for _, e := range events {
		if e.Event == "step_finished" && e.Step == "settings" {
			values := e.Outputs["values"].(map[string]any)
			if values["DB_PASSWORD"] != "***" || values["DB_HOST"] != "db.internal" || values["ADDRESS"] != "172.31.7.7" {
				t.Errorf("settings' event shows %v", values)
			}
		}
	}
	r53 := route53.NewFromConfig(cfg)
	zones, err := r53.ListHostedZonesByName(context.Background(), &route53.ListHostedZonesByNameInput{DNSName: aws.String("local.")})
	if err != nil || len(zones.HostedZones) != 1 {
		t.Fatalf("zones %+v, %v", zones, err)
	}
	rrs, err := r53.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{
		HostedZoneId: zones.HostedZones[0].Id, StartRecordName: aws.String("acme.local."), StartRecordType: r53types.RRTypeA, MaxItems: aws.Int32(1),
	})
	if err != nil || len(rrs.ResourceRecordSets) != 1 || aws.ToString(rrs.ResourceRecordSets[0].ResourceRecords[0].Value) != "172.31.7.7" {
		t.Fatalf("record %+v, %v", rrs, err)
	}

	// The second boot: the same address, nothing changes; the zone is found.
	res, _ = runWorkflowT(t, ctx, src, inputs)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Outputs["changed"] != false || res.Outputs["zone_created"] != false {
		t.Errorf("second run: %v", res.Outputs)
	}
}

// TestRoute53AnswersWithoutFields: answers that lack the zone or the change are errors that say
// so, not crashes.
func TestRoute53AnswersWithoutFields(t *testing.T) {
	const ns = `xmlns="https://route53.amazonaws.com/doc/2013-04-01/"`
	const zone = `<HostedZone><Id>/hostedzone/Z1</Id><Name>local.</Name><CallerReference>x</CallerReference>` +
		`<Config><PrivateZone>false</PrivateZone></Config></HostedZone>`
	type answer struct {
		status int
		body   string
	}
	serve := func(answers map[string]answer) context.Context {
		return fakeAWS(t, func(w http.ResponseWriter, r *http.Request) {
			a, ok := answers[r.Method+" "+r.URL.Path]
			if !ok {
				http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, 400)
				return
			}
			awsXML(w, a.status, a.body)
		})
	}
	noRecords := answer{200, `<ListResourceRecordSetsResponse ` + ns + `><ResourceRecordSets/><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`}
	upsert := map[string]any{"zone_id": "Z1", "name": "acme", "values": []any{"10.0.0.5"}}

	ctx := serve(map[string]answer{
		"GET /2013-04-01/hostedzone/Z1": {200, `<GetHostedZoneResponse ` + ns + `></GetHostedZoneResponse>`},
	})
	if _, err := runStepT(t, ctx, "route53.upsert", upsert); err == nil ||
		err.Error() != "route53.upsert: GetHostedZone Z1 answered without the zone's name" {
		t.Errorf("GetHostedZone without the zone: %v", err)
	}

	ctx = serve(map[string]answer{
		"GET /2013-04-01/hostedzone/Z1":        {200, `<GetHostedZoneResponse ` + ns + `>` + zone + `</GetHostedZoneResponse>`},
		"GET /2013-04-01/hostedzone/Z1/rrset":  noRecords,
		"POST /2013-04-01/hostedzone/Z1/rrset": {200, `<ChangeResourceRecordSetsResponse ` + ns + `></ChangeResourceRecordSetsResponse>`},
	})
	want := "route53.upsert: ChangeResourceRecordSets UPSERT acme.local. A in zone Z1 answered without the change's id (ChangeInfo): " +
		"the change may have been made, and cannot be waited for"
	if _, err := runStepT(t, ctx, "route53.upsert", upsert); err == nil || err.Error() != want {
		t.Errorf("ChangeResourceRecordSets without ChangeInfo: %v\nwant %s", err, want)
	}

	ctx = serve(map[string]answer{
		"GET /2013-04-01/hostedzonesbyname": {200, `<ListHostedZonesByNameResponse ` + ns + `><HostedZones/><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesByNameResponse>`},
		"POST /2013-04-01/hostedzone":       {201, `<CreateHostedZoneResponse ` + ns + `></CreateHostedZoneResponse>`},
	})
	_, err := runStepT(t, ctx, "route53.zone", map[string]any{"name": "local"})
	if err == nil || !strings.HasPrefix(err.Error(), "route53.zone: CreateHostedZone local. (CallerReference flow/") ||
		!strings.HasSuffix(err.Error(), ") answered without the zone's id: the zone may have been created; a re-run finds it") {
		t.Errorf("CreateHostedZone without the zone: %v", err)
	}

	ctx = serve(map[string]answer{
		"GET /2013-04-01/hostedzonesbyname": {200, `<ListHostedZonesByNameResponse ` + ns + `><HostedZones>` + zone +
			`</HostedZones><IsTruncated>true</IsTruncated><MaxItems>1</MaxItems></ListHostedZonesByNameResponse>`},
	})
	want = "route53.zone: ListHostedZonesByName local. answered that there are more zones without saying where they start (NextDNSName)"
	if _, err := runStepT(t, ctx, "route53.zone", map[string]any{"name": "local"}); err == nil || err.Error() != want {
		t.Errorf("truncated list without NextDNSName: %v\nwant %s", err, want)
	}
}
