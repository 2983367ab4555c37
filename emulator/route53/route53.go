// Package route53 is the emulated Amazon Route 53 of flow's AWS emulator: hosted zones (public and
// private) and their resource record sets, served over Route 53's REST-XML protocol
// (/2013-04-01/...) so that the real SDK clients and the AWS CLI work against it unchanged and get
// AWS's answers, errors included.
//
// It knows nothing of flow's engine or steps, and nothing of the other emulated services: it asks
// whether a VPC exists through the VPCs interface it is given.
package route53

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/internal/store"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// Options configure a Service.
type Options struct {
	// Dir is the state directory; "" keeps the state in memory.
	Dir string
	// IDs makes zone and change ids (and picks name servers): reproducible with a seed.
	IDs wire.IDs
	// Clock tells the time; nil means time.Now.
	Clock wire.Clock
	// VPCs answers whether a VPC a zone is created with, associated with or authorized for
	// exists; nil accepts any VPC in any region.
	VPCs VPCs
	// AccountID owns every zone (ListHostedZonesByVPC's OwningAccount); "" means
	// wire.DefaultAccountID.
	AccountID string
	// ChangeDelay, when positive, keeps a change PENDING for GetChange until that long after it
	// was submitted (by Clock); otherwise GetChange answers INSYNC at once. Create, delete and
	// change answers always say PENDING, as AWS's do.
	ChangeDelay time.Duration
}

// VPCs is the emulated EC2 as Route 53 sees it. Route 53 is global; a private zone's VPC is
// looked up in its own region.
type VPCs interface {
	// VPCExists reports whether a VPC with that id exists in region; it returns ctx's error
	// when ctx is done before it could tell.
	VPCExists(ctx context.Context, region, id string) (bool, error)
}

// Service is the emulated Route 53: an http.Handler for the /2013-04-01/ API.
type Service struct {
	backend *backend
	doc     *store.Doc[state]
	account string
}

// New opens the Route 53 state in opts.Dir (the document "route53") and returns the service.
func New(opts Options) (*Service, error) {
	doc, err := store.Open(opts.Dir, "route53", func(st *state) {
		st.Zones = map[string]*hostedZone{}
		st.CallerReferences = map[string]string{}
	})
	if err != nil {
		return nil, err
	}
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock
	}
	account := opts.AccountID
	if account == "" {
		account = wire.DefaultAccountID
	}
	return &Service{
		backend: &backend{doc: doc, ids: opts.IDs, now: now, vpcs: opts.VPCs, changeDelay: opts.ChangeDelay},
		doc:     doc,
		account: account,
	}, nil
}

// Close releases the state directory.
func (s *Service) Close() error { return s.doc.Close() }

// WriteFault answers r with an injected fault in Route 53's error shape: wire.Throttle is a 400
// Throttling (which the SDKs' retryers treat as throttling, as they do PriorRequestNotComplete),
// wire.ServerError a 500 InternalFailure.
func (s *Service) WriteFault(w http.ResponseWriter, r *http.Request, f wire.Fault) {
	switch f {
	case wire.Throttle:
		writeError(w, r, errorf(codeThrottling, "Rate exceeded"))
	default:
		writeError(w, r, internalFailure())
	}
}

// maxBody bounds a request body, as the other emulated services do. A change batch within
// Route 53's limits (1,000 records, 32,000 characters of values) is far smaller.
const maxBody = 1 << 20

// ServeHTTP routes a Route 53 API request to its operation.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, run := s.route(w, r)
	wire.RecordOf(r.Context()).Operation = op
	if err := run(); err != nil {
		writeError(w, r, err)
	}
}

