package steps

// The route53 steps a client's life needs beyond registering its name: reading a record, and
// deleting it when it still points at the client's instance.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/flow-infra/flow/engine"
)

func init() {
	Register(new(route53Get))
	Register(new(route53Delete))
}

// recordRef names one record set: its zone (by name or id, as route53.upsert finds it), its name
// and its type. route53.get and route53.delete have these inputs.
type recordRef struct {
	Zone, ZoneID string
	Private      *bool
	VPC          string
	Name, Type   string
}

func (r *recordRef) validate() error {
	if err := validateZoneChoice(r.Zone, r.ZoneID, r.Private, r.VPC); err != nil {
		return err
	}
	if strings.TrimSpace(r.Name) == "" {
		return fmt.Errorf("name must not be empty (use @ for the zone's apex)")
	}
	if t := strings.ToUpper(r.Type); t != "" && !slices.Contains(r53types.RRType("").Values(), r53types.RRType(t)) {
		return fmt.Errorf("type %q is not a Route 53 record type (%s)", r.Type, rrTypeList())
	}
	return nil
}

func (r *recordRef) rrType() r53types.RRType {
	if r.Type == "" {
		return r53types.RRTypeA
	}
	return r53types.RRType(strings.ToUpper(r.Type))
}

// zoneLines are the calls that find the zone, and the record's name for a plan.
func (r *recordRef) zoneLines(known Known) ([]string, string) {
	if r.ZoneID != "" {
		return []string{"route53:GetHostedZone " + bareID(r.ZoneID)}, r.Name + " (in zone " + bareID(r.ZoneID) + ")"
	}
	zone := planName(r.Zone, known.Input("zone"))
	fqdn := recordName(r.Name, zone)
	if !known.Input("name", "zone") {
		fqdn = r.Name + "." + zone
	}
	return []string{"route53:ListHostedZonesByName " + zone}, fqdn
}

// read finds the zone and the record set, which is nil when there is none.
func (r *recordRef) read(ctx context.Context, rt *engine.Runtime, c *route53.Client) (hostedZone, string, *r53types.ResourceRecordSet, error) {
	zone, err := (&route53Upsert{Zone: r.Zone, ZoneID: r.ZoneID, Private: r.Private, VPC: r.VPC}).findZone(ctx, rt, c)
	if err != nil {
		return hostedZone{}, "", nil, err
	}
	fqdn := recordName(r.Name, zone.name)
	if !inZone(fqdn, zone.name) {
		return hostedZone{}, "", nil, fmt.Errorf("name %s is not in zone %s (%s)", fqdn, zone.name, zone.id)
	}
	out, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(zone.id), StartRecordName: aws.String(fqdn), StartRecordType: r.rrType(), MaxItems: aws.Int32(1),
	})
	if err != nil {
		return hostedZone{}, "", nil, awsFail(rt, err, "ListResourceRecordSets %s %s in zone %s", fqdn, r.rrType(), zone.id)
	}
	if len(out.ResourceRecordSets) == 0 {
		return zone, fqdn, nil, nil
	}
	rs := out.ResourceRecordSets[0]
	if aws.ToString(rs.Name) != fqdn || rs.Type != r.rrType() || rs.SetIdentifier != nil {
		return zone, fqdn, nil, nil
	}
	return zone, fqdn, &rs, nil
}

// recordValues are a record set's values, sorted; an alias's target is its one value.
func recordValues(rs *r53types.ResourceRecordSet) []string {
	if rs == nil {
		return []string{}
	}
	if rs.AliasTarget != nil {
		return []string{"ALIAS " + aws.ToString(rs.AliasTarget.DNSName)}
	}
	out := make([]string, len(rs.ResourceRecords))
	for i, rr := range rs.ResourceRecords {
		out[i] = aws.ToString(rr.Value)
	}
	sort.Strings(out)
	return out
}

// ---- route53.get

// route53Get reads one record set.
type route53Get struct {
	Zone    string `flow:"zone" doc:"The hosted zone's name, e.g. local. (the trailing dot is optional); or set zone_id."`
	ZoneID  string `flow:"zone_id" doc:"The hosted zone's id (Z0123..., with or without /hostedzone/); or set zone."`
	Private *bool  `flow:"private" doc:"With zone: true picks only private zones, false only public ones; unset, either. With zone_id: the zone must be private (true) or public (false)."`
	VPC     string `flow:"vpc" doc:"With zone: pick only the private zone associated with this VPC (vpc-...)."`
	Name    string `flow:"name,required" doc:"The record's name: relative to the zone (acme) or fully qualified (acme.local.)."`
	Type    string `flow:"type" default:"A" doc:"The record type: A, AAAA, CNAME, TXT, ..."`
}

func (s *route53Get) ref() *recordRef {
	return &recordRef{Zone: s.Zone, ZoneID: s.ZoneID, Private: s.Private, VPC: s.VPC, Name: s.Name, Type: s.Type}
}

