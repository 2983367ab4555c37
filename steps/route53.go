package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/flow-infra/flow/engine"
)

func init() {
	Register(new(route53Upsert))
	Register(new(route53Zone))
}

// ---- route53.upsert

// route53Upsert makes one record set hold the given values.
type route53Upsert struct {
	Zone    string   `flow:"zone" doc:"The hosted zone's name, e.g. local. (the trailing dot is optional); or set zone_id; or both, and the zone is not looked up (no call: a boot that knows its zone's id and name saves a round trip)."`
	ZoneID  string   `flow:"zone_id" doc:"The hosted zone's id (Z0123..., with or without /hostedzone/); or set zone."`
	Private *bool    `flow:"private" doc:"With zone: true picks only private zones, false only public ones; unset, either. With zone_id: the zone must be private (true) or public (false)."`
	VPC     string   `flow:"vpc" doc:"With zone: pick only the private zone associated with this VPC (vpc-...)."`
	Name    string   `flow:"name,required" doc:"The record's name: relative to the zone (acme; @ for the apex) or fully qualified (acme.local., or acme.local: a name ending in the zone's is taken as qualified)."`
	Type    string   `flow:"type" default:"A" doc:"The record type: A, AAAA, CNAME, TXT, MX, SRV, ..."`
	TTL     int      `flow:"ttl" default:"300" doc:"Time to live, in seconds."`
	Values  []string `flow:"values,required" doc:"The record's values: IPv4 addresses for A, IPv6 for AAAA, one host name for CNAME, text for TXT (quoted for you)."`
	Wait    bool     `flow:"wait" default:"true" doc:"Wait until Route 53 reports the change INSYNC (GetChange; at most 10 minutes, or the step's timeout)."`
	Read    bool     `flow:"read" default:"true" doc:"Read the record set first (ListResourceRecordSets) and change it only when it differs. false sends the UPSERT unread: one call in place of two where the record is most likely absent or stale (boot.yaml's first boot), but a change (and changed true) even when it already held these values."`
}

type route53UpsertResult struct {
	ChangeID string `flow:"change_id" doc:"The Route 53 change's id (C0123...); empty when nothing had to change."`
	Changed  bool   `flow:"changed" doc:"Whether the record set was changed (false: it already held these values and TTL)."`
	FQDN     string `flow:"fqdn" doc:"The record's fully qualified name, with the trailing dot: acme.local."`
	ZoneID   string `flow:"zone_id" doc:"The id of the hosted zone the record is in (without /hostedzone/)."`
}

func (*route53Upsert) Info() Info {
	return Info{
		Name: "route53.upsert",
		Doc: "Make a Route 53 record set hold exactly the given values and TTL, creating or replacing it (UPSERT). " +
			"The zone is found by name (ListHostedZonesByName, narrowed by private and vpc with GetHostedZone; more " +
			"than one match is an error that lists them) or given by id. The current record set is read first " +
			"(ListResourceRecordSets; unless read is false): if it already holds these values and TTL, nothing is changed, so re-running " +
			"on every boot makes no change call when the address is the same. Otherwise ChangeResourceRecordSets " +
			"UPSERT, then, with wait, GetChange until INSYNC. Values are checked before any call: A needs IPv4 " +
			"addresses, AAAA IPv6, a CNAME one host name (never an IP address), and TXT values are quoted and " +
			"split into strings of 255 characters as Route 53 requires, unless already quoted.",
		New:    func() Step { return new(route53Upsert) },
		Output: route53UpsertResult{},
	}
}

// rrType is the record type in upper case, A when a lint sees it unset.
func (s *route53Upsert) rrType() string {
	if s.Type == "" {
		return "A"
	}
	return strings.ToUpper(s.Type)
}

func (s *route53Upsert) Validate() error {
	if err := validateZoneChoice(s.Zone, s.ZoneID, s.Private, s.VPC); err != nil {
		return err
	}
	if strings.TrimSpace(s.Name) == "" {
		return field("name").errorf("must not be empty (use @ for the zone's apex)")
	}
	if s.TTL < 0 || s.TTL > 2147483647 {
		return field("ttl").errorf("%d is not between 0 and 2147483647 seconds", s.TTL)
	}
	if _, err := s.records(); err != nil {
		return err
	}
	return nil
}

