package route53

import (
	"encoding/xml"
	"net/http"

	"github.com/flow-infra/flow/emulator/internal/iam"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// Access returns what IAM authorizes the request as: route53:<Operation> (the operation route
// matches) on the resource AWS's service authorization reference gives it: the hosted zone,
// arn:aws:route53:::hostedzone/ID, for the operations on one zone (the VPC association
// authorizations included); arn:aws:route53:::change/ID for GetChange; "*" for those on no zone
// (CreateHostedZone, ListHostedZones, ListHostedZonesByName, ListHostedZonesByVPC). Creating a
// private zone, associating a VPC with one or disassociating it, and listing the zones of a VPC
// also need ec2:DescribeVpcs (on "*"), as AWS lists it among the dependent actions of
// CreateHostedZone, AssociateVPCWithHostedZone, DisassociateVPCFromHostedZone and
// ListHostedZonesByVPC. Route 53 is global: its ARNs name no region and no account.
func (s *Service) Access(r *http.Request, body []byte, _ string) []iam.Request {
	op, _ := s.route(nil, r)
	if op == "" {
		return nil // not an operation: route answers NotImplemented
	}
	action := "route53:" + op
	segs, _ := pathSegments(r.URL)
	switch {
	case op == "GetChange":
		return []iam.Request{{Action: action, Resource: "arn:aws:route53:::change/" + stripPrefix(segs[1])}}
	case op == "AssociateVPCWithHostedZone" || op == "DisassociateVPCFromHostedZone":
		return []iam.Request{
			{Action: action, Resource: "arn:aws:route53:::hostedzone/" + stripPrefix(segs[1])},
			{Action: "ec2:DescribeVpcs", Resource: "*"},
		}
	case op == "ListHostedZonesByVPC":
		return []iam.Request{{Action: action, Resource: "*"}, {Action: "ec2:DescribeVpcs", Resource: "*"}}
	case len(segs) >= 2 && segs[0] == "hostedzone":
		return []iam.Request{{Action: action, Resource: "arn:aws:route53:::hostedzone/" + stripPrefix(segs[1])}}
	case op == "CreateHostedZone":
		reqs := []iam.Request{{Action: action, Resource: "*"}}
		var in xmlCreateHostedZoneRequest
		if xml.Unmarshal(body, &in) == nil && in.VPC != nil {
			reqs = append(reqs, iam.Request{Action: "ec2:DescribeVpcs", Resource: "*"})
		}
		return reqs
	}
	return []iam.Request{{Action: action, Resource: "*"}}
}

// WriteDenied answers r with AccessDenied (HTTP 403) in Route 53's error shape, with message.
func (s *Service) WriteDenied(w http.ResponseWriter, r *http.Request, message string) {
	writeError(w, r, &wire.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: message})
}