type route53Record struct {
	Exists bool     `flow:"exists" doc:"Whether the record set exists."`
	Values []string `flow:"values" doc:"Its values, sorted; empty when it does not exist."`
	TTL    int      `flow:"ttl" doc:"Its time to live, in seconds; 0 when it does not exist."`
	FQDN   string   `flow:"fqdn" doc:"The record's fully qualified name, with the trailing dot."`
	ZoneID string   `flow:"zone_id" doc:"The zone's id (without /hostedzone/)."`
}

func (*route53Get) Info() Info {
	return Info{
		Name: "route53.get",
		Doc: "Read one Route 53 record set, read-only: the zone is found as route53.upsert finds it (by name, or by id), " +
			"then ListResourceRecordSets. A record that does not exist is not an error: exists is false.",
		New:      func() Step { return new(route53Get) },
		Output:   route53Record{},
		ReadOnly: true,
	}
}

func (s *route53Get) Validate() error { return s.ref().validate() }

func (s *route53Get) Plan(rt *engine.Runtime, known Known) []string {
	r := s.ref()
	lines, fqdn := r.zoneLines(known)
	return append(lines, fmt.Sprintf("route53:ListResourceRecordSets %s %s (MaxItems 1)", fqdn, r.rrType()))
}

func (s *route53Get) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := route53Client(ctx)
	if err != nil {
		return nil, err
	}
	zone, fqdn, rs, err := s.ref().read(ctx, rt, c)
	if err != nil {
		return nil, err
	}
	res := route53Record{Exists: rs != nil, Values: recordValues(rs), FQDN: fqdn, ZoneID: zone.id}
	if rs != nil {
		res.TTL = int(aws.ToInt64(rs.TTL))
	}
	return res, nil
}

// ---- route53.delete

// route53Delete deletes one record set when it points where it is expected to.
type route53Delete struct {
	Zone    string   `flow:"zone" doc:"The hosted zone's name, e.g. local. (the trailing dot is optional); or set zone_id."`
	ZoneID  string   `flow:"zone_id" doc:"The hosted zone's id (Z0123..., with or without /hostedzone/); or set zone."`
	Private *bool    `flow:"private" doc:"With zone: true picks only private zones, false only public ones; unset, either. With zone_id: the zone must be private (true) or public (false)."`
	VPC     string   `flow:"vpc" doc:"With zone: pick only the private zone associated with this VPC (vpc-...)."`
	Name    string   `flow:"name,required" doc:"The record's name: relative to the zone (acme) or fully qualified (acme.local.)."`
	Type    string   `flow:"type" default:"A" doc:"The record type: A, AAAA, CNAME, TXT, ..."`
	Values  []string `flow:"values,required" doc:"What the record may point at, e.g. the client's instances' private IPs: it is deleted only when every value it holds is one of these; otherwise it is left as it is."`
	Wait    bool     `flow:"wait" default:"true" doc:"Wait until Route 53 reports the change INSYNC (GetChange)."`
}

type route53Deleted struct {
	Deleted  bool     `flow:"deleted" doc:"Whether the record set was deleted."`
	Found    []string `flow:"found" doc:"The values the record held, sorted; empty when there was no record."`
	Reason   string   `flow:"reason" doc:"Why nothing was deleted: no record, or it points elsewhere; empty when deleted."`
	ChangeID string   `flow:"change_id" doc:"The Route 53 change's id; empty when nothing was deleted."`
	FQDN     string   `flow:"fqdn" doc:"The record's fully qualified name, with the trailing dot."`
	ZoneID   string   `flow:"zone_id" doc:"The zone's id (without /hostedzone/)."`
}

func (s *route53Delete) ref() *recordRef {
	return &recordRef{Zone: s.Zone, ZoneID: s.ZoneID, Private: s.Private, VPC: s.VPC, Name: s.Name, Type: s.Type}
}

func (*route53Delete) Info() Info {
	return Info{
		Name: "route53.delete",
		Doc: "Delete one Route 53 record set, but only when it points where values say (e.g. at the client's instance): " +
			"the zone is found as route53.upsert finds it, the record is read (ListResourceRecordSets) and, if every value " +
			"it holds is one of values, deleted with ChangeResourceRecordSets DELETE of exactly what was read, then, with " +
			"wait, GetChange until INSYNC. No record, or one that points elsewhere (changed by hand, or taken over by " +
			"another instance), is left as it is: a no-op that says why. The zone is never deleted.",
		New:    func() Step { return new(route53Delete) },
		Output: route53Deleted{},
	}
}

func (s *route53Delete) Validate() error { return s.ref().validate() }

func (s *route53Delete) Plan(rt *engine.Runtime, known Known) []string {
	r := s.ref()
	lines, fqdn := r.zoneLines(known)
	return append(lines,
		fmt.Sprintf("route53:ListResourceRecordSets %s %s (MaxItems 1)", fqdn, r.rrType()),
		fmt.Sprintf("route53:ChangeResourceRecordSets DELETE %s %s, only if it points at nothing but %s", fqdn, r.rrType(), s.planValues(known)))
}