// cnameToIP is the warning, and the error, for a CNAME whose value is an IP address.
const cnameToIP = "a CNAME must name a host; an IP address belongs in an A record (resolvers mishandle a CNAME to an IP)"

func (s *route53Upsert) Lint() []engine.Warning {
	var ws []engine.Warning
	if s.Type != "" && !slices.Contains(r53types.RRType("").Values(), r53types.RRType(s.rrType())) {
		ws = append(ws, engine.Warning{Field: "type", Msg: fmt.Sprintf("%q is not a Route 53 record type (%s)", s.Type, rrTypeList())})
		return ws
	}
	if s.Values == nil {
		return ws
	}
	if s.rrType() == "CNAME" {
		for _, v := range s.Values {
			if _, err := netip.ParseAddr(v); err == nil {
				return append(ws, engine.Warning{Field: "values", Msg: cnameToIP})
			}
		}
	}
	if _, err := s.records(); err != nil {
		ws = append(ws, engine.Warning{Field: "values", Msg: err.Error()})
	}
	return ws
}

func (s *route53Upsert) Plan(rt *engine.Runtime, known Known) []string {
	var lines []string
	fqdn := ""
	if s.ZoneID != "" && s.Zone != "" && known.Input("zone", "zone_id") {
		zone := planName(s.Zone, true)
		fqdn = recordName(s.Name, zone)
		if !known.Input("name", "zone") {
			fqdn = s.Name + "." + zone
		}
	} else if s.ZoneID != "" {
		lines = append(lines, "route53:GetHostedZone "+bareID(s.ZoneID))
		fqdn = s.Name + " (in zone " + bareID(s.ZoneID) + ")"
	} else {
		zone := planName(s.Zone, known.Input("zone"))
		lines = append(lines, "route53:ListHostedZonesByName "+zone)
		fqdn = recordName(s.Name, zone)
		if !known.Input("name", "zone") {
			fqdn = s.Name + "." + zone
		}
	}
	values, err := s.records()
	if err != nil {
		values = s.Values
	}
	upsert := fmt.Sprintf("route53:ChangeResourceRecordSets UPSERT %s %s %d [%s]", fqdn, s.rrType(), s.TTL, strings.Join(values, " "))
	switch {
	case !known.Input("read"):
		lines = append(lines, fmt.Sprintf("route53:ListResourceRecordSets %s %s (MaxItems 1), if read", fqdn, s.rrType()),
			upsert+" (unless read and unchanged)")
	case s.Read:
		lines = append(lines, fmt.Sprintf("route53:ListResourceRecordSets %s %s (MaxItems 1)", fqdn, s.rrType()),
			upsert+" (unless unchanged)")
	default:
		lines = append(lines, upsert)
	}
	if s.Wait {
		lines = append(lines, "route53:GetChange until INSYNC")
	}
	return lines
}

// planName is a zone name for a plan: a dnsName when known, else the plan's text as it is.
func planName(s string, known bool) string {
	if !known {
		return s
	}
	return dnsName(s)
}

// records returns the values as Route 53 takes them, or why they do not fit the type.
func (s *route53Upsert) records() ([]string, error) {
	typ := s.rrType()
	if !slices.Contains(r53types.RRType("").Values(), r53types.RRType(typ)) {
		return nil, fmt.Errorf("type %q is not a Route 53 record type (%s)", s.Type, rrTypeList())
	}
	if len(s.Values) == 0 {
		return nil, field("values").errorf("give at least one value")
	}
	out := make([]string, len(s.Values))
	for i, v := range s.Values {
		at := field("values", strconv.Itoa(i))
		if strings.TrimSpace(v) == "" {
			return nil, at.errorf("item %d is empty", i)
		}
		switch typ {
		case "A", "AAAA":
			a, err := netip.ParseAddr(v)
			want := "IPv4"
			if typ == "AAAA" {
				want = "IPv6"
			}
			if err != nil || (typ == "A") != a.Is4() {
				return nil, at.errorf("%q is not an %s address, as a record of type %s needs", v, want, typ)
			}
			out[i] = a.String()
		case "CNAME":
			if len(s.Values) != 1 {
				return nil, field("values").errorf("a CNAME has exactly one value, got %d", len(s.Values))
			}
			if _, err := netip.ParseAddr(v); err == nil {
				return nil, at.errorf("%q: %s", v, cnameToIP)
			}
			out[i] = v
		case "TXT", "SPF":
			out[i] = quoteTXT(v)
		default:
			out[i] = v
		}
	}
	return out, nil
}