// route names the operation a request asks for and returns what answers it. Route 53 is a REST
// API: an operation is a method on a path with ids in it, so it is matched here, not looked up
// by name in a table as EC2's Action and SSM's X-Amz-Target are.
func (s *Service) route(w http.ResponseWriter, r *http.Request) (string, func() error) {
	segs, ok := pathSegments(r.URL)
	if !ok {
		return "", func() error { return notImplemented(r) }
	}
	ctx := r.Context()
	switch {
	case len(segs) == 1 && segs[0] == "hostedzone" && r.Method == http.MethodPost:
		return "CreateHostedZone", func() error { return s.createHostedZone(w, r) }
	case len(segs) == 1 && segs[0] == "hostedzone" && r.Method == http.MethodGet:
		return "ListHostedZones", func() error { return s.listHostedZones(w, r) }
	case len(segs) == 1 && segs[0] == "hostedzonesbyname" && r.Method == http.MethodGet:
		return "ListHostedZonesByName", func() error { return s.listHostedZonesByName(w, r) }
	case len(segs) == 2 && segs[0] == "hostedzone" && r.Method == http.MethodGet:
		return "GetHostedZone", func() error { return s.getHostedZone(ctx, w, stripPrefix(segs[1])) }
	case len(segs) == 2 && segs[0] == "hostedzone" && r.Method == http.MethodDelete:
		return "DeleteHostedZone", func() error { return s.deleteHostedZone(ctx, w, stripPrefix(segs[1])) }
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "rrset" && r.Method == http.MethodPost:
		return "ChangeResourceRecordSets", func() error { return s.changeResourceRecordSets(w, r, stripPrefix(segs[1])) }
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "rrset" && r.Method == http.MethodGet:
		return "ListResourceRecordSets", func() error { return s.listResourceRecordSets(w, r, stripPrefix(segs[1])) }
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "associatevpc" && r.Method == http.MethodPost:
		return "AssociateVPCWithHostedZone", func() error { return s.changeVPCs(w, r, stripPrefix(segs[1]), true) }
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "disassociatevpc" && r.Method == http.MethodPost:
		return "DisassociateVPCFromHostedZone", func() error { return s.changeVPCs(w, r, stripPrefix(segs[1]), false) }
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "authorizevpcassociation" && r.Method == http.MethodPost:
		return "CreateVPCAssociationAuthorization", func() error { return s.createVPCAssociationAuthorization(w, r, stripPrefix(segs[1])) }
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "authorizevpcassociation" && r.Method == http.MethodGet:
		return "ListVPCAssociationAuthorizations", func() error { return s.listVPCAssociationAuthorizations(w, r, stripPrefix(segs[1])) }
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "deauthorizevpcassociation" && r.Method == http.MethodPost:
		return "DeleteVPCAssociationAuthorization", func() error { return s.deleteVPCAssociationAuthorization(w, r, stripPrefix(segs[1])) }
	case len(segs) == 1 && segs[0] == "hostedzonesbyvpc" && r.Method == http.MethodGet:
		return "ListHostedZonesByVPC", func() error { return s.listHostedZonesByVPC(w, r) }
	case len(segs) == 2 && segs[0] == "change" && r.Method == http.MethodGet:
		return "GetChange", func() error { return s.getChange(ctx, w, stripPrefix(segs[1])) }
	}
	return "", func() error { return notImplemented(r) }
}

func notImplemented(r *http.Request) error {
	return errorf(codeNotImplemented, "The emulated Route 53 does not implement %s %s", r.Method, r.URL.Path)
}

// pathSegments splits the path after /2013-04-01/ into unescaped segments, so that an id sent
// escaped ("%2Fhostedzone%2FZ123") stays one segment. A trailing slash is ignored (botocore
// writes ".../rrset/", the Go SDK ".../rrset").
func pathSegments(u *url.URL) ([]string, bool) {
	rest, ok := strings.CutPrefix(u.EscapedPath(), "/2013-04-01/")
	if !ok {
		return nil, false
	}
	rest = strings.TrimSuffix(rest, "/")
	var segs []string
	for _, raw := range strings.Split(rest, "/") {
		seg, err := url.PathUnescape(raw)
		if err != nil || seg == "" {
			return nil, false
		}
		segs = append(segs, seg)
	}
	return segs, true
}

