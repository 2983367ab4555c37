package route53

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// The request and response shapes of the operations, as botocore's model
// (data/route53/2013-04-01/service-2.json) and the SDK's deserializers name the elements.

type xmlCreateHostedZoneRequest struct {
	Name             string
	CallerReference  string
	HostedZoneConfig *struct {
		Comment     string
		PrivateZone bool
	}
	VPC *struct {
		VPCRegion string
		VPCId     string
	}
	DelegationSetId string
}

// xmlVPCAssociationRequest is the body of AssociateVPCWithHostedZone,
// DisassociateVPCFromHostedZone, CreateVPCAssociationAuthorization and
// DeleteVPCAssociationAuthorization (which have no Comment).
type xmlVPCAssociationRequest struct {
	VPC *struct {
		VPCRegion string
		VPCId     string
	}
	Comment string
}

type xmlChangeResourceRecordSetsRequest struct {
	Comment string      `xml:"ChangeBatch>Comment"`
	Changes []xmlChange `xml:"ChangeBatch>Changes>Change"`
}

type xmlChange struct {
	Action            string
	ResourceRecordSet *xmlRecordSet
}

// xmlRecordSet is a ResourceRecordSet, in AWS's element order.
type xmlRecordSet struct {
	Name                    string
	Type                    string
	SetIdentifier           string        `xml:",omitempty"`
	Weight                  *int64        `xml:",omitempty"`
	Region                  string        `xml:",omitempty"`
	GeoLocation             *xmlPresence  `xml:",omitempty"`
	Failover                string        `xml:",omitempty"`
	MultiValueAnswer        *bool         `xml:",omitempty"`
	TTL                     *int64        `xml:",omitempty"`
	ResourceRecords         *xmlResources `xml:",omitempty"`
	AliasTarget             *xmlAlias     `xml:",omitempty"`
	HealthCheckId           string        `xml:",omitempty"`
	TrafficPolicyInstanceId string        `xml:",omitempty"`
	CidrRoutingConfig       *xmlPresence  `xml:",omitempty"`
	GeoProximityLocation    *xmlPresence  `xml:",omitempty"`
}

// xmlPresence stands for an element the emulator only notices, to refuse it.
type xmlPresence struct {
	Inner string `xml:",innerxml"`
}

type xmlResources struct {
	Records []xmlResourceRecord `xml:"ResourceRecord"`
}

type xmlResourceRecord struct {
	Value string
}

type xmlAlias struct {
	HostedZoneId         string
	DNSName              string
	EvaluateTargetHealth bool
}

type xmlHostedZone struct {
	Id                     string
	Name                   string
	CallerReference        string
	Config                 xmlZoneConfig
	ResourceRecordSetCount int
}

type xmlZoneConfig struct {
	Comment     string `xml:",omitempty"`
	PrivateZone bool
}

type xmlChangeInfo struct {
	Id          string
	Status      string
	SubmittedAt string
	Comment     string `xml:",omitempty"`
}

type xmlDelegationSet struct {
	NameServers []string `xml:"NameServers>NameServer"`
}

type xmlVPC struct {
	VPCRegion string
	VPCId     string
}

type xmlVPCs struct {
	VPCs []xmlVPC `xml:"VPC"`
}

type xmlHostedZones struct {
	Zones []xmlHostedZone `xml:"HostedZone"`
}

type createHostedZoneResponse struct {
	XMLName       xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateHostedZoneResponse"`
	HostedZone    xmlHostedZone
	ChangeInfo    xmlChangeInfo
	DelegationSet *xmlDelegationSet `xml:",omitempty"`
	VPC           *xmlVPC           `xml:",omitempty"`
}

type getHostedZoneResponse struct {
	XMLName       xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneResponse"`
	HostedZone    xmlHostedZone
	DelegationSet *xmlDelegationSet `xml:",omitempty"`
	VPCs          *xmlVPCs          `xml:",omitempty"`
}

type listHostedZonesResponse struct {
	XMLName     xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesResponse"`
	HostedZones xmlHostedZones
	Marker      string // required by the model: present, empty on the first page
	IsTruncated bool
	NextMarker  string `xml:",omitempty"`
	MaxItems    string
}

type listHostedZonesByNameResponse struct {
	XMLName          xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesByNameResponse"`
	HostedZones      xmlHostedZones
	DNSName          string `xml:",omitempty"`
	HostedZoneId     string `xml:",omitempty"`
	IsTruncated      bool
	NextDNSName      string `xml:",omitempty"`
	NextHostedZoneId string `xml:",omitempty"`
	MaxItems         string
}

type deleteHostedZoneResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ DeleteHostedZoneResponse"`
	ChangeInfo xmlChangeInfo
}

type changeResourceRecordSetsResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ChangeResourceRecordSetsResponse"`
	ChangeInfo xmlChangeInfo
}

type associateVPCWithHostedZoneResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ AssociateVPCWithHostedZoneResponse"`
	ChangeInfo xmlChangeInfo
}

type disassociateVPCFromHostedZoneResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ DisassociateVPCFromHostedZoneResponse"`
	ChangeInfo xmlChangeInfo
}

type listHostedZonesByVPCResponse struct {
	XMLName             xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesByVPCResponse"`
	HostedZoneSummaries xmlHostedZoneSummaries
	MaxItems            string
	NextToken           string `xml:",omitempty"`
}

type xmlHostedZoneSummaries struct {
	Summaries []xmlHostedZoneSummary `xml:"HostedZoneSummary"`
}

// xmlHostedZoneSummary is a zone as ListHostedZonesByVPC lists it: its id bare, without
// "/hostedzone/".
type xmlHostedZoneSummary struct {
	HostedZoneId string
	Name         string
	Owner        struct{ OwningAccount string }
}

