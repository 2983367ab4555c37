package steps

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"unicode"
)

// This file holds what each step type that calls AWS declares about its IAM permissions (the
// Permissioner of every ec2.*, ssm.* and route53.* type), and the policy document `flow iam`
// builds from them. Instance metadata (imds.get, once: instance) is not IAM-controlled; env.write
// and exec call nothing.

// Permission is one IAM action a step calls and the resources it calls it on, as the ARN
// patterns of an identity-based policy: "arn:aws:ssm:*:*:parameter/clients/acme/*", or "*" for an
// action that supports no resource-level permissions or whose resource only a run knows.
type Permission struct {
	Action    string
	Resources []string
}

// Permissioner is implemented by every step type that calls AWS: the permissions a run of the
// step needs, as precisely as its inputs allow. An input only a run knows (Known says which) is a
// wildcard at its place in an ARN; an action a step calls only in some cases is declared when
// the inputs may lead to it. A test runs each shipped workflow under exactly what its steps
// declare, so a call left out of a declaration fails it.
type Permissioner interface {
	Permissions(known Known) []Permission
}

// Permissions returns what a step of type name needs with args (as a plan resolves them, defaults
// filled in), and whether the type is a Permissioner: one that is not calls no AWS API.
func (r *Registry) Permissions(name string, args map[string]any) ([]Permission, bool) {
	t, ok := r.types[name]
	if !ok {
		return nil, false
	}
	s := t.info.New()
	p, ok := s.(Permissioner)
	if !ok {
		return nil, false
	}
	decodeStruct(reflect.ValueOf(s).Elem(), args, true)
	return p.Permissions(Known{args: args}), true
}

// partial returns a string input for an ARN: as it is when known, else what precedes the first
// expression only a run knows, and a * ("/clients/<inputs.client>/" gives "/clients/*").
func partial(s string, known bool) string {
	if known {
		return s
	}
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[:i]
	}
	return s + "*"
}

// ---- ARNs, with any region and any account: a policy is attached once, wherever it runs

func ec2ARN(typ, id string) string { return "arn:aws:ec2:*:*:" + typ + "/" + id }

// imageARN is an image's: images name no account.
func imageARN(id string) string { return "arn:aws:ec2:*::image/" + id }

// parameterARN is the ARN of the parameter (or path) name; AWS's public /aws/ parameters, which
// name no account, match it too (* matches nothing).
func parameterARN(name string) string {
	return "arn:aws:ssm:*:*:parameter/" + strings.TrimPrefix(name, "/")
}

func zoneARN(id string) string { return "arn:aws:route53:::hostedzone/" + id }

// ---- ec2

func (s *ec2Run) Permissions(known Known) []Permission {
	image := imageARN("*")
	var perms []Permission
	switch {
	case !known.Input("image"):
		perms = append(perms, Permission{"ssm:GetParameters", []string{parameterARN("*")}}) // it may be resolve:ssm:
	case strings.HasPrefix(s.Image, "resolve:ssm:"):
		name := strings.TrimPrefix(s.Image, "resolve:ssm:")
		if i := strings.LastIndexByte(name, ':'); i > 0 {
			name = name[:i] // a :version or :label selector
		}
		perms = append(perms, Permission{"ssm:GetParameters", []string{parameterARN(name)}})
	default:
		image = imageARN(s.Image)
	}
	run := []string{ec2ARN("instance", "*"), ec2ARN("network-interface", "*"), ec2ARN("volume", "*"), image}
	if known.Input("subnet") && s.Subnet != "" {
		run = append(run, ec2ARN("subnet", s.Subnet))
	} else {
		run = append(run, ec2ARN("subnet", "*"))
	}
	if known.Input("security_groups") && len(s.SecurityGroups) > 0 {
		for _, g := range s.SecurityGroups {
			run = append(run, ec2ARN("security-group", g))
		}
	} else {
		run = append(run, ec2ARN("security-group", "*"))
	}
	if !known.Input("key_name") || s.KeyName != "" {
		run = append(run, ec2ARN("key-pair", partial(s.KeyName, known.Input("key_name"))))
	}
	perms = append(perms,
		Permission{"ec2:DescribeInstances", []string{"*"}},
		Permission{"ec2:RunInstances", run})
	if !known.Input("tags", "config_tags") || len(s.Tags)+len(s.ConfigTags) > 0 {
		perms = append(perms, Permission{"ec2:CreateTags", []string{ec2ARN("instance", "*")}})
	}
	if !known.Input("instance_profile") || s.InstanceProfile != "" {
		p := partial(s.InstanceProfile, known.Input("instance_profile"))
		perms = append(perms, Permission{"iam:PassRole", []string{"arn:aws:iam::*:role/" + p[strings.LastIndexByte(p, '/')+1:]}})
	}
	return perms
}

func (s *ec2Describe) Permissions(Known) []Permission {
	return []Permission{{"ec2:DescribeInstances", []string{"*"}}}
}

func (s *ec2List) Permissions(Known) []Permission {
	return []Permission{{"ec2:DescribeInstances", []string{"*"}}}
}

