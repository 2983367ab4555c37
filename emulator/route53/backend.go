package route53

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/internal/store"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// state is the whole emulated Route 53: the store document "route53".
type state struct {
	ZoneSeq   uint64                 `json:"zoneSeq"`
	ChangeSeq uint64                 `json:"changeSeq"`
	Zones     map[string]*hostedZone `json:"zones"` // by id, without "/hostedzone/"
	// CallerReferences maps every CallerReference ever used to the zone it created. AWS keeps a
	// reference after its zone is deleted: it can never be used again.
	CallerReferences map[string]string `json:"callerReferences"`
	Changes          []changeRecord    `json:"changes"` // oldest first, at most maxChanges
}

// GetChange remembers every change of the last changeMemory, and at least the last minChanges,
// but never more than maxChanges (the state is rewritten whole at every change, so it must stay
// small); a change forgotten answers NoSuchChange. An hour outlasts any wait for INSYNC, so a
// fleet's boots that wait behind a thousand newer changes still find theirs.
const (
	changeMemory = time.Hour
	minChanges   = 100
	maxChanges   = 10000
)

type hostedZone struct {
	ID              string `json:"id"`
	Name            string `json:"name"` // canonical, with the trailing dot
	CallerReference string `json:"callerReference"`
	Comment         string `json:"comment,omitempty"`
	Private         bool   `json:"private"`
	VPCs            []vpc  `json:"vpcs,omitempty"`
	// Authorizations are the VPCs CreateVPCAssociationAuthorization authorized, in
	// compareVPCs order.
	Authorizations []vpc       `json:"authorizations,omitempty"`
	NameServers    []string    `json:"nameServers,omitempty"` // the delegation set of a public zone
	Records        []recordSet `json:"records"`               // in ListResourceRecordSets order
}

type vpc struct {
	ID     string `json:"id"`
	Region string `json:"region"`
}

// recordSet is one resource record set. Name is canonical once stored.
type recordSet struct {
	Name             string       `json:"name"`
	Type             string       `json:"type"`
	SetIdentifier    string       `json:"setIdentifier,omitempty"`
	Weight           *int64       `json:"weight,omitempty"`
	Region           string       `json:"region,omitempty"`
	Failover         string       `json:"failover,omitempty"`
	MultiValueAnswer *bool        `json:"multiValueAnswer,omitempty"`
	TTL              *int64       `json:"ttl,omitempty"`
	Values           []string     `json:"values,omitempty"`
	Alias            *aliasTarget `json:"alias,omitempty"`
	HealthCheckID    string       `json:"healthCheckId,omitempty"`
}

type aliasTarget struct {
	HostedZoneID         string `json:"hostedZoneId"`
	DNSName              string `json:"dnsName"`
	EvaluateTargetHealth bool   `json:"evaluateTargetHealth"`
}

type changeRecord struct {
	ID          string    `json:"id"` // without "/change/"
	SubmittedAt time.Time `json:"submittedAt"`
	Comment     string    `json:"comment,omitempty"`
}

// changeInfo is a change as the API reports it.
type changeInfo struct {
	ID          string
	Status      string // PENDING | INSYNC
	SubmittedAt time.Time
	Comment     string
}

// zoneSummary is a hosted zone without its records, as the zone operations answer it.
type zoneSummary struct {
	ID, Name, CallerReference, Comment string
	Private                            bool
	VPCs                               []vpc
	NameServers                        []string
	RecordCount                        int
}

func (z *hostedZone) summary() zoneSummary {
	return zoneSummary{
		ID: z.ID, Name: z.Name, CallerReference: z.CallerReference, Comment: z.Comment,
		Private: z.Private, VPCs: slices.Clone(z.VPCs), NameServers: slices.Clone(z.NameServers),
		RecordCount: len(z.Records),
	}
}

// backend is the emulated Route 53 behind the wire: hosted zones and their record sets, with
// AWS's rules. Its errors are *wire.Error values carrying AWS's code and message; any other error
// is a failure of the emulator itself.
type backend struct {
	doc         *store.Doc[state]
	ids         wire.IDs
	now         func() time.Time
	vpcs        VPCs
	changeDelay time.Duration
}

// createZone is what CreateHostedZone asks for.
type createZone struct {
	Name            string
	CallerReference string
	Comment         string
	PrivateZone     bool
	VPC             *vpc // nil for a public zone
	DelegationSetID string
}