func (s *route53Upsert) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	values, err := s.records()
	if err != nil {
		return nil, err
	}
	c, err := route53Client(ctx)
	if err != nil {
		return nil, err
	}
	zone, err := s.findZone(ctx, rt, c)
	if err != nil {
		return nil, err
	}
	fqdn := recordName(s.Name, zone.name)
	if !inZone(fqdn, zone.name) {
		return nil, fmt.Errorf("name %s is not in zone %s (%s): write it relative to the zone, or fully qualified within it",
			fqdn, zone.name, zone.id)
	}
	typ := r53types.RRType(s.rrType())
	res := route53UpsertResult{FQDN: fqdn, ZoneID: zone.id}

	if s.Read {
		cur, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
			HostedZoneId: aws.String(zone.id), StartRecordName: aws.String(fqdn), StartRecordType: typ, MaxItems: aws.Int32(1),
		})
		if err != nil {
			return nil, awsFail(rt, err, "ListResourceRecordSets %s %s in zone %s", fqdn, typ, zone.id)
		}
		if len(cur.ResourceRecordSets) > 0 && sameRecordSet(cur.ResourceRecordSets[0], fqdn, typ, int64(s.TTL), values) {
			return res, nil
		}
	}

	records := make([]r53types.ResourceRecord, len(values))
	for i, v := range values {
		records[i] = r53types.ResourceRecord{Value: aws.String(v)}
	}
	out, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone.id),
		ChangeBatch: &r53types.ChangeBatch{
			Comment: aws.String(changeComment(rt)),
			Changes: []r53types.Change{{
				Action: r53types.ChangeActionUpsert,
				ResourceRecordSet: &r53types.ResourceRecordSet{
					Name: aws.String(fqdn), Type: typ, TTL: aws.Int64(int64(s.TTL)), ResourceRecords: records,
				},
			}},
		},
	})
	if err != nil {
		return nil, awsFail(rt, err, "ChangeResourceRecordSets UPSERT %s %s in zone %s", fqdn, typ, zone.id)
	}
	if out.ChangeInfo == nil || aws.ToString(out.ChangeInfo.Id) == "" {
		return nil, fmt.Errorf("ChangeResourceRecordSets UPSERT %s %s in zone %s answered without the change's id "+
			"(ChangeInfo): the change may have been made, and cannot be waited for", fqdn, typ, zone.id)
	}
	res.Changed = true
	res.ChangeID = bareID(aws.ToString(out.ChangeInfo.Id))
	if s.Wait && out.ChangeInfo.Status != r53types.ChangeStatusInsync {
		if err := waitInsync(ctx, rt, c, res.ChangeID); err != nil {
			return nil, awsFail(rt, err, "change %s (UPSERT %s %s) was made, but waiting for it to be INSYNC failed",
				res.ChangeID, fqdn, typ)
		}
	}
	return res, nil
}