// readXML decodes the request body into v, answering AWS's InvalidInput for malformed XML.
func readXML(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	if len(body) > maxBody {
		return errorf(codeInvalidInput, "Invalid request: the request body is larger than %d bytes", maxBody)
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return errorf(codeInvalidInput, "Invalid XML ; %s", err)
	}
	return nil
}

// writeXML answers with v as Route 53 does.
func writeXML(w http.ResponseWriter, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", wire.RequestID())
	w.WriteHeader(status)
	w.Write([]byte(xmlDeclaration))
	w.Write(body)
	return nil
}

func (s *Service) createHostedZone(w http.ResponseWriter, r *http.Request) error {
	var req xmlCreateHostedZoneRequest
	if err := readXML(r, &req); err != nil {
		return err
	}
	in := createZone{Name: req.Name, CallerReference: req.CallerReference, DelegationSetID: stripPrefix(req.DelegationSetId)}
	if req.Name == "" {
		return errorf(codeInvalidInput, "Invalid request: Name is required")
	}
	if c := req.HostedZoneConfig; c != nil {
		in.Comment, in.PrivateZone = c.Comment, c.PrivateZone
	}
	if v := req.VPC; v != nil {
		in.VPC = &vpc{ID: v.VPCId, Region: v.VPCRegion}
	}
	zone, info, err := s.backend.createHostedZone(r.Context(), in)
	if err != nil {
		return err
	}
	resp := createHostedZoneResponse{HostedZone: toXMLZone(zone), ChangeInfo: toXMLChange(info)}
	if zone.Private {
		resp.VPC = &xmlVPC{VPCRegion: zone.VPCs[0].Region, VPCId: zone.VPCs[0].ID}
	} else {
		resp.DelegationSet = &xmlDelegationSet{NameServers: zone.NameServers}
	}
	w.Header().Set("Location", "https://route53.amazonaws.com/2013-04-01/hostedzone/"+zone.ID)
	return writeXML(w, http.StatusCreated, resp)
}

func (s *Service) getHostedZone(ctx context.Context, w http.ResponseWriter, id string) error {
	zone, err := s.backend.hostedZone(ctx, id)
	if err != nil {
		return err
	}
	resp := getHostedZoneResponse{HostedZone: toXMLZone(zone)}
	if zone.Private {
		resp.VPCs = &xmlVPCs{}
		for _, v := range zone.VPCs {
			resp.VPCs.VPCs = append(resp.VPCs.VPCs, xmlVPC{VPCRegion: v.Region, VPCId: v.ID})
		}
	} else {
		resp.DelegationSet = &xmlDelegationSet{NameServers: zone.NameServers}
	}
	return writeXML(w, http.StatusOK, resp)
}

func (s *Service) listHostedZones(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	max, err := maxItems(q.Get("maxitems"), 100, 100)
	if err != nil {
		return err
	}
	if id := q.Get("delegationsetid"); id != "" {
		return errorf(codeNoSuchDelegationSet, "A reusable delegation set with the specified ID %s does not exist.", stripPrefix(id))
	}
	privateOnly := false
	switch t := q.Get("hostedzonetype"); t {
	case "":
	case "PrivateHostedZone":
		privateOnly = true
	default:
		return errorf(codeInvalidInput, "Invalid request: hostedzonetype must be PrivateHostedZone, not %q", t)
	}
	marker := stripPrefix(q.Get("marker"))
	zones, next, err := s.backend.listHostedZones(r.Context(), marker, max, privateOnly)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, listHostedZonesResponse{
		HostedZones: toXMLZones(zones),
		Marker:      marker,
		IsTruncated: next != "",
		NextMarker:  next,
		MaxItems:    echoMaxItems(q.Get("maxitems"), 100),
	})
}