type createVPCAssociationAuthorizationResponse struct {
	XMLName      xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateVPCAssociationAuthorizationResponse"`
	HostedZoneId string
	VPC          xmlVPC
}

type deleteVPCAssociationAuthorizationResponse struct {
	XMLName xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ DeleteVPCAssociationAuthorizationResponse"`
}

type listVPCAssociationAuthorizationsResponse struct {
	XMLName      xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListVPCAssociationAuthorizationsResponse"`
	HostedZoneId string
	NextToken    string `xml:",omitempty"`
	VPCs         xmlVPCs
}

type getChangeResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetChangeResponse"`
	ChangeInfo xmlChangeInfo
}

type listResourceRecordSetsResponse struct {
	XMLName              xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListResourceRecordSetsResponse"`
	ResourceRecordSets   xmlRecordSets
	IsTruncated          bool
	NextRecordName       string `xml:",omitempty"`
	NextRecordType       string `xml:",omitempty"`
	NextRecordIdentifier string `xml:",omitempty"`
	MaxItems             string
}

type xmlRecordSets struct {
	Sets []xmlRecordSet `xml:"ResourceRecordSet"`
}

func toXMLZone(z zoneSummary) xmlHostedZone {
	return xmlHostedZone{
		Id:                     "/hostedzone/" + z.ID,
		Name:                   z.Name,
		CallerReference:        z.CallerReference,
		Config:                 xmlZoneConfig{Comment: z.Comment, PrivateZone: z.Private},
		ResourceRecordSetCount: z.RecordCount,
	}
}

func toXMLZones(zones []zoneSummary) xmlHostedZones {
	out := xmlHostedZones{Zones: make([]xmlHostedZone, len(zones))}
	for i, z := range zones {
		out.Zones[i] = toXMLZone(z)
	}
	return out
}

func toXMLChange(c changeInfo) xmlChangeInfo {
	return xmlChangeInfo{
		Id:          "/change/" + c.ID,
		Status:      c.Status,
		SubmittedAt: wire.Timestamp(c.SubmittedAt),
		Comment:     c.Comment,
	}
}

func toXMLRecordSet(r recordSet) xmlRecordSet {
	out := xmlRecordSet{
		Name: r.Name, Type: r.Type, SetIdentifier: r.SetIdentifier, Weight: r.Weight,
		Region: r.Region, Failover: r.Failover, MultiValueAnswer: r.MultiValueAnswer, TTL: r.TTL,
		HealthCheckId: r.HealthCheckID,
	}
	if len(r.Values) > 0 {
		out.ResourceRecords = &xmlResources{Records: make([]xmlResourceRecord, len(r.Values))}
		for i, v := range r.Values {
			out.ResourceRecords.Records[i].Value = v
		}
	}
	if r.Alias != nil {
		out.AliasTarget = &xmlAlias{HostedZoneId: r.Alias.HostedZoneID, DNSName: r.Alias.DNSName, EvaluateTargetHealth: r.Alias.EvaluateTargetHealth}
	}
	return out
}

// fromXMLChange turns a Change into the backend's form, refusing what the emulator does not model
// (traffic policies and geolocation, CIDR or geoproximity routing).
func fromXMLChange(c xmlChange) (change, error) {
	s := c.ResourceRecordSet
	if s == nil {
		return change{}, errorf(codeInvalidInput, `Invalid XML ; cvc-complex-type.2.4.b: The content of element 'Change' is not complete. One of '{"https://route53.amazonaws.com/doc/2013-04-01/":ResourceRecordSet}' is expected.`)
	}
	switch {
	case s.TrafficPolicyInstanceId != "":
		return change{}, errorf(codeInvalidInput, "Invalid request: the emulated Route 53 does not support traffic policy record sets (%s)", s.Name)
	case s.GeoLocation != nil, s.CidrRoutingConfig != nil, s.GeoProximityLocation != nil:
		return change{}, errorf(codeInvalidInput, "Invalid request: the emulated Route 53 does not support geolocation, CIDR or geoproximity routing (%s)", s.Name)
	}
	if i := strings.IndexAny(s.Name, " \t"); i >= 0 {
		// A record name is refused outright, before the batch is looked at, when it holds a
		// space or a tab: Route 53 takes them only escaped (\040, \011).
		return change{}, errorf(codeInvalidInput, "FATAL problem: UnsupportedCharacter (Value contains unsupported characters) encountered with '%c'", s.Name[i])
	}
	set := recordSet{
		Name: s.Name, Type: s.Type, SetIdentifier: s.SetIdentifier, Weight: s.Weight,
		Region: s.Region, Failover: s.Failover, MultiValueAnswer: s.MultiValueAnswer, TTL: s.TTL,
		HealthCheckID: s.HealthCheckId,
	}
	if s.ResourceRecords != nil {
		for _, r := range s.ResourceRecords.Records {
			set.Values = append(set.Values, r.Value)
		}
	}
	if s.AliasTarget != nil {
		set.Alias = &aliasTarget{HostedZoneID: s.AliasTarget.HostedZoneId, DNSName: s.AliasTarget.DNSName, EvaluateTargetHealth: s.AliasTarget.EvaluateTargetHealth}
	}
	return change{Action: c.Action, Set: set}, nil
}

// maxItems reads a maxitems parameter: def when absent, at most limit.
func maxItems(raw string, def, limit int) (int, error) {
	return pageSize("maxitems", raw, def, limit)
}

// pageSize reads the query parameter param, a page's size: def when absent, at most limit.
func pageSize(param, raw string, def, limit int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, errorf(codeInvalidInput, "Invalid request: %s must be a positive integer, not %q", param, raw)
	}
	return min(n, limit), nil
}