func (s *route53Upsert) findZone(ctx context.Context, rt *engine.Runtime, c *route53.Client) (hostedZone, error) {
	if s.ZoneID != "" && s.Zone != "" {
		// Both given: taken as they are. A wrong pair fails at Route 53 (NoSuchHostedZone, or a
		// change batch whose name is not in the zone), never writes elsewhere.
		return hostedZone{id: bareID(s.ZoneID), name: dnsName(s.Zone)}, nil
	}
	if s.ZoneID != "" {
		out, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(bareID(s.ZoneID))})
		if err != nil {
			return hostedZone{}, awsFail(rt, err, "GetHostedZone %s", bareID(s.ZoneID))
		}
		if out.HostedZone == nil || aws.ToString(out.HostedZone.Name) == "" {
			return hostedZone{}, fmt.Errorf("GetHostedZone %s answered without the zone's name", bareID(s.ZoneID))
		}
		z := zoneOf(*out.HostedZone, out.VPCs)
		if z.id == "" {
			z.id = bareID(s.ZoneID)
		}
		if s.Private != nil && z.private != *s.Private {
			return hostedZone{}, fmt.Errorf("zone %s (%s) is %s, and private is %t", z.id, z.name, map[bool]string{true: "private", false: "public"}[z.private], *s.Private)
		}
		return z, nil
	}
	name := dnsName(s.Zone)
	all, err := zonesNamed(ctx, rt, c, name)
	if err != nil {
		return hostedZone{}, err
	}
	var kept []hostedZone
	for _, z := range all {
		if s.Private != nil && z.private != *s.Private {
			continue
		}
		if s.VPC != "" {
			if !z.private {
				continue
			}
			if err := z.loadVPCs(ctx, rt, c); err != nil {
				return hostedZone{}, err
			}
			if !slices.ContainsFunc(z.vpcs, func(v r53types.VPC) bool { return aws.ToString(v.VPCId) == s.VPC }) {
				continue
			}
		}
		kept = append(kept, z)
	}
	kind := ""
	switch {
	case s.VPC != "" || s.Private != nil && *s.Private:
		kind = "private "
	case s.Private != nil:
		kind = "public "
	}
	assoc := ""
	if s.VPC != "" {
		assoc = " associated with " + s.VPC
	}
	switch len(kept) {
	case 1:
		return kept[0], nil
	case 0:
		msg := fmt.Sprintf("no %szone named %s%s", kind, name, assoc)
		if len(all) > 0 {
			for i := range all {
				if err := all[i].loadVPCs(ctx, rt, c); err != nil {
					return hostedZone{}, err
				}
			}
			msg += "; the zones of that name are " + describeZones(all)
		}
		return hostedZone{}, errors.New(msg)
	}
	for i := range kept {
		if err := kept[i].loadVPCs(ctx, rt, c); err != nil {
			return hostedZone{}, err
		}
	}
	return hostedZone{}, fmt.Errorf("%d %szones named %s%s: %s; set vpc, private or zone_id to choose one",
		len(kept), kind, name, assoc, describeZones(kept))
}

// ---- route53.zone

// route53Zone ensures that a hosted zone exists.
type route53Zone struct {
	Name      string `flow:"name,required" doc:"The zone's name, e.g. local. (the trailing dot is optional)."`
	VPC       string `flow:"vpc" doc:"A VPC id: the zone is private and associated with this VPC."`
	VPCRegion string `flow:"vpc_region" doc:"The VPC's region (default: the configuration's region)."`
	Private   *bool  `flow:"private" doc:"Whether the zone is private; default: true when vpc is set, else false. A private zone needs vpc."`
	Comment   string `flow:"comment" doc:"A comment stored with a zone this step creates (an existing zone's is left alone)."`
}

type route53ZoneResult struct {
	ZoneID  string `flow:"zone_id" doc:"The zone's id (Z0123..., without /hostedzone/)."`
	Created bool   `flow:"created" doc:"Whether this step created the zone (false: it existed)."`
	Private bool   `flow:"private" doc:"Whether the zone is private."`
}

func (*route53Zone) Info() Info {
	return Info{
		Name: "route53.zone",
		Doc: "Ensure a Route 53 hosted zone exists: find it (ListHostedZonesByName; for a private zone, GetHostedZone " +
			"to check it is associated with the VPC in vpc_region), or create it (CreateHostedZone). A public zone " +
			"and a private one of the same name are different zones, as are private zones of different VPCs. " +
			"CreateHostedZone needs a CallerReference that Route 53 keeps forever (reusing one is " +
			"HostedZoneAlreadyExists, even after the zone was deleted), and Route 53 lets two public zones share a " +
			"name, so two flows racing to create one could both succeed. The reference is therefore derived, not " +
			"random: flow/ZONE-HASH/UTC-DATE/N, where the hash covers the name, public or private, and a private zone's VPC and region, " +
			"and N counts from 1. Racers on the same day send the same reference, so one creates the zone and the " +
			"other gets HostedZoneAlreadyExists (or ConflictingDomainExists for a private zone), looks the zone up " +
			"again and returns it with created=false. If the reference belongs to a zone since deleted, the lookup " +
			"finds nothing and the next N is tried, so a deleted zone can be created again; after 10 such " +
			"references on one day a random one is used. Only racers on either side of midnight UTC can still " +
			"both create a public zone.",
		New:    func() Step { return new(route53Zone) },
		Output: route53ZoneResult{},
	}
}