func (s *Service) listHostedZonesByName(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	max, err := maxItems(q.Get("maxitems"), 100, 100)
	if err != nil {
		return err
	}
	dnsName, zoneID := q.Get("dnsname"), stripPrefix(q.Get("hostedzoneid"))
	zones, nextName, nextID, err := s.backend.listHostedZonesByName(r.Context(), dnsName, zoneID, max)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, listHostedZonesByNameResponse{
		HostedZones:      toXMLZones(zones),
		DNSName:          dnsName,
		HostedZoneId:     zoneID,
		IsTruncated:      nextID != "",
		NextDNSName:      nextName,
		NextHostedZoneId: nextID,
		MaxItems:         echoMaxItems(q.Get("maxitems"), 100),
	})
}

func (s *Service) deleteHostedZone(ctx context.Context, w http.ResponseWriter, id string) error {
	info, err := s.backend.deleteHostedZone(ctx, id)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, deleteHostedZoneResponse{ChangeInfo: toXMLChange(info)})
}

func (s *Service) changeResourceRecordSets(w http.ResponseWriter, r *http.Request, id string) error {
	var req xmlChangeResourceRecordSetsRequest
	if err := readXML(r, &req); err != nil {
		return err
	}
	changes := make([]change, len(req.Changes))
	for i, c := range req.Changes {
		ch, err := fromXMLChange(c)
		if err != nil {
			return err
		}
		changes[i] = ch
	}
	info, err := s.backend.changeRecordSets(r.Context(), id, req.Comment, changes)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, changeResourceRecordSetsResponse{ChangeInfo: toXMLChange(info)})
}

func (s *Service) listResourceRecordSets(w http.ResponseWriter, r *http.Request, id string) error {
	q := r.URL.Query()
	max, err := maxItems(q.Get("maxitems"), 300, 300)
	if err != nil {
		return err
	}
	start := recordPosition{Name: q.Get("name"), Type: q.Get("type"), SetIdentifier: q.Get("identifier")}
	sets, next, err := s.backend.listRecordSets(r.Context(), id, start, max)
	if err != nil {
		return err
	}
	resp := listResourceRecordSetsResponse{
		ResourceRecordSets: xmlRecordSets{Sets: make([]xmlRecordSet, len(sets))},
		IsTruncated:        next != nil,
		MaxItems:           echoMaxItems(q.Get("maxitems"), 300),
	}
	for i, set := range sets {
		resp.ResourceRecordSets.Sets[i] = toXMLRecordSet(set)
	}
	if next != nil {
		resp.NextRecordName, resp.NextRecordType, resp.NextRecordIdentifier = next.Name, next.Type, next.SetIdentifier
	}
	return writeXML(w, http.StatusOK, resp)
}

// requestVPC reads the body of a request that names a VPC, and checks the VPC (checkVPC).
func requestVPC(r *http.Request) (vpc, string, error) {
	var req xmlVPCAssociationRequest
	if err := readXML(r, &req); err != nil {
		return vpc{}, "", err
	}
	var v vpc
	if req.VPC != nil {
		v = vpc{ID: req.VPC.VPCId, Region: req.VPC.VPCRegion}
	}
	return v, req.Comment, checkVPC(v)
}

// changeVPCs answers AssociateVPCWithHostedZone (associate true) and
// DisassociateVPCFromHostedZone.
func (s *Service) changeVPCs(w http.ResponseWriter, r *http.Request, id string, associate bool) error {
	v, comment, err := requestVPC(r)
	if err != nil {
		return err
	}
	if !associate {
		info, err := s.backend.disassociateVPC(r.Context(), id, v, comment)
		if err != nil {
			return err
		}
		return writeXML(w, http.StatusOK, disassociateVPCFromHostedZoneResponse{ChangeInfo: toXMLChange(info)})
	}
	info, err := s.backend.associateVPC(r.Context(), id, v, comment)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, associateVPCWithHostedZoneResponse{ChangeInfo: toXMLChange(info)})
}