// createHostedZone creates a zone with its NS and SOA records. It returns HostedZoneAlreadyExists
// when the CallerReference was used before (whatever the other parameters, and even if that zone
// was deleted since), InvalidDomainName for a malformed name, InvalidInput for a private zone
// without a complete VPC, InvalidVPCId when the VPC does not exist in its VPCRegion, ConflictingDomainExists
// when a private zone of that name is already associated with that VPC, and
// NoSuchDelegationSet for a DelegationSetId (the emulator has no reusable delegation sets).
func (b *backend) createHostedZone(ctx context.Context, in createZone) (zoneSummary, changeInfo, error) {
	name, err := canonicalName(in.Name)
	if err != nil {
		return zoneSummary{}, changeInfo{}, errorf(codeInvalidDomainName, "%s is not a valid domain name: %s", in.Name, err)
	}
	if in.CallerReference == "" {
		return zoneSummary{}, changeInfo{}, errorf(codeInvalidInput, "Invalid request: CallerReference is required")
	}
	if in.DelegationSetID != "" {
		return zoneSummary{}, changeInfo{}, errorf(codeNoSuchDelegationSet, "A reusable delegation set with the specified ID %s does not exist.", in.DelegationSetID)
	}
	private := in.VPC != nil
	if in.VPC != nil && (in.VPC.ID == "" || in.VPC.Region == "") {
		return zoneSummary{}, changeInfo{}, errorf(codeInvalidInput, "Invalid request: a private hosted zone needs both VPCId and VPCRegion")
	}
	if in.PrivateZone && !private {
		return zoneSummary{}, changeInfo{}, errorf(codeInvalidInput, "Invalid request: a private hosted zone (PrivateZone true) needs a VPC with VPCId and VPCRegion")
	}
	if private {
		if err := b.vpcMustExist(ctx, *in.VPC); err != nil {
			return zoneSummary{}, changeInfo{}, err
		}
	}
	var zone zoneSummary
	var info changeInfo
	err = b.doc.Update(ctx, func(st *state) error {
		if _, used := st.CallerReferences[in.CallerReference]; used {
			return errorf(codeHostedZoneAlreadyExists, "A hosted zone has already been created with the specified caller reference.")
		}
		if private {
			for _, other := range st.Zones {
				if other.Private && other.Name == name && slices.Contains(other.VPCs, *in.VPC) {
					return conflictingDomain(*in.VPC, other.ID)
				}
			}
		}
		z := &hostedZone{
			ID:              b.newZoneID(st),
			Name:            name,
			CallerReference: in.CallerReference,
			Comment:         in.Comment,
			Private:         private,
		}
		if private {
			z.VPCs = []vpc{*in.VPC}
		}
		z.NameServers = b.nameServers(st.ZoneSeq, private)
		z.Records = defaultRecords(name, z.NameServers)
		if private {
			z.NameServers = nil // a private zone has no delegation set to show
		}
		st.Zones[z.ID] = z
		st.CallerReferences[in.CallerReference] = z.ID
		zone = z.summary()
		info = b.recordChange(st, "")
		return nil
	})
	return zone, info, err
}

// conflictingDomain is AWS's answer to associating v with a private zone when it is already
// associated with zone, of the same name.
func conflictingDomain(v vpc, zone string) error {
	return errorf(codeConflictingDomainExists, "The VPC %s in region %s has already been associated with the hosted zone %s with the same domain name.", v.ID, v.Region, zone)
}

// vpcMustExist returns InvalidVPCId, in AWS's words, when v is not a VPC of its region (nil VPCs
// accept any).
func (b *backend) vpcMustExist(ctx context.Context, v vpc) error {
	if b.vpcs == nil {
		return nil
	}
	exists, err := b.vpcs.VPCExists(ctx, v.Region, v.ID)
	if err != nil {
		return fmt.Errorf("look up VPC %s: %w", v.ID, err)
	}
	if !exists {
		return errorf(codeInvalidVPCID, "The VPC %s in region %s that you provided is not authorized to make the association.", v.ID, v.Region)
	}
	return nil
}

// maxZoneVPCs is how many VPCs a private zone can be associated with, Route 53's quota.
const maxZoneVPCs = 300