// private is whether the zone is private: the field, else whether a VPC is given.
func (s *route53Zone) private() bool {
	if s.Private != nil {
		return *s.Private
	}
	return s.VPC != ""
}

func (s *route53Zone) Validate() error {
	if strings.Trim(s.Name, ". ") == "" {
		return field("name").errorf("must name a domain, e.g. local.")
	}
	switch {
	case s.private() && s.VPC == "":
		return field("vpc").errorf("a private zone needs one: the VPC whose instances resolve it")
	case !s.private() && s.VPC != "":
		return field("vpc").errorf("%s is set, but private is false: only a private zone is associated with a VPC", s.VPC)
	case s.VPCRegion != "" && s.VPC == "":
		return field("vpc_region").errorf("only for a private zone's vpc")
	}
	return nil
}

func (s *route53Zone) Plan(rt *engine.Runtime, known Known) []string {
	name := planName(s.Name, known.Input("name"))
	lines := []string{"route53:ListHostedZonesByName " + name}
	kind := "public"
	if s.private() {
		kind = "private vpc=" + s.VPC
		if s.VPCRegion != "" {
			kind += " vpc_region=" + s.VPCRegion
		}
		lines = append(lines, "route53:GetHostedZone (each private zone of that name, for its VPCs)")
	}
	return append(lines, "route53:CreateHostedZone "+name+" "+kind+" (unless it exists)")
}

// zoneReferenceTries is how many derived CallerReferences of one day route53.zone tries before a
// random one.
const zoneReferenceTries = 10

func (s *route53Zone) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := route53Client(ctx)
	if err != nil {
		return nil, err
	}
	q := zoneQuery{name: dnsName(s.Name), private: s.private(), vpc: s.VPC, region: s.VPCRegion}
	if q.region == "" {
		q.region = c.Options().Region
	}
	z, ok, err := q.find(ctx, rt, c)
	if err != nil {
		return nil, err
	}
	if ok {
		return route53ZoneResult{ZoneID: z.id, Private: q.private}, nil
	}
	created, err := q.create(ctx, rt, c, s.Comment)
	if err != nil {
		return nil, err
	}
	return created, nil
}

// zoneQuery names the zone route53.zone looks for, and creates when it finds none: a public zone
// by name, a private one by name and the VPC (in its region) it is associated with.
type zoneQuery struct {
	name    string
	private bool
	vpc     string
	region  string
}

// find returns the one zone the query matches; none is not an error, more than one is.
func (q zoneQuery) find(ctx context.Context, rt *engine.Runtime, c *route53.Client) (hostedZone, bool, error) {
	all, err := zonesNamed(ctx, rt, c, q.name)
	if err != nil {
		return hostedZone{}, false, err
	}
	var found []hostedZone
	for _, z := range all {
		if z.private != q.private {
			continue
		}
		if q.private {
			if err := z.loadVPCs(ctx, rt, c); err != nil {
				return hostedZone{}, false, err
			}
			if !slices.ContainsFunc(z.vpcs, func(v r53types.VPC) bool {
				return aws.ToString(v.VPCId) == q.vpc && string(v.VPCRegion) == q.region
			}) {
				continue
			}
		}
		found = append(found, z)
	}
	switch len(found) {
	case 0:
		return hostedZone{}, false, nil
	case 1:
		return found[0], true, nil
	}
	return hostedZone{}, false, fmt.Errorf("%d zones named %s already: %s; flow cannot tell which one is meant: delete the extra ones",
		len(found), q.name, describeZones(found))
}