func (s *ec2Tag) Permissions(known Known) []Permission {
	return []Permission{
		{"ec2:DescribeInstances", []string{"*"}},
		{"ec2:CreateTags", []string{ec2ARN("instance", partial(s.InstanceID, known.Input("instance_id")))}},
	}
}

func (s *ec2Terminate) Permissions(known Known) []Permission {
	instances := []string{ec2ARN("instance", "*")}
	if known.Input("instance_ids") && len(s.InstanceIDs) > 0 {
		instances = nil
		for _, id := range s.InstanceIDs {
			instances = append(instances, ec2ARN("instance", id))
		}
	}
	return []Permission{{"ec2:DescribeInstances", []string{"*"}}, {"ec2:TerminateInstances", instances}}
}

// ---- ssm

func (s *ssmPut) Permissions(known Known) []Permission {
	param := []string{parameterARN(partial(s.Name, known.Input("name")))}
	perms := []Permission{{"ssm:PutParameter", param}}
	if !known.Input("overwrite", "description", "key_id") || (s.Overwrite && s.Description == "" && s.KeyID == "") {
		perms = append(perms, Permission{"ssm:GetParameter", param}) // the read that skips an unchanged write
	}
	if !known.Input("key_id") || s.KeyID != "" {
		// A customer managed key: SSM encrypts with it as the caller.
		perms = append(perms, Permission{"kms:Encrypt", []string{keyARN(s.KeyID, known.Input("key_id"))}})
	}
	return perms
}

// keyARN is the KMS key key_id names, as a policy's resource: an ARN as it is, anything else
// (an id, an alias) any key of the account.
func keyARN(id string, known bool) string {
	if known && strings.HasPrefix(id, "arn:") {
		return id
	}
	return "arn:aws:kms:*:*:key/*"
}

func (s *ssmGet) Permissions(known Known) []Permission {
	switch {
	case !known.Input("names") || len(s.Names) > 0:
		var params []string
		for _, n := range s.Names {
			params = append(params, parameterARN(n))
		}
		if !known.Input("names") {
			params = []string{parameterARN("*")}
		}
		return []Permission{{"ssm:GetParameters", params}}
	case !known.Input("path") || s.Path != "":
		return []Permission{{"ssm:GetParametersByPath", []string{parameterARN(partial(s.Path, known.Input("path")))}}}
	}
	return prefixReads(s.Prefix, known.Input("prefix"), "ssm:GetParameters")
}

// prefixReads are the permissions of reading the parameters under prefix as ssm.get, ssm.list
// and ssm.delete do: a hierarchy (/clients/acme/) with GetParametersByPath on its path (AWS
// evaluates it on parameter/clients/acme, the path itself), a plain prefix (acme.) with
// DescribeParameters, which no resource can limit, then read on what begins with it. A prefix
// only a run knows may be either.
func prefixReads(prefix string, known bool, read string) []Permission {
	var perms []Permission
	path, isPath := hierarchy(prefix)
	if !known {
		path, isPath = strings.TrimSuffix(partial(prefix, false), "/"), true
	}
	if isPath {
		perms = append(perms, Permission{"ssm:GetParametersByPath", []string{parameterARN(path)}})
	}
	if !known || !isPath {
		perms = append(perms, Permission{"ssm:DescribeParameters", []string{"*"}})
		if read != "" {
			perms = append(perms, Permission{read, []string{parameterARN(partial(prefix, false))}})
		}
	}
	return perms
}

func (s *ssmList) Permissions(known Known) []Permission {
	return prefixReads(s.Prefix, known.Input("prefix"), "")
}

func (s *ssmDelete) Permissions(known Known) []Permission {
	return prefixReads(s.Prefix, known.Input("prefix"), "ssm:DeleteParameters")
}

// ---- route53

// zonePermissions are the permissions of finding a zone as findZone finds it, and the zone's ARN
// for the calls that follow: an id and a name given are taken as they are; an id alone is read
// (GetHostedZone); a name is looked up (ListHostedZonesByName), and with a VPC each private zone
// of that name read for its VPCs.
func zonePermissions(known Known, zone, zoneID, vpc string) ([]Permission, string) {
	if !known.Input("zone_id") {
		return []Permission{
			{"route53:ListHostedZonesByName", []string{"*"}},
			{"route53:GetHostedZone", []string{zoneARN(partial(bareID(zoneID), false))}},
		}, zoneARN("*")
	}
	if zoneID != "" {
		arn := zoneARN(bareID(zoneID))
		if known.Input("zone") && zone != "" {
			return nil, arn
		}
		return []Permission{{"route53:GetHostedZone", []string{arn}}}, arn
	}
	perms := []Permission{{"route53:ListHostedZonesByName", []string{"*"}}}
	if !known.Input("vpc") || vpc != "" {
		perms = append(perms, Permission{"route53:GetHostedZone", []string{zoneARN("*")}})
	}
	return perms, zoneARN("*")
}

func (s *route53Upsert) Permissions(known Known) []Permission {
	return recordChangePermissions(known, s.Zone, s.ZoneID, s.VPC, s.Wait, !known.Input("read") || s.Read)
}