func (s *Service) createVPCAssociationAuthorization(w http.ResponseWriter, r *http.Request, id string) error {
	v, _, err := requestVPC(r)
	if err != nil {
		return err
	}
	if err := s.backend.authorizeVPC(r.Context(), id, v); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, createVPCAssociationAuthorizationResponse{HostedZoneId: id, VPC: xmlVPC{VPCRegion: v.Region, VPCId: v.ID}})
}

func (s *Service) deleteVPCAssociationAuthorization(w http.ResponseWriter, r *http.Request, id string) error {
	v, _, err := requestVPC(r)
	if err != nil {
		return err
	}
	if err := s.backend.deauthorizeVPC(r.Context(), id, v); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, deleteVPCAssociationAuthorizationResponse{})
}

// listVPCAssociationAuthorizations answers 50 VPCs a page unless asked for fewer (or more, up to
// the 100 a zone can hold); its NextToken names the zone and the next VPC.
func (s *Service) listVPCAssociationAuthorizations(w http.ResponseWriter, r *http.Request, id string) error {
	q := r.URL.Query()
	max, err := pageSize("maxresults", q.Get("maxresults"), 50, maxZoneAuthorizations)
	if err != nil {
		return err
	}
	var start *vpc
	if token := q.Get("nexttoken"); token != "" {
		parts, err := readPageToken(token, 3, id)
		if err != nil {
			return err
		}
		start = &vpc{ID: parts[1], Region: parts[2]}
	}
	vpcs, next, err := s.backend.listAuthorizations(r.Context(), id, start, max)
	if err != nil {
		return err
	}
	resp := listVPCAssociationAuthorizationsResponse{HostedZoneId: id}
	for _, v := range vpcs {
		resp.VPCs.VPCs = append(resp.VPCs.VPCs, xmlVPC{VPCRegion: v.Region, VPCId: v.ID})
	}
	if next != nil {
		resp.NextToken = pageToken(id, next.ID, next.Region)
	}
	return writeXML(w, http.StatusOK, resp)
}

// listHostedZonesByVPC answers up to maxitems zones (100 by default and at most), in order of
// id; its NextToken names the VPC and the next zone.
func (s *Service) listHostedZonesByVPC(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := vpc{ID: q.Get("vpcid"), Region: q.Get("vpcregion")}
	if err := checkVPC(v); err != nil {
		return err
	}
	max, err := maxItems(q.Get("maxitems"), 100, 100)
	if err != nil {
		return err
	}
	start := ""
	if token := q.Get("nexttoken"); token != "" {
		parts, err := readPageToken(token, 3, v.Region, v.ID)
		if err != nil {
			return err
		}
		start = parts[2]
	}
	zones, next, err := s.backend.zonesByVPC(r.Context(), v, start, max)
	if err != nil {
		return err
	}
	resp := listHostedZonesByVPCResponse{MaxItems: echoMaxItems(q.Get("maxitems"), 100)}
	for _, z := range zones {
		summary := xmlHostedZoneSummary{HostedZoneId: z.ID, Name: z.Name}
		summary.Owner.OwningAccount = s.account
		resp.HostedZoneSummaries.Summaries = append(resp.HostedZoneSummaries.Summaries, summary)
	}
	if next != "" {
		resp.NextToken = pageToken(v.Region, v.ID, next)
	}
	return writeXML(w, http.StatusOK, resp)
}

func (s *Service) getChange(ctx context.Context, w http.ResponseWriter, id string) error {
	info, err := s.backend.change(ctx, id)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, getChangeResponse{ChangeInfo: toXMLChange(info)})
}

// echoMaxItems is the MaxItems element of a listing: what the request asked for, or the default.
func echoMaxItems(raw string, def int) string {
	if raw == "" {
		return fmt.Sprint(def)
	}
	return raw
}

var _ wire.Service = (*Service)(nil)