// create makes the zone with a CallerReference that every flow creating it on the same day
// shares, so two flows at once create one zone: the loser of the race finds the winner's.
func (q zoneQuery) create(ctx context.Context, rt *engine.Runtime, c *route53.Client, comment string) (route53ZoneResult, error) {
	in := &route53.CreateHostedZoneInput{Name: aws.String(q.name), HostedZoneConfig: &r53types.HostedZoneConfig{PrivateZone: q.private}}
	if comment != "" {
		in.HostedZoneConfig.Comment = aws.String(comment)
	}
	refRegion := "" // Route 53 is global: a public zone's reference must not depend on the caller's region
	if q.private {
		in.VPC = &r53types.VPC{VPCId: aws.String(q.vpc), VPCRegion: r53types.VPCRegion(q.region)}
		refRegion = q.region
	}
	base := zoneReferenceBase(q.name, q.private, q.vpc, refRegion, time.Now())
	for n := 1; ; n++ {
		ref := fmt.Sprintf("%s/%d", base, n)
		if n > zoneReferenceTries {
			ref = fmt.Sprintf("%s/random-%d", base, time.Now().UnixNano())
		}
		in.CallerReference = aws.String(ref)
		out, err := c.CreateHostedZone(ctx, in)
		if err == nil {
			if out.HostedZone == nil || aws.ToString(out.HostedZone.Id) == "" {
				return route53ZoneResult{}, fmt.Errorf("CreateHostedZone %s (CallerReference %s) answered without the zone's id: "+
					"the zone may have been created; a re-run finds it", q.name, ref)
			}
			return route53ZoneResult{ZoneID: bareID(aws.ToString(out.HostedZone.Id)), Created: true, Private: q.private}, nil
		}
		code := awsCode(err)
		if n > zoneReferenceTries || (code != "HostedZoneAlreadyExists" && code != "ConflictingDomainExists") {
			return route53ZoneResult{}, awsFail(rt, err, "CreateHostedZone %s (CallerReference %s)", q.name, ref)
		}
		// Someone else created it (or the reference is a deleted zone's): look again.
		z, ok, ferr := q.find(ctx, rt, c)
		if ferr != nil {
			return route53ZoneResult{}, ferr
		}
		if ok {
			return route53ZoneResult{ZoneID: z.id, Private: q.private}, nil
		}
		if code == "ConflictingDomainExists" {
			return route53ZoneResult{}, awsFail(rt, err, "CreateHostedZone %s (CallerReference %s), and no zone of that name is found for %s",
				q.name, ref, q.vpc)
		}
	}
}

// zoneReferenceBase is the CallerReference of route53.zone without its counter: the same for every
// flow creating the same zone on the same UTC day (see route53.zone's Doc).
func zoneReferenceBase(name string, private bool, vpc, region string, now time.Time) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%t\x00%s\x00%s", name, private, vpc, region)))
	return "flow/" + hex.EncodeToString(h[:8]) + "/" + now.UTC().Format("2006-01-02")
}

// ---- zones

// hostedZone is a zone as the route53 steps select it.
type hostedZone struct {
	id      string // bare, without /hostedzone/
	name    string // as Route 53 lists it: lower case, trailing dot
	private bool
	vpcs    []r53types.VPC // of a private zone, once loaded
	loaded  bool
}

func zoneOf(z r53types.HostedZone, vpcs []r53types.VPC) hostedZone {
	h := hostedZone{id: bareID(aws.ToString(z.Id)), name: aws.ToString(z.Name), vpcs: vpcs, loaded: vpcs != nil}
	if z.Config != nil {
		h.private = z.Config.PrivateZone
	}
	return h
}

// loadVPCs reads a private zone's VPCs with GetHostedZone, once.
func (z *hostedZone) loadVPCs(ctx context.Context, rt *engine.Runtime, c *route53.Client) error {
	if z.loaded || !z.private {
		return nil
	}
	out, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(z.id)})
	if err != nil {
		return awsFail(rt, err, "GetHostedZone %s (%s)", z.id, z.name)
	}
	z.vpcs, z.loaded = out.VPCs, true
	return nil
}