// associateVPC associates v, a VPC in its own region, with the private zone id. It returns
// NoSuchHostedZone when there is no such zone, PublicZoneVPCAssociation for a public zone,
// InvalidVPCId when the VPC does not exist in its region, LimitsExceeded for a zone already
// associated with 300 VPCs, and ConflictingDomainExists when the VPC is already associated with
// a private zone of the same name (this one included).
func (b *backend) associateVPC(ctx context.Context, id string, v vpc, comment string) (changeInfo, error) {
	check := func(st *state) error {
		z, ok := st.Zones[id]
		switch {
		case !ok:
			return noSuchHostedZone(id)
		case !z.Private:
			return errorf(codePublicZoneVPCAssociation, "Attempting to associate public zone: %s with vpc: %s", id, v.ID)
		}
		return nil
	}
	if err := b.doc.View(ctx, check); err != nil {
		return changeInfo{}, err
	}
	if err := b.vpcMustExist(ctx, v); err != nil {
		return changeInfo{}, err
	}
	var info changeInfo
	err := b.doc.Update(ctx, func(st *state) error {
		if err := check(st); err != nil { // the zone may have changed since
			return err
		}
		z := st.Zones[id]
		for _, other := range st.Zones {
			if other.Private && other.Name == z.Name && slices.Contains(other.VPCs, v) {
				return conflictingDomain(v, other.ID)
			}
		}
		if len(z.VPCs) >= maxZoneVPCs {
			return errorf(codeLimitsExceeded, "The private hosted zone %s is already associated with %d VPCs, the most a private hosted zone can be associated with.", id, maxZoneVPCs)
		}
		z.VPCs = append(z.VPCs, v)
		info = b.recordChange(st, comment)
		return nil
	})
	return info, err
}

// disassociateVPC removes v from the VPCs of the private zone id. It returns NoSuchHostedZone
// when there is no such zone, VPCAssociationNotFound when v is not associated with it (a public
// zone has no VPC), and LastVPCAssociation when v is the only VPC left: a private zone always
// has one. Whether the VPC still exists does not matter.
func (b *backend) disassociateVPC(ctx context.Context, id string, v vpc, comment string) (changeInfo, error) {
	var info changeInfo
	err := b.doc.Update(ctx, func(st *state) error {
		z, ok := st.Zones[id]
		if !ok {
			return noSuchHostedZone(id)
		}
		i := slices.Index(z.VPCs, v)
		switch {
		case i < 0:
			return errorf(codeVPCAssociationNotFound, "The specified VPC and hosted zone are not currently associated.")
		case len(z.VPCs) == 1:
			return errorf(codeLastVPCAssociation, "The VPC that you're trying to disassociate from the private hosted zone is the last VPC "+
				"that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone.")
		}
		z.VPCs = slices.Delete(z.VPCs, i, i+1)
		info = b.recordChange(st, comment)
		return nil
	})
	return info, err
}

// newZoneID returns a fresh zone id: "Z" and 20 upper-case letters and digits, like
// Z0102388186KGJ1875CR7.
func (b *backend) newZoneID(st *state) string {
	for {
		st.ZoneSeq++
		id := "Z" + b.ids.Alnum("hostedzone", st.ZoneSeq, 20)
		if _, taken := st.Zones[id]; !taken {
			return id
		}
	}
}

// privateNameServers returns the name servers every private zone's NS record lists.
func privateNameServers() []string {
	return []string{"ns-1536.awsdns-00.co.uk", "ns-0.awsdns-00.com", "ns-1024.awsdns-00.org", "ns-512.awsdns-00.net"}
}

// nameServers picks a delegation set for the seq'th zone. Route 53's name servers are numbered
// 0-2047, a quarter per top-level domain (com, net, org, co.uk), and server N sits in
// awsdns-((N mod 512)/8): ns-738.awsdns-28.net. A zone gets one server in each.
func (b *backend) nameServers(seq uint64, private bool) []string {
	if private {
		return privateNameServers()
	}
	tlds := []string{"com", "net", "org", "co.uk"}
	servers := make([]string, 4)
	for i, tld := range tlds {
		n := b.ids.Int("nameserver", seq*4+uint64(i), 512)
		servers[i] = fmt.Sprintf("ns-%d.awsdns-%02d.%s", 512*i+n, n/8, tld)
	}
	// AWS lists them in no fixed order of top-level domain.
	for i := len(servers) - 1; i > 0; i-- {
		j := b.ids.Int("nameserver-order", seq*4+uint64(i), i+1)
		servers[i], servers[j] = servers[j], servers[i]
	}
	return servers
}