// recordChangePermissions is what a step that changes a record needs: the zone's lookup, the
// record's read when it reads it first, its change, and GetChange when it waits for the change.
func recordChangePermissions(known Known, zoneName, zoneID, vpc string, wait, read bool) []Permission {
	perms, zone := zonePermissions(known, zoneName, zoneID, vpc)
	if read {
		perms = append(perms, Permission{"route53:ListResourceRecordSets", []string{zone}})
	}
	perms = append(perms, Permission{"route53:ChangeResourceRecordSets", []string{zone}})
	if !known.Input("wait") || wait {
		perms = append(perms, Permission{"route53:GetChange", []string{"arn:aws:route53:::change/*"}})
	}
	return perms
}

func (s *route53Get) Permissions(known Known) []Permission {
	perms, zone := zonePermissions(known, s.Zone, s.ZoneID, s.VPC)
	return append(perms, Permission{"route53:ListResourceRecordSets", []string{zone}})
}

func (s *route53Delete) Permissions(known Known) []Permission {
	return recordChangePermissions(known, s.Zone, s.ZoneID, s.VPC, s.Wait, true)
}

func (s *route53Zone) Permissions(known Known) []Permission {
	perms := []Permission{
		{"route53:ListHostedZonesByName", []string{"*"}},
		{"route53:CreateHostedZone", []string{"*"}},
	}
	if !known.Input("vpc", "private") || s.private() {
		// Private: each zone of the name is read for its VPCs, and creating one checks the VPC.
		perms = append(perms,
			Permission{"route53:GetHostedZone", []string{zoneARN("*")}},
			Permission{"ec2:DescribeVpcs", []string{"*"}})
	}
	return perms
}

var (
	_ Permissioner = (*ec2Run)(nil)
	_ Permissioner = (*ec2Describe)(nil)
	_ Permissioner = (*ec2List)(nil)
	_ Permissioner = (*ec2Tag)(nil)
	_ Permissioner = (*ec2Terminate)(nil)
	_ Permissioner = (*ssmPut)(nil)
	_ Permissioner = (*ssmGet)(nil)
	_ Permissioner = (*ssmList)(nil)
	_ Permissioner = (*ssmDelete)(nil)
	_ Permissioner = (*route53Upsert)(nil)
	_ Permissioner = (*route53Get)(nil)
	_ Permissioner = (*route53Delete)(nil)
	_ Permissioner = (*route53Zone)(nil)
)

// ---- the policy document

// Policy is an identity-based IAM policy document, as `flow iam` prints it: it can be attached
// as it is (aws iam put-role-policy --policy-document file://...).
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one Allow statement of a Policy.
type Statement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// PolicyOf is the least-privilege policy that grants perms and nothing else: each action on the
// union of its resources (a resource a wildcard of the same action covers left out), the actions
// with the same resources in one statement. It is deterministic: actions and resources sorted,
// statements by their first action, each with a Sid made of its first action's name.
func PolicyOf(perms []Permission) Policy {
	byAction := map[string][]string{}
	for _, p := range perms {
		byAction[p.Action] = append(byAction[p.Action], p.Resources...)
	}
	groups := map[string][]string{} // resources, joined -> actions
	for action, res := range byAction {
		key := strings.Join(narrowest(res), "\n")
		groups[key] = append(groups[key], action)
	}
	pol := Policy{Version: "2012-10-17", Statement: []Statement{}}
	for key, actions := range groups {
		sort.Strings(actions)
		pol.Statement = append(pol.Statement, Statement{Effect: "Allow", Action: actions, Resource: strings.Split(key, "\n")})
	}
	sort.Slice(pol.Statement, func(i, j int) bool { return pol.Statement[i].Action[0] < pol.Statement[j].Action[0] })
	for i := range pol.Statement {
		pol.Statement[i].Sid = sid(pol.Statement[i].Action[0])
	}
	return pol
}

// narrowest returns resources sorted and without duplicates, leaving out each one that another
// of them already matches ("*" alone when it is there).
func narrowest(resources []string) []string {
	sort.Strings(resources)
	var out []string
	for i, r := range resources {
		if i > 0 && resources[i-1] == r {
			continue
		}
		covered := false
		for _, other := range resources {
			if other != r && wildcardMatch(other, r) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, r)
		}
	}
	return out
}

// wildcardMatch reports whether pattern, with * for any run of characters, matches s.
func wildcardMatch(pattern, s string) bool {
	head, rest, star := strings.Cut(pattern, "*")
	if !star {
		return pattern == s
	}
	if !strings.HasPrefix(s, head) {
		return false
	}
	s = s[len(head):]
	for {
		if wildcardMatch(rest, s) {
			return true
		}
		if s == "" {
			return false
		}
		s = s[1:]
	}
}

// sid makes a statement id, letters and digits only, from an action: ssm:GetParameters gives
// SsmGetParameters.
func sid(action string) string {
	var b strings.Builder
	upper := true
	for _, r := range action {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// JSON is the document as IAM takes it, indented, with a final newline.
func (p Policy) JSON() []byte {
	out, _ := json.MarshalIndent(p, "", "  ") // strings and lists of strings: cannot fail
	return append(out, '\n')
}