// zonesNamed lists the zones named name (as dnsName returns it), with ListHostedZonesByName.
func zonesNamed(ctx context.Context, rt *engine.Runtime, c *route53.Client, name string) ([]hostedZone, error) {
	var zones []hostedZone
	in := &route53.ListHostedZonesByNameInput{DNSName: aws.String(name)}
	for {
		out, err := c.ListHostedZonesByName(ctx, in)
		if err != nil {
			return nil, awsFail(rt, err, "ListHostedZonesByName %s", name)
		}
		for _, z := range out.HostedZones {
			if aws.ToString(z.Name) != name {
				return zones, nil // listed in name order: the zones of this name are all seen
			}
			if aws.ToString(z.Id) == "" {
				return nil, fmt.Errorf("ListHostedZonesByName %s answered a zone of that name without its id", name)
			}
			zones = append(zones, zoneOf(z, nil))
		}
		if !out.IsTruncated {
			return zones, nil
		}
		if out.NextDNSName == nil {
			return nil, fmt.Errorf("ListHostedZonesByName %s answered that there are more zones without saying where they start (NextDNSName)", name)
		}
		in.DNSName, in.HostedZoneId = out.NextDNSName, out.NextHostedZoneId
	}
}

// describeZones lists zones for an error: "Z1 (private: vpc-a us-east-1), Z2 (public)".
func describeZones(zones []hostedZone) string {
	parts := make([]string, len(zones))
	for i, z := range zones {
		if !z.private {
			parts[i] = z.id + " (public)"
			continue
		}
		vpcs := make([]string, len(z.vpcs))
		for j, v := range z.vpcs {
			vpcs[j] = aws.ToString(v.VPCId) + " " + string(v.VPCRegion)
		}
		sort.Strings(vpcs)
		parts[i] = z.id + " (private: " + strings.Join(vpcs, ", ") + ")"
	}
	return strings.Join(parts, ", ")
}

// validateZoneChoice checks that exactly one of zone and zone_id is set, and that private and
// vpc, which select among zones of one name, come with zone.
func validateZoneChoice(zone, zoneID string, private *bool, vpc string) error {
	switch {
	case zone == "" && zoneID == "":
		return errors.New("set zone (a name such as local.) or zone_id")
	case zoneID != "" && vpc != "":
		return errors.New("vpc chooses among zones of one name: with zone_id there is nothing to choose")
	}
	if private != nil && !*private && vpc != "" {
		return fmt.Errorf("private is false, but vpc %s selects a private zone", vpc)
	}
	return nil
}

// ---- names, values, changes

// dnsName returns a domain name as Route 53 lists it: lower case, with the trailing dot, and every
// character other than a-z, 0-9, -, _ and . written as a backslash and three octal digits
// (*.local. lists as \052.local.). Escapes already written are kept.
func dnsName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		case c == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]):
			b.WriteString(s[i : i+4])
			i += 3
		default:
			fmt.Fprintf(&b, "\\%03o", c)
		}
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// recordName returns the fully qualified name of a record called name in zone (a dnsName): name
// is relative (acme, @ for the apex), or already ends in the zone (acme.local), or ends in a dot.
func recordName(name, zone string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "@" || name == "":
		return zone
	case strings.HasSuffix(name, "."):
		return dnsName(name)
	}
	n := dnsName(name)
	if inZone(n, zone) {
		return n
	}
	return dnsName(name + "." + zone)
}

// inZone reports whether the name fqdn is zone or inside it (both dnsNames).
func inZone(fqdn, zone string) bool {
	return fqdn == zone || strings.HasSuffix(fqdn, "."+zone)
}

// bareID strips /hostedzone/ or /change/ from a Route 53 id.
func bareID(id string) string {
	return id[strings.LastIndexByte(id, '/')+1:]
}

