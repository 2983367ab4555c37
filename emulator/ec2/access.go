package ec2

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/flow-infra/flow/emulator/internal/iam"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// accessOf is what IAM evaluates an action of the dispatch table (see actions) as, beyond
// ec2:<Action> on "*": the actions with resource-level permissions, on the resources AWS's
// service authorization reference lists for them. Describe* actions support none, so they are
// evaluated on "*".
func (s *Service) accessOf(action string) func(ctx context.Context, p params, a arns) []iam.Request {
	switch action {
	case "RunInstances":
		return s.runAccess
	case "StopInstances", "StartInstances", "TerminateInstances", "DescribeInstanceAttribute":
		return func(_ context.Context, p params, a arns) []iam.Request {
			return a.on("ec2:"+action, a.ofIDs(append(p.list("InstanceId"), p.get("InstanceId"))))
		}
	case "CreateTags", "DeleteTags":
		return func(_ context.Context, p params, a arns) []iam.Request {
			return a.on("ec2:"+action, a.ofIDs(p.list("ResourceId")))
		}
	case "DeleteVpc", "DeleteSubnet":
		return func(_ context.Context, p params, a arns) []iam.Request {
			return a.on("ec2:"+action, a.ofIDs([]string{p.get("VpcId"), p.get("SubnetId")}))
		}
	case "CreateImage":
		return func(_ context.Context, p params, a arns) []iam.Request {
			res := append([]string{a.image("*"), a.of("snapshot", "*")}, a.ofIDs([]string{p.get("InstanceId")})...)
			return append(a.on("ec2:CreateImage", res), a.taggedAt("CreateImage", p, "image", "snapshot")...)
		}
	case "RegisterImage":
		return func(_ context.Context, p params, a arns) []iam.Request {
			res := []string{a.image("*")}
			for _, m := range p.structs("BlockDeviceMapping") {
				res = append(res, a.ofIDs([]string{m.get("Ebs.SnapshotId")})...)
			}
			return append(a.on("ec2:RegisterImage", res), a.taggedAt("RegisterImage", p, "image")...)
		}
	case "CopyImage":
		return func(_ context.Context, p params, a arns) []iam.Request {
			source := arns{region: p.get("SourceRegion"), account: a.account}
			res := []string{a.image("*"), a.of("snapshot", "*"), source.image(p.get("SourceImageId"))}
			return append(a.on("ec2:CopyImage", res), a.taggedAt("CopyImage", p, "image", "snapshot")...)
		}
	case "DeregisterImage":
		return func(_ context.Context, p params, a arns) []iam.Request {
			return a.on("ec2:DeregisterImage", a.ofIDs([]string{p.get("ImageId")}))
		}
	case "CreateVpc":
		return func(_ context.Context, p params, a arns) []iam.Request {
			return a.on("ec2:CreateVpc", []string{a.of("vpc", "*")})
		}
	case "CreateSubnet":
		return func(_ context.Context, p params, a arns) []iam.Request {
			return a.on("ec2:CreateSubnet", append([]string{a.of("subnet", "*")}, a.ofIDs([]string{p.get("VpcId")})...))
		}
	}
	return nil
}