// planValues are the values a record may hold to be deleted, for a plan.
func (s *route53Delete) planValues(known Known) string {
	if !known.Input("values") {
		return "the values a run computes"
	}
	return "[" + strings.Join(s.Values, " ") + "]"
}

// left says why the record set rs, read as fqdn (nil: there is none), is not to be deleted; ""
// means it is: every value it holds is one of s.Values.
func (s *route53Delete) left(fqdn string, rs *r53types.ResourceRecordSet) string {
	r := s.ref()
	if rs == nil {
		return fmt.Sprintf("no %s record %s", r.rrType(), fqdn)
	}
	allowed := map[string]bool{}
	for _, v := range s.Values {
		allowed[recordKey(r.rrType(), v)] = true
	}
	found := recordValues(rs)
	for _, v := range found {
		if rs.AliasTarget != nil || !allowed[recordKey(r.rrType(), v)] {
			if len(s.Values) == 0 {
				return fmt.Sprintf("%s points at %s, and nothing may be deleted (values is empty): left as it is", fqdn, strings.Join(found, " "))
			}
			return fmt.Sprintf("%s points at %s, not only at %s: left as it is", fqdn, strings.Join(found, " "), strings.Join(s.Values, " "))
		}
	}
	return ""
}

// Preview reads the zone and the record as Run does and names the record set Run would delete
// (name, type, TTL, values, zone), or says why it would leave it.
func (s *route53Delete) Preview(ctx context.Context, rt *engine.Runtime) ([]string, error) {
	c, err := route53Client(ctx)
	if err != nil {
		return nil, err
	}
	r := s.ref()
	zone, fqdn, rs, err := r.read(ctx, rt, c)
	if err != nil {
		return nil, err
	}
	lines, _ := r.zoneLines(Known{})
	in := fmt.Sprintf("in zone %s (%s)", zone.id, zone.name)
	lines = append(lines, fmt.Sprintf("route53:ListResourceRecordSets %s %s %s (MaxItems 1)", fqdn, r.rrType(), in))
	if why := s.left(fqdn, rs); why != "" {
		return append(lines, "nothing to delete: "+why), nil
	}
	what := fmt.Sprintf("%s %s", fqdn, rs.Type)
	if rs.TTL != nil {
		what += fmt.Sprintf(" %d", aws.ToInt64(rs.TTL))
	}
	lines = append(lines, fmt.Sprintf("route53:ChangeResourceRecordSets DELETE %s [%s] %s", what, strings.Join(recordValues(rs), " "), in))
	if s.Wait {
		lines = append(lines, "route53:GetChange until INSYNC")
	}
	return lines, nil
}

func (s *route53Delete) Run(ctx context.Context, rt *engine.Runtime) (any, error) {
	c, err := route53Client(ctx)
	if err != nil {
		return nil, err
	}
	r := s.ref()
	zone, fqdn, rs, err := r.read(ctx, rt, c)
	if err != nil {
		return nil, err
	}
	res := route53Deleted{Found: recordValues(rs), FQDN: fqdn, ZoneID: zone.id}
	if res.Reason = s.left(fqdn, rs); res.Reason != "" {
		return res, nil
	}
	out, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone.id),
		ChangeBatch: &r53types.ChangeBatch{
			Comment: aws.String(changeComment(rt)),
			Changes: []r53types.Change{{Action: r53types.ChangeActionDelete, ResourceRecordSet: rs}},
		},
	})
	if err != nil {
		if awsCode(err) == "InvalidChangeBatch" {
			return nil, awsFail(rt, err, "ChangeResourceRecordSets DELETE %s %s in zone %s (it changed since it was read: run again)", fqdn, r.rrType(), zone.id)
		}
		return nil, awsFail(rt, err, "ChangeResourceRecordSets DELETE %s %s in zone %s", fqdn, r.rrType(), zone.id)
	}
	res.Deleted = true
	if out.ChangeInfo != nil {
		res.ChangeID = bareID(aws.ToString(out.ChangeInfo.Id))
		if s.Wait && out.ChangeInfo.Status != r53types.ChangeStatusInsync && res.ChangeID != "" {
			if err := waitInsync(ctx, rt, c, res.ChangeID); err != nil {
				return nil, awsFail(rt, err, "change %s (DELETE %s %s) was made, but waiting for it to be INSYNC failed", res.ChangeID, fqdn, r.rrType())
			}
		}
	}
	return res, nil
}

var (
	_ Step      = (*route53Get)(nil)
	_ Validator = (*route53Get)(nil)
	_ Planner   = (*route53Get)(nil)
	_ Step      = (*route53Delete)(nil)
	_ Validator = (*route53Delete)(nil)
	_ Planner   = (*route53Delete)(nil)
	_ Previewer = (*route53Delete)(nil)
)