// quoteTXT quotes a TXT value as Route 53 requires: in double quotes, with " and \ escaped, split
// into strings of at most 255 bytes; a value already quoted is sent as it is.
func quoteTXT(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v
	}
	var parts []string
	for len(v) > 0 || len(parts) == 0 {
		n := min(len(v), 255)
		for n < len(v) && n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		chunk := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v[:n])
		parts = append(parts, `"`+chunk+`"`)
		v = v[n:]
	}
	return strings.Join(parts, " ")
}

// sameRecordSet reports whether rs, the first record set at or after fqdn and typ, is that record
// set holding exactly values (in any order) with ttl.
func sameRecordSet(rs r53types.ResourceRecordSet, fqdn string, typ r53types.RRType, ttl int64, values []string) bool {
	if aws.ToString(rs.Name) != fqdn || rs.Type != typ || rs.SetIdentifier != nil || rs.AliasTarget != nil ||
		aws.ToInt64(rs.TTL) != ttl || len(rs.ResourceRecords) != len(values) {
		return false
	}
	have := make([]string, len(rs.ResourceRecords))
	for i, r := range rs.ResourceRecords {
		have[i] = recordKey(typ, aws.ToString(r.Value))
	}
	want := make([]string, len(values))
	for i, v := range values {
		want[i] = recordKey(typ, v)
	}
	sort.Strings(have)
	sort.Strings(want)
	return slices.Equal(have, want)
}

// recordKey is a record value in a form where two values Route 53 treats as one are equal.
func recordKey(typ r53types.RRType, v string) string {
	switch typ {
	case r53types.RRTypeA, r53types.RRTypeAaaa:
		if a, err := netip.ParseAddr(v); err == nil {
			return a.String()
		}
	case r53types.RRTypeCname, r53types.RRTypeNs, r53types.RRTypePtr:
		return strings.TrimSuffix(strings.ToLower(v), ".")
	}
	return v
}

func rrTypeList() string {
	var names []string
	for _, t := range r53types.RRType("").Values() {
		names = append(names, string(t))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// changeComment says which workflow and step made a change, for whoever reads the zone's history.
func changeComment(rt *engine.Runtime) string {
	c := "flow"
	if rt.Workflow != "" {
		c += " " + rt.Workflow
	}
	if rt.Step != "" {
		c += " step " + rt.Step
	}
	if len(c) > 256 {
		c = c[:256]
	}
	return c
}

// changeWait is how route53 steps poll GetChange: the first delays, the longest, and how long in
// all before giving up.
type changeWait struct{ min, max, limit time.Duration }

// defaultChangeWait suits AWS, where a change usually becomes INSYNC within a minute and GetChange
// is limited to 5 requests a second per account.
func defaultChangeWait() changeWait {
	return changeWait{min: 5 * time.Second, max: 30 * time.Second, limit: 10 * time.Minute}
}

type changeWaitKey struct{}

// withChangeWait returns a context whose route53 steps poll GetChange with w (tests shorten it).
func withChangeWait(ctx context.Context, w changeWait) context.Context {
	return context.WithValue(ctx, changeWaitKey{}, w)
}

// waitInsync polls GetChange until the change is INSYNC, with the SDK's waiter, telling rt what
// it waits for.
func waitInsync(ctx context.Context, rt *engine.Runtime, c *route53.Client, changeID string) error {
	w, ok := ctx.Value(changeWaitKey{}).(changeWait)
	if !ok {
		w = defaultChangeWait()
	}
	rt.Waiting(fmt.Sprintf("change %s to be INSYNC", changeID))
	defer rt.Waiting("")
	waiter := route53.NewResourceRecordSetsChangedWaiter(c, func(o *route53.ResourceRecordSetsChangedWaiterOptions) {
		o.MinDelay, o.MaxDelay = w.min, w.max
	})
	return waiter.Wait(ctx, &route53.GetChangeInput{Id: aws.String(changeID)}, w.limit)
}

var (
	_ Step      = (*route53Upsert)(nil)
	_ Validator = (*route53Upsert)(nil)
	_ Linter    = (*route53Upsert)(nil)
	_ Planner   = (*route53Upsert)(nil)
	_ Step      = (*route53Zone)(nil)
	_ Validator = (*route53Zone)(nil)
	_ Planner   = (*route53Zone)(nil)
)