// defaultRecords are the NS and SOA record sets Route 53 creates with a zone.
func defaultRecords(zone string, nameServers []string) []recordSet {
	nsTTL, soaTTL := int64(172800), int64(900)
	values := make([]string, len(nameServers))
	for i, ns := range nameServers {
		values[i] = ns + "."
	}
	return []recordSet{
		{Name: zone, Type: "NS", TTL: &nsTTL, Values: values},
		{Name: zone, Type: "SOA", TTL: &soaTTL, Values: []string{nameServers[0] + ". awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
	}
}

// recordChange notes a new change in st and returns it as submitted: PENDING, as AWS always
// answers a change at first.
func (b *backend) recordChange(st *state, comment string) changeInfo {
	st.ChangeSeq++
	c := changeRecord{ID: "C" + b.ids.Alnum("change", st.ChangeSeq, 20), SubmittedAt: b.now().UTC(), Comment: comment}
	st.Changes = append(st.Changes, c)
	forget := max(len(st.Changes)-maxChanges, 0)
	for forget < len(st.Changes)-minChanges && c.SubmittedAt.Sub(st.Changes[forget].SubmittedAt) > changeMemory {
		forget++
	}
	st.Changes = slices.Delete(st.Changes, 0, forget)
	return changeInfo{ID: c.ID, Status: "PENDING", SubmittedAt: c.SubmittedAt, Comment: c.Comment}
}

// hostedZone returns the zone with that id. It returns NoSuchHostedZone when there is none.
func (b *backend) hostedZone(ctx context.Context, id string) (zoneSummary, error) {
	var zone zoneSummary
	err := b.doc.View(ctx, func(st *state) error {
		z, ok := st.Zones[id]
		if !ok {
			return noSuchHostedZone(id)
		}
		zone = z.summary()
		return nil
	})
	return zone, err
}

// listHostedZones returns up to max zones in order of id, starting with the zone whose id is
// marker (or the first one after it, if it was deleted), and the id of the next zone when there
// are more. privateOnly keeps private zones only.
func (b *backend) listHostedZones(ctx context.Context, marker string, max int, privateOnly bool) (zones []zoneSummary, next string, err error) {
	return b.zonePage(ctx, marker, max, func(z *hostedZone) bool { return !privateOnly || z.Private })
}

// zonePage returns up to max of the zones that keep takes, in order of id, from the first whose
// id is at least start, and the id of the next one when there are more.
func (b *backend) zonePage(ctx context.Context, start string, max int, keep func(*hostedZone) bool) (zones []zoneSummary, next string, err error) {
	err = b.doc.View(ctx, func(st *state) error {
		var all []*hostedZone
		for _, z := range st.Zones {
			if z.ID >= start && keep(z) {
				all = append(all, z)
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
		for i, z := range all {
			if i == max {
				next = z.ID
				break
			}
			zones = append(zones, z.summary())
		}
		return nil
	})
	return zones, next, err
}

// listHostedZonesByName returns up to max zones in Route 53's name order (labels reversed, then
// id), starting at the first zone whose name is at least dnsName (and, at that name, whose id is
// at least zoneID), with the name and id of the next zone when there are more. It returns
// InvalidInput for a zoneID without a dnsName and InvalidDomainName for a malformed dnsName.
func (b *backend) listHostedZonesByName(ctx context.Context, dnsName, zoneID string, max int) (zones []zoneSummary, nextName, nextID string, err error) {
	if zoneID != "" && dnsName == "" {
		return nil, "", "", errorf(codeInvalidInput, "Invalid request: hostedzoneid requires dnsname")
	}
	startKey := ""
	if dnsName != "" {
		name, err := canonicalName(dnsName)
		if err != nil {
			return nil, "", "", errorf(codeInvalidDomainName, "%s is not a valid domain name: %s", dnsName, err)
		}
		startKey = sortKey(name)
	}
	err = b.doc.View(ctx, func(st *state) error {
		var all []*hostedZone
		for _, z := range st.Zones {
			k := sortKey(z.Name)
			if k > startKey || (k == startKey && z.ID >= zoneID) {
				all = append(all, z)
			}
		}
		sort.Slice(all, func(i, j int) bool {
			ki, kj := sortKey(all[i].Name), sortKey(all[j].Name)
			if ki != kj {
				return ki < kj
			}
			return all[i].ID < all[j].ID
		})
		for i, z := range all {
			if i == max {
				nextName, nextID = z.Name, z.ID
				break
			}
			zones = append(zones, z.summary())
		}
		return nil
	})
	return zones, nextName, nextID, err
}

// deleteHostedZone deletes the zone. It returns NoSuchHostedZone when there is none and
// HostedZoneNotEmpty when the zone holds anything but its apex NS and SOA record sets.
func (b *backend) deleteHostedZone(ctx context.Context, id string) (changeInfo, error) {
	var info changeInfo
	err := b.doc.Update(ctx, func(st *state) error {
		z, ok := st.Zones[id]
		if !ok {
			return noSuchHostedZone(id)
		}
		for _, r := range z.Records {
			if r.Name != z.Name || (r.Type != "NS" && r.Type != "SOA") {
				return errorf(codeHostedZoneNotEmpty, "The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
			}
		}
		delete(st.Zones, id)
		info = b.recordChange(st, "")
		return nil
	})
	return info, err
}

// change returns the change with that id: INSYNC, or PENDING while the configured delay since it
// was submitted has not passed. It returns NoSuchChange when there is none.
func (b *backend) change(ctx context.Context, id string) (changeInfo, error) {
	var info changeInfo
	err := b.doc.View(ctx, func(st *state) error {
		for _, c := range st.Changes {
			if c.ID == id {
				status := "INSYNC"
				if b.changeDelay > 0 && b.now().Before(c.SubmittedAt.Add(b.changeDelay)) {
					status = "PENDING"
				}
				info = changeInfo{ID: c.ID, Status: status, SubmittedAt: c.SubmittedAt, Comment: c.Comment}
				return nil
			}
		}
		return errorf(codeNoSuchChange, "A change with the specified change ID %s does not exist.", id)
	})
	return info, err
}

// recordPosition is where a listing of record sets starts or resumes.
type recordPosition struct {
	Name, Type, SetIdentifier string
}

// listRecordSets returns up to max record sets of the zone in Route 53's order (name with labels
// reversed, then type, then set identifier), from the first one at or after start, and the
// position of the next one when there are more. It returns NoSuchHostedZone when the zone does
// not exist and InvalidInput for a start type without a start name or a malformed start name.
func (b *backend) listRecordSets(ctx context.Context, id string, start recordPosition, max int) (sets []recordSet, next *recordPosition, err error) {
	if start.Type != "" && start.Name == "" {
		return nil, nil, errorf(codeInvalidInput, "The input is not valid: a start record type requires a start record name")
	}
	if start.Name != "" {
		name, err := canonicalName(start.Name)
		if err != nil {
			return nil, nil, errorf(codeInvalidInput, "Invalid request: %s", err)
		}
		start.Name = name
	}
	err = b.doc.View(ctx, func(st *state) error {
		z, ok := st.Zones[id]
		if !ok {
			return noSuchHostedZone(id)
		}
		i := 0
		if start.Name != "" {
			i = sort.Search(len(z.Records), func(i int) bool {
				return !lessPosition(position(z.Records[i]), start)
			})
		}
		for ; i < len(z.Records); i++ {
			if len(sets) == max {
				p := position(z.Records[i])
				next = &p
				break
			}
			sets = append(sets, z.Records[i])
		}
		return nil
	})
	return sets, next, err
}

func position(r recordSet) recordPosition {
	return recordPosition{Name: r.Name, Type: r.Type, SetIdentifier: r.SetIdentifier}
}

// lessPosition orders record sets as ListResourceRecordSets lists them.
func lessPosition(a, b recordPosition) bool {
	if ka, kb := sortKey(a.Name), sortKey(b.Name); ka != kb {
		return ka < kb
	}
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.SetIdentifier < b.SetIdentifier
}

// stripPrefix turns the "/hostedzone/Z123" or "/change/C123" forms of an id into the bare id, as
// the SDKs do before sending it.
func stripPrefix(id string) string {
	return id[strings.LastIndex(id, "/")+1:]
}