// Access returns what IAM authorizes the request as, in region (see accessOf). A request whose
// form cannot be read, or that names no action, is evaluated as nothing: the service refuses it
// before it does anything.
func (s *Service) Access(r *http.Request, body []byte, region string) []iam.Request {
	if target, err := s.all.set.Get(region); err == nil && target != s {
		return target.Access(r, body, region)
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	for k, v := range r.URL.Query() {
		values[k] = append(values[k], v...)
	}
	p := params{values: values}
	action := p.get("Action")
	if _, ok := s.ops[action]; !ok {
		return nil
	}
	a := arns{region: region, account: s.b.account}
	if f := s.accessOf(action); f != nil {
		if reqs := f(r.Context(), p, a); len(reqs) > 0 {
			return reqs
		}
	}
	return []iam.Request{{Action: "ec2:" + action, Resource: "*"}}
}

// runAccess is what RunInstances is authorized as. AWS evaluates ec2:RunInstances on each resource
// a launch uses or makes: the new instance, network interface and volume (instance/*,
// network-interface/*, volume/*), the image, the subnet and each security group the launch gets
// (those of the primary network interface when given there; the default subnet and group when none is named), and the key pair when one is named. Tags at
// launch need ec2:CreateTags on each resource type tagged, with ec2:CreateAction RunInstances; an
// image given as resolve:ssm:NAME needs ssm:GetParameters on that parameter; an instance profile
// needs iam:PassRole on its role, which the emulator, having no IAM, takes to be the role named
// as the profile (as the console names the pair it creates).
func (s *Service) runAccess(ctx context.Context, p params, a arns) []iam.Request {
	res := []string{a.of("instance", "*"), a.of("network-interface", "*"), a.of("volume", "*")}
	ref := p.get("ImageId")
	var extra []iam.Request
	if name, ok := strings.CutPrefix(ref, "resolve:ssm:"); ok {
		extra = append(extra, iam.Request{Action: "ssm:GetParameters", Resource: a.parameter(name)})
	}
	if im, err := s.resolveImage(ctx, ref, s.now()); err == nil {
		res = append(res, a.image(im.ID))
	}
	req := runRequest{SubnetID: p.get("SubnetId"), GroupIDs: p.list("SecurityGroupId"), GroupNames: p.list("SecurityGroup")}
	primaryInterface(p, &req) // its subnet and groups, when given there; a refusal is the action's to answer
	req.AvailabilityZone, _ = zoneParameters(p, "Placement.AvailabilityZone", "Placement.AvailabilityZoneId", s.b.region)
	s.b.doc.View(ctx, func(st *state) error {
		sub, err := s.b.launchSubnet(st, req)
		if err != nil {
			return err
		}
		res = append(res, a.of("subnet", sub.ID))
		groups, err := s.b.launchGroups(st, sub, req)
		for _, g := range groups {
			res = append(res, a.of("security-group", g))
		}
		return err
	})
	if key := p.get("KeyName"); key != "" {
		res = append(res, a.of("key-pair", key))
	}
	reqs := append(a.on("ec2:RunInstances", res), a.taggedAt("RunInstances", p, "instance", "volume", "network-interface")...)
	role := p.get("IamInstanceProfile.Name")
	if arn := p.get("IamInstanceProfile.Arn"); arn != "" {
		role = arn[strings.LastIndexByte(arn, '/')+1:]
	}
	if role != "" {
		reqs = append(reqs, iam.Request{Action: "iam:PassRole", Resource: "arn:aws:iam::" + a.account + ":role/" + role,
			Context: map[string][]string{"iam:PassedToService": {"ec2.amazonaws.com"}}})
	}
	return append(reqs, extra...)
}

// taggedAt is what tagging resources as action creates them needs: ec2:CreateTags on each type
// of kinds that a TagSpecification of p tags, with ec2:CreateAction naming action (EC2 User
// Guide, "Grant permission to tag Amazon EC2 resources during creation").
func (a arns) taggedAt(action string, p params, kinds ...string) []iam.Request {
	var out []iam.Request
	tagged := map[string]bool{}
	for _, spec := range p.structs("TagSpecification") {
		t := spec.get("ResourceType")
		if tagged[t] || !slices.Contains(kinds, t) {
			continue
		}
		tagged[t] = true
		res := a.of(t, "*")
		if t == "image" {
			res = a.image("*")
		}
		out = append(out, iam.Request{Action: "ec2:CreateTags", Resource: res,
			Context: map[string][]string{"ec2:CreateAction": {action}}})
	}
	return out
}

// image is the ARN of an image: images name no account.
func (a arns) image(id string) string { return "arn:aws:ec2:" + a.region + "::image/" + id }

// arns writes the ARNs of one region's resources.
type arns struct{ region, account string }

// of is the ARN of the resource of that type and id (or "*").
func (a arns) of(typ, id string) string {
	return "arn:aws:ec2:" + a.region + ":" + a.account + ":" + typ + "/" + id
}

// idTypes are the resource types of EC2's ids, by their prefix.
var idTypes = map[string]string{
	"i": "instance", "vpc": "vpc", "subnet": "subnet", "sg": "security-group", "vol": "volume",
	"eni": "network-interface", "ami": "image", "snap": "snapshot",
}

// ofIDs are the ARNs of the resources ids name, in order; empty ids are left out, and an id of
// no known type is evaluated as the action's "*".
func (a arns) ofIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id == "" {
			continue
		}
		prefix, _, _ := strings.Cut(id, "-")
		typ, ok := idTypes[prefix]
		switch {
		case !ok:
			out = append(out, "*")
		case typ == "image":
			out = append(out, a.image(id))
		default:
			out = append(out, a.of(typ, id))
		}
	}
	return out
}

// parameter is the ARN of the SSM parameter a resolve:ssm: image names (AWS's public /aws/
// parameters have no account in theirs).
func (a arns) parameter(name string) string {
	if i := strings.LastIndexByte(name, ':'); i > 0 {
		name = name[:i] // a :version or :label selector
	}
	account := a.account
	if strings.HasPrefix(name, "/aws/") {
		account = ""
	}
	return "arn:aws:ssm:" + a.region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")
}

// on is action on each of resources.
func (a arns) on(action string, resources []string) []iam.Request {
	out := make([]iam.Request, 0, len(resources))
	for _, r := range resources {
		out = append(out, iam.Request{Action: action, Resource: r})
	}
	return out
}

// WriteDenied answers r with UnauthorizedOperation (HTTP 403), EC2's answer to a request IAM does
// not allow: "You are not authorized to perform this operation. " and message.
func (s *Service) WriteDenied(w http.ResponseWriter, r *http.Request, message string) {
	writeError(w, r, &wire.Error{Code: "UnauthorizedOperation", Status: http.StatusForbidden,
		Message: "You are not authorized to perform this operation. " + message})
}
