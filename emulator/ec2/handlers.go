package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flow-infra/flow/emulator/internal/regions"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// This file reads each action's parameters, checks their form as EC2 does, calls the backend
// and shapes its answer.

const (
	defaultInstanceType = "m1.small" // RunInstances' documented default
	maxUserData         = 16 * 1024  // bytes, decoded
	maxClientToken      = 64
)

var (
	groupID = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// Compiled on first use: their bounded repeats make large programs, and a boot that never
	// serves EC2 should not pay for them at start.
	profileARN = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/[\w+=,.@/-]{1,128}$`)
	})
	profileName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{1,128}$`) })
)

func (s *Service) runInstances(ctx context.Context, p params, now time.Time) (result, error) {
	var req runRequest
	var err error
	if req.MinCount, err = requiredCount(p, "MinCount"); err != nil {
		return nil, err
	}
	if req.MaxCount, err = requiredCount(p, "MaxCount"); err != nil {
		return nil, err
	}
	if req.MinCount > req.MaxCount {
		return nil, errorf(codeInvalidParameterValue, "Value (%d) for parameter minCount is invalid. Expected a value less than or equal to maxCount (%d).", req.MinCount, req.MaxCount)
	}
	if err := unsupported(p, "LaunchTemplate.", "InstanceMarketOptions.",
		// Dedicated hosts and placement groups are not emulated: a request for one is refused
		// rather than launched somewhere else.
		"Placement.HostId", "Placement.HostResourceGroupArn", "Placement.Affinity", "Placement.GroupName",
		"Placement.GroupId", "Placement.PartitionNumber", "Placement.SpreadDomain"); err != nil {
		return nil, err
	}
	if tenancy := p.get("Placement.Tenancy"); tenancy != "" && tenancy != "default" {
		return nil, errorf(codeUnsupportedOperation, "The emulator does not support the parameter Placement.Tenancy with the value %s.", tenancy)
	}
	if hibernate, err := p.boolean("HibernationOptions.Configured"); err != nil {
		return nil, err
	} else if hibernate {
		return nil, errorf(codeUnsupportedOperation, "The emulator does not support the parameter HibernationOptions.")
	}
	ref, err := p.require("ImageId")
	if err != nil {
		return nil, err
	}
	if req.Image, err = s.resolveImage(ctx, ref, now); err != nil {
		return nil, err
	}
	req.InstanceType = p.get("InstanceType")
	if req.InstanceType == "" {
		req.InstanceType = defaultInstanceType
	}
	if !validInstanceType(req.InstanceType) {
		return nil, errorf(codeInvalidParameterValue, "Invalid value '%s' for InstanceType.", req.InstanceType)
	}
	if arch := instanceArchitecture(req.InstanceType); arch != req.Image.Architecture {
		return nil, errorf(codeInvalidParameterValue, "The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.", arch, req.Image.Architecture)
	}
	req.SubnetID = p.get("SubnetId")
	if req.AvailabilityZone, err = zoneParameters(p, "Placement.AvailabilityZone", "Placement.AvailabilityZoneId", s.b.region); err != nil {
		return nil, err
	}
	req.GroupIDs = p.list("SecurityGroupId")
	for _, id := range req.GroupIDs {
		if !groupID.MatchString(id) {
			return nil, errorf(codeInvalidGroupIDMalformed, "Invalid id: \"%s\" (expecting \"sg-...\")", id)
		}
	}
	req.GroupNames = p.list("SecurityGroup")
	req.KeyName = p.get("KeyName")
	if req.Profile, err = s.instanceProfile(p); err != nil {
		return nil, err
	}
	if req.UserData, err = userData(p.get("UserData")); err != nil {
		return nil, err
	}
	if req.Tags, err = tagSpecifications(p, "instance", "volume", "network-interface", "spot-instances-request"); err != nil {
		return nil, err
	}
	if req.Metadata, err = metadata(p.sub("MetadataOptions"), req.Image); err != nil {
		return nil, err
	}
	if req.Metadata.Tags == "enabled" {
		if err := checkMetadataTagKeys(req.Tags["instance"]); err != nil {
			return nil, err
		}
	}
	req.ClientToken = p.get("ClientToken")
	if len(req.ClientToken) > maxClientToken {
		return nil, errorf(codeInvalidParameterValue, "Value (%s) for parameter clientToken is invalid. Length exceeds maximum of 64 characters.", req.ClientToken)
	}
	req.Fingerprint = fingerprint(p)
	if req.PrivateIP, err = privateAddress(p, req.MaxCount); err != nil {
		return nil, err
	}
	if err := primaryInterface(p, &req); err != nil {
		return nil, err
	}
	if req.NoTermination, err = p.boolean("DisableApiTermination"); err != nil {
		return nil, err
	}
	if req.NoStop, err = p.boolean("DisableApiStop"); err != nil {
		return nil, err
	}
	if req.EBSOptimized, err = p.boolean("EbsOptimized"); err != nil {
		return nil, err
	}
	if req.Monitoring, err = p.boolean("Monitoring.Enabled"); err != nil {
		return nil, err
	}
	if req.Mappings, err = blockMappings(p); err != nil {
		return nil, err
	}
	switch req.ShutdownBehavior = p.get("InstanceInitiatedShutdownBehavior"); req.ShutdownBehavior {
	case "":
		req.ShutdownBehavior = "stop"
	case "stop", "terminate":
	default:
		return nil, errorf(codeInvalidParameterValue, "Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are stop, terminate.", req.ShutdownBehavior)
	}
	res, err := s.b.run(ctx, now, req)
	if err != nil {
		return nil, err
	}
	return &runInstancesResult{xmlReservation: renderReservation(res, s.b.account)}, nil
}

// privateAddress reads the PrivateIpAddress of p (the request's, or a network interface's): an
// IPv4 address, for one instance only; "" when there is none.
func privateAddress(p params, maxCount int) (string, error) {
	ip := p.get("PrivateIpAddress")
	if ip == "" {
		return "", nil
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.Is4() {
		return "", errorf(codeInvalidParameterValue, "Invalid value '%s' for PrivateIpAddress.", ip)
	}
	if maxCount > 1 {
		return "", errorf(codeInvalidParameterCombination, "Cannot specify an IP address when launching more than one instance.")
	}
	return ip, nil
}

// primaryInterface reads NetworkInterface.N into req: the instance's primary network interface
// (device index 0), its subnet, security groups, private address, public address and
// DeleteOnTermination, which then may not be given for the instance as well. Only the primary
// interface is emulated: another device index, or an existing interface, is refused.
func primaryInterface(p params, req *runRequest) error {
	specs := p.structs("NetworkInterface")
	if len(specs) == 0 {
		return nil
	}
	switch {
	case p.has("SubnetId"):
		return errorf(codeInvalidParameterCombination, "Network interfaces and an instance-level subnet ID may not be specified on the same request")
	case p.any("SecurityGroupId") || p.any("SecurityGroup"):
		return errorf(codeInvalidParameterCombination, "Network interfaces and an instance-level security groups may not be specified on the same request")
	case p.has("PrivateIpAddress"):
		return errorf(codeInvalidParameterCombination, "Network interfaces and an instance-level private IP address should not be specified on the same request")
	}
	seen := map[int]bool{}
	for _, ni := range specs {
		if err := unsupported(ni, "NetworkInterfaceId", "SecondaryPrivateIpAddressCount",
			"Ipv6AddressCount", "Ipv6Addresses.", "AssociateCarrierIpAddress", "InterfaceType", "NetworkCardIndex",
			"Ipv4Prefix.", "Ipv4PrefixCount", "Ipv6Prefix.", "Ipv6PrefixCount", "PrimaryIpv6", "EnaSrdSpecification.",
			"ConnectionTrackingSpecification.", "EnaQueueCount"); err != nil {
			return err
		}
		index, ok, err := ni.integer("DeviceIndex")
		switch {
		case err != nil:
			return err
		case !ok:
			return errorf(codeInvalidParameterValue, "Each network interface requires a device index.")
		case seen[index]:
			return errorf(codeInvalidParameterValue, "Each network interface requires a unique device index.")
		case index != 0:
			return errorf(codeUnsupportedOperation, "The emulator does not support the parameter NetworkInterface.DeviceIndex with the value %d: only the primary network interface (device index 0) is emulated.", index)
		}
		seen[index] = true
		req.SubnetID = ni.get("SubnetId")
		req.GroupIDs = ni.list("SecurityGroupId")
		for _, id := range req.GroupIDs {
			if !groupID.MatchString(id) {
				return errorf(codeInvalidGroupIDMalformed, "Invalid id: \"%s\" (expecting \"sg-...\")", id)
			}
		}
		if req.PrivateIP, err = privateAddress(ni, req.MaxCount); err != nil {
			return err
		}
		// PrivateIpAddresses may name the primary address instead (the AWS CLI sends
		// --private-ip-address so); secondary addresses are not emulated.
		for _, a := range ni.structs("PrivateIpAddresses") {
			primary, err := a.boolean("Primary")
			if err != nil {
				return err
			}
			if !primary {
				return errorf(codeUnsupportedOperation, "The emulator does not support the parameter NetworkInterface.PrivateIpAddresses with a secondary address.")
			}
			ip, err := privateAddress(a, req.MaxCount)
			switch {
			case err != nil:
				return err
			case req.PrivateIP != "" && req.PrivateIP != ip:
				return errorf(codeInvalidParameterValue, "Only one primary private IP address can be specified (%s and %s).", req.PrivateIP, ip)
			}
			req.PrivateIP = ip
		}
		if ni.has("AssociatePublicIpAddress") {
			public, err := ni.boolean("AssociatePublicIpAddress")
			if err != nil {
				return err
			}
			req.PublicIP = &public
		}
		if ni.has("DeleteOnTermination") {
			kept, err := ni.boolean("DeleteOnTermination")
			if err != nil {
				return err
			}
			req.InterfaceKept = !kept
		}
		req.InterfaceDescription = ni.get("Description")
	}
	return nil
}

// zoneParameters reads a zone given by name (byName) or by id (byID), and returns its name; ""
// when neither is given. An id names one of the region's zones; giving both is refused, as AWS
// refuses it.
func zoneParameters(p params, byName, byID, region string) (string, error) {
	name, id := p.get(byName), p.get(byID)
	switch {
	case id == "":
		return name, nil
	case name != "":
		return "", errorf(codeInvalidParameterCombination, "Only one of availabilityZone or availabilityZoneId may be specified.")
	}
	var ids []string
	for _, zone := range zones(region) {
		if zoneID(region, zone) == id {
			return zone, nil
		}
		ids = append(ids, zoneID(region, zone))
	}
	return "", errorf(codeInvalidParameterValue, "Value (%s) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the following availability zone ids: %s.", id, strings.Join(ids, ", "))
}

// unsupported returns UnsupportedOperation when the request has a parameter the emulator does not
// implement: one of names, or a member of a structure or list when the name ends with a dot.
func unsupported(p params, names ...string) error {
	for _, name := range names {
		for key := range p.values {
			if key == p.prefix+name || (strings.HasSuffix(name, ".") && strings.HasPrefix(key, p.prefix+name)) {
				return errorf(codeUnsupportedOperation, "The emulator does not support the parameter %s.", strings.TrimSuffix(name, "."))
			}
		}
	}
	return nil
}

// requiredCount reads MinCount or MaxCount: present, and at least 1.
func requiredCount(p params, name string) (int, error) {
	n, ok, err := p.integer(name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errorf(codeMissingParameter, "The request must contain the parameter %s", name)
	}
	if n < 1 {
		return 0, errorf(codeInvalidParameterValue, "Value (%d) for parameter %s is invalid. Expected a positive integer.", n, strings.ToLower(name[:1])+name[1:])
	}
	return n, nil
}

// resolveImage returns the image an ImageId names: ami-..., or resolve:ssm:NAME whose parameter
// holds an ami- id. NAME may carry a :version or :label selector; it is passed on as it is.
func (s *Service) resolveImage(ctx context.Context, ref string, now time.Time) (Image, error) {
	id := ref
	if name, ok := strings.CutPrefix(ref, "resolve:ssm:"); ok {
		value, found := "", false
		if s.params != nil && name != "" {
			var err error
			if value, found, err = s.params.ParameterValue(ctx, s.b.region, name); err != nil {
				return Image{}, err
			}
		}
		if !found {
			return Image{}, errorf(codeSsmInvalidParameter, "The following aliases are invalid: %s", ref)
		}
		id = strings.TrimSpace(value)
	}
	if !wire.IsImageID(id) {
		return Image{}, errorf(codeInvalidAMIIDMalformed, "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	return s.b.launchImage(ctx, now, id)
}

// instanceProfile reads IamInstanceProfile.Arn or .Name. The emulator has no IAM: any
// well-formed profile is accepted, a name as the account's profile of that name.
func (s *Service) instanceProfile(p params) (*instanceProfile, error) {
	arn, name := p.get("IamInstanceProfile.Arn"), p.get("IamInstanceProfile.Name")
	switch {
	case arn != "" && name != "":
		return nil, errorf(codeInvalidParameterCombination, "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	case arn != "":
		if !profileARN().MatchString(arn) {
			return nil, errorf(codeInvalidParameterValue, "Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", arn)
		}
	case name != "":
		if !profileName().MatchString(name) {
			return nil, errorf(codeInvalidParameterValue, "Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", name)
		}
		arn = "arn:aws:iam::" + s.b.account + ":instance-profile/" + name
	default:
		return nil, nil
	}
	return &instanceProfile{ARN: arn, ID: profileID(arn)}, nil
}

// userData decodes the base64 UserData of a RunInstances; nil when there is none.
func userData(encoded string) ([]byte, error) {
	if encoded == "" {
		return nil, nil
	}
	clean := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, encoded)
	data, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		data, err = base64.RawStdEncoding.DecodeString(clean)
	}
	if err != nil {
		return nil, errorf(codeInvalidParameterValue, "Invalid BASE64 encoding of user data")
	}
	if len(data) > maxUserData {
		return nil, errorf(codeInvalidParameterValue, "User data is limited to 16384 bytes")
	}
	return data, nil
}

// tagSpecifications reads TagSpecification.N: the tags of each resource type the action creates,
// of those in kinds.
func tagSpecifications(p params, kinds ...string) (map[string][]Tag, error) {
	out := map[string][]Tag{}
	for _, spec := range p.structs("TagSpecification") {
		kind := spec.get("ResourceType")
		switch {
		case kind == "":
			return nil, errorf(codeInvalidParameterValue, "Tag specification resource type must have a value")
		case !slices.Contains(kinds, kind):
			return nil, errorf(codeInvalidParameterValue, "'%s' is not a valid taggable resource type for this operation.", kind)
		}
		if _, dup := out[kind]; dup {
			return nil, errorf(codeInvalidParameterValue, "The same resource type may not be specified more than once in tag specifications")
		}
		tags, err := parseTags(spec, "Tag")
		if err != nil {
			return nil, err
		}
		if len(tags) == 0 {
			return nil, errorf(codeInvalidParameterValue, "Tag specification must have at least one tag")
		}
		if len(tags) > maxTags {
			return nil, errorf(codeTagLimitExceeded, "The maximum number of Tags for a resource has been reached.")
		}
		out[kind] = tags
	}
	return out, nil
}

// parseTags reads and checks name.N.Key and name.N.Value; of a key given twice the last value
// counts.
func parseTags(p params, name string) ([]Tag, error) {
	var out []Tag
	for _, t := range p.structs(name) {
		tag := Tag{Key: t.get("Key"), Value: t.get("Value")}
		if err := validateTag(tag); err != nil {
			return nil, err
		}
		if i := slices.IndexFunc(out, func(have Tag) bool { return have.Key == tag.Key }); i >= 0 {
			out[i].Value = tag.Value
		} else {
			out = append(out, tag)
		}
	}
	return out, nil
}

// metadata reads MetadataOptions. What is not given comes from the image: an image with
// ImdsSupport v2.0 makes tokens required and the hop limit 2.
func metadata(p params, im Image) (metadataOptions, error) {
	m := metadataOptions{HTTPTokens: "optional", HTTPEndpoint: "enabled", HopLimit: 1, Tags: "disabled", ProtocolIPv6: "disabled"}
	if im.IMDSv2 {
		m.HTTPTokens, m.HopLimit = "required", 2
	}
	choose := func(name string, target *string, allowed ...string) error {
		v := p.get(name)
		if v == "" {
			return nil
		}
		if !slices.Contains(allowed, v) {
			return errorf(codeInvalidParameterValue, "Value (%s) for parameter %s is invalid. Valid values are %s.", v, name, strings.Join(allowed, ", "))
		}
		*target = v
		return nil
	}
	for _, err := range []error{
		choose("HttpTokens", &m.HTTPTokens, "optional", "required"),
		choose("HttpEndpoint", &m.HTTPEndpoint, "enabled", "disabled"),
		choose("InstanceMetadataTags", &m.Tags, "enabled", "disabled"),
		choose("HttpProtocolIpv6", &m.ProtocolIPv6, "enabled", "disabled"),
	} {
		if err != nil {
			return m, err
		}
	}
	hops, ok, err := p.integer("HttpPutResponseHopLimit")
	if err != nil {
		return m, err
	}
	if ok {
		if hops < 1 || hops > 64 {
			return m, errorf(codeInvalidParameterValue, "Value (%d) for parameter HttpPutResponseHopLimit is invalid. Valid values are between 1 and 64.", hops)
		}
		m.HopLimit = hops
	}
	return m, nil
}

// fingerprint identifies a RunInstances by everything but its client token and its zone, which
// AWS lets differ between retries.
func fingerprint(p params) string {
	var keys []string
	for key := range p.values {
		switch key {
		case "Action", "Version", "ClientToken", "Placement.AvailabilityZone", "Placement.AvailabilityZoneId":
			continue
		}
		keys = append(keys, key)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, key := range keys {
		h.Write([]byte(key))
		for _, v := range p.values[key] {
			h.Write([]byte{0})
			h.Write([]byte(v))
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// instanceIDs reads InstanceId.N, each well formed.
func instanceIDs(p params) ([]string, error) {
	ids := p.list("InstanceId")
	for _, id := range ids {
		if !instanceID.MatchString(id) {
			return nil, errorf(codeInvalidInstanceIDMalformed, "Invalid id: \"%s\"", id)
		}
	}
	return ids, nil
}

func (s *Service) describeInstances(ctx context.Context, p params, now time.Time) (result, error) {
	ids, err := instanceIDs(p)
	if err != nil {
		return nil, err
	}
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	if err := checkFilters("DescribeInstances", instanceFields(instanceSnapshot{}), filters); err != nil {
		return nil, err
	}
	maxResults, paged, err := p.integer("MaxResults")
	if err != nil {
		return nil, err
	}
	if paged {
		switch {
		case len(ids) > 0:
			return nil, errorf(codeInvalidParameterCombination, "The parameter instancesSet cannot be used with the parameter maxResults")
		case maxResults < 5:
			return nil, errorf(codeInvalidParameterValue, "Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than 5.", maxResults)
		case maxResults > 1000:
			return nil, errorf(codeInvalidParameterValue, "Value ( %d ) for parameter maxResults is invalid. Expecting a value less than 1000.", maxResults)
		}
	}
	page, next, err := s.b.describe(ctx, now, describeRequest{IDs: ids, Filters: filters, MaxResults: maxResults, NextToken: p.get("NextToken")})
	if err != nil {
		return nil, err
	}
	out := &describeInstancesResult{NextToken: next}
	for _, r := range page {
		out.Reservations.Items = append(out.Reservations.Items, renderReservation(r, s.b.account))
	}
	return out, nil
}

func (s *Service) stopInstances(ctx context.Context, p params, now time.Time) (result, error) {
	return s.changeStates(ctx, p, now, stopTransition)
}

func (s *Service) startInstances(ctx context.Context, p params, now time.Time) (result, error) {
	return s.changeStates(ctx, p, now, startTransition)
}

func (s *Service) terminateInstances(ctx context.Context, p params, now time.Time) (result, error) {
	return s.changeStates(ctx, p, now, terminateTransition)
}

func (s *Service) changeStates(ctx context.Context, p params, now time.Time, t transition) (result, error) {
	ids, err := instanceIDs(p)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		// AWS's answer to Stop, Start or TerminateInstances with no id, though the SDKs send
		// an empty InstanceIds as none.
		return nil, errorf(codeInvalidParameterCombination, "No instances specified")
	}
	changes, err := s.b.changeStates(ctx, now, ids, t)
	if err != nil {
		return nil, err
	}
	return renderStateChanges(changes), nil
}

// resources reads ResourceId.N of CreateTags and DeleteTags.
func resources(p params) ([]string, error) {
	ids := p.list("ResourceId")
	if len(ids) == 0 {
		// AWS names the parameter as its internal model does, not as the request spells it.
		return nil, errorf(codeMissingParameter, "The request must contain the parameter resourceIdSet")
	}
	return ids, nil
}

func (s *Service) createTags(ctx context.Context, p params, now time.Time) (result, error) {
	ids, err := resources(p)
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(p, "Tag")
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, errorf(codeMissingParameter, "The request must contain the parameter Tag")
	}
	if err := s.b.createTags(ctx, now, ids, tags); err != nil {
		return nil, err
	}
	return &returnResult{Return: true}, nil
}

func (s *Service) deleteTags(ctx context.Context, p params, now time.Time) (result, error) {
	ids, err := resources(p)
	if err != nil {
		return nil, err
	}
	var selectors []tagSelector
	for _, t := range p.structs("Tag") {
		sel := tagSelector{Key: t.get("Key"), Value: t.get("Value"), AnyValue: !t.has("Value")}
		if strings.HasPrefix(strings.ToLower(sel.Key), "aws:") {
			return nil, errorf(codeInvalidParameterValue, "Value ( %s ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use", sel.Key)
		}
		selectors = append(selectors, sel)
	}
	if err := s.b.deleteTags(ctx, now, ids, selectors); err != nil {
		return nil, err
	}
	return &returnResult{Return: true}, nil
}

func (s *Service) describeInstanceAttribute(ctx context.Context, p params, now time.Time) (result, error) {
	id, err := p.require("InstanceId")
	if err != nil {
		return nil, err
	}
	if !instanceID.MatchString(id) {
		return nil, errorf(codeInvalidInstanceIDMalformed, "Invalid id: \"%s\"", id)
	}
	attribute, err := p.require("Attribute")
	if err != nil {
		return nil, err
	}
	snap, err := s.b.instanceSnapshotByID(ctx, now, id)
	if err != nil {
		return nil, err
	}
	return renderAttribute(snap, attribute)
}

// notFound returns the ids of wanted that are not in have.
func notFound(wanted []string, have func(string) bool) []string {
	var missing []string
	for _, id := range dedupe(wanted) {
		if !have(id) {
			missing = append(missing, id)
		}
	}
	return missing
}

func (s *Service) describeVpcs(ctx context.Context, p params, now time.Time) (result, error) {
	ids := p.list("VpcId")
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	if err := checkFilters("DescribeVpcs", vpcFields(vpcSnapshot{}, ""), filters); err != nil {
		return nil, err
	}
	net, err := s.b.network(ctx, now)
	if err != nil {
		return nil, err
	}
	missing := notFound(ids, func(id string) bool {
		return slices.ContainsFunc(net.VPCs, func(v vpcSnapshot) bool { return v.ID == id })
	})
	if len(missing) > 0 {
		return nil, errorf(codeInvalidVpcIDNotFound, "The vpc ID '%s' does not exist", strings.Join(missing, ", "))
	}
	out := &describeVpcsResult{}
	for _, v := range net.VPCs {
		if (len(ids) == 0 || slices.Contains(ids, v.ID)) && matches(vpcFields(v, s.b.account), filters) {
			out.VPCs.Items = append(out.VPCs.Items, renderVpc(v, s.b.account))
		}
	}
	return out, nil
}

func (s *Service) describeSubnets(ctx context.Context, p params, now time.Time) (result, error) {
	ids := p.list("SubnetId")
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	if err := checkFilters("DescribeSubnets", subnetFields(subnetSnapshot{}, "", ""), filters); err != nil {
		return nil, err
	}
	net, err := s.b.network(ctx, now)
	if err != nil {
		return nil, err
	}
	missing := notFound(ids, func(id string) bool {
		return slices.ContainsFunc(net.Subnets, func(sub subnetSnapshot) bool { return sub.ID == id })
	})
	if len(missing) > 0 {
		return nil, errorf(codeInvalidSubnetIDNotFound, "The subnet ID '%s' does not exist", strings.Join(missing, ", "))
	}
	out := &describeSubnetsResult{}
	for _, sub := range net.Subnets {
		if (len(ids) == 0 || slices.Contains(ids, sub.ID)) && matches(subnetFields(sub, s.b.region, s.b.account), filters) {
			out.Subnets.Items = append(out.Subnets.Items, renderSubnet(sub, s.b.region, s.b.account))
		}
	}
	return out, nil
}

func (s *Service) describeSecurityGroups(ctx context.Context, p params, now time.Time) (result, error) {
	ids, names := p.list("GroupId"), p.list("GroupName")
	for _, id := range ids {
		if !groupID.MatchString(id) {
			return nil, errorf(codeInvalidGroupIDMalformed, "Invalid id: \"%s\" (expecting \"sg-...\")", id)
		}
	}
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	if err := checkFilters("DescribeSecurityGroups", groupFields(groupSnapshot{}, "", ""), filters); err != nil {
		return nil, err
	}
	net, err := s.b.network(ctx, now)
	if err != nil {
		return nil, err
	}
	if missing := notFound(ids, func(id string) bool {
		return slices.ContainsFunc(net.Groups, func(g groupSnapshot) bool { return g.ID == id })
	}); len(missing) > 0 {
		return nil, errorf(codeInvalidGroupNotFound, "The security group '%s' does not exist", strings.Join(missing, ", "))
	}
	var defaultVPC string
	for _, v := range net.VPCs {
		if v.IsDefault {
			defaultVPC = v.ID
		}
	}
	if len(names) > 0 && defaultVPC == "" {
		return nil, errorf(codeVPCIDNotSpecified, "No default VPC for this user")
	}
	if missing := notFound(names, func(name string) bool {
		return slices.ContainsFunc(net.Groups, func(g groupSnapshot) bool { return g.Name == name && g.VpcID == defaultVPC })
	}); len(missing) > 0 {
		return nil, errorf(codeInvalidGroupNotFound, "The security group '%s' does not exist in default VPC '%s'", strings.Join(missing, ", "), defaultVPC)
	}
	out := &describeSecurityGroupsResult{}
	for _, g := range net.Groups {
		if len(ids) > 0 && !slices.Contains(ids, g.ID) {
			continue
		}
		if len(names) > 0 && !(slices.Contains(names, g.Name) && g.VpcID == defaultVPC) {
			continue
		}
		if matches(groupFields(g, s.b.region, s.b.account), filters) {
			out.Groups.Items = append(out.Groups.Items, renderGroup(g, s.b.region, s.b.account))
		}
	}
	return out, nil
}

func (s *Service) describeImages(ctx context.Context, p params, now time.Time) (result, error) {
	if err := unsupported(p, "ExecutableBy."); err != nil {
		return nil, err
	}
	ids := p.list("ImageId")
	for _, id := range ids {
		if !wire.IsImageID(id) {
			return nil, errorf(codeInvalidAMIIDMalformed, "Invalid id: \"%s\" (expecting \"ami-...\")", id)
		}
	}
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	if err := checkFilters("DescribeImages", imageFields(imageSnapshot{}), filters); err != nil {
		return nil, err
	}
	images, err := s.b.images(ctx, now)
	if err != nil {
		return nil, err
	}
	missing := notFound(ids, func(id string) bool {
		return slices.ContainsFunc(images, func(im imageSnapshot) bool { return im.ID == id })
	})
	if len(missing) > 0 {
		// An image deregistered is no longer shown, but it is not unknown either.
		gone, err := s.b.deregistered(ctx, missing)
		if err != nil {
			return nil, err
		}
		if missing = slices.DeleteFunc(missing, func(id string) bool { return gone[id] }); len(missing) > 0 {
			return nil, imagesNotFound(missing)
		}
	}
	owners := p.list("Owner")
	out := &describeImagesResult{}
	for _, im := range images {
		if len(ids) > 0 && !slices.Contains(ids, im.ID) {
			continue
		}
		if len(owners) > 0 && !slices.ContainsFunc(owners, func(o string) bool {
			return o == im.Owner || (o == "self" && im.Owner == s.b.account) || (o != "" && o == im.OwnerAlias)
		}) {
			continue
		}
		if matches(imageFields(im), filters) {
			out.Images.Items = append(out.Images.Items, renderImage(im))
		}
	}
	return out, nil
}

// imageIDParameter reads the image id name, required and well formed.
func imageIDParameter(p params, name string) (string, error) {
	id, err := p.require(name)
	if err != nil {
		return "", err
	}
	if !wire.IsImageID(id) {
		return "", errorf(codeInvalidAMIIDMalformed, "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	return id, nil
}

// imageNameParameter reads the Name of a CreateImage or RegisterImage, and checks its form.
func imageNameParameter(p params) (string, error) {
	name, err := p.require("Name")
	if err != nil {
		return "", err
	}
	if !imageName().MatchString(name) {
		return "", errorf(codeInvalidAMINameMalformed, "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, spaces and ( ) [ ] . / - ' @ _ only: %q", name)
	}
	return name, nil
}

// imageDescription reads the Description of a CreateImage or RegisterImage.
func imageDescription(p params) (string, error) {
	desc := p.get("Description")
	if len([]rune(desc)) > maxImageDescription {
		return "", errorf(codeInvalidParameterValue, "Value (%s) for parameter description is invalid. Length exceeds maximum of %d characters.", desc, maxImageDescription)
	}
	return desc, nil
}

func (s *Service) createImage(ctx context.Context, p params, now time.Time) (result, error) {
	// Volumes other than the root are not emulated, so mappings that would add or drop one are
	// refused rather than ignored.
	if err := unsupported(p, "BlockDeviceMapping.", "SnapshotLocation"); err != nil {
		return nil, err
	}
	var req createImageRequest
	var err error
	if req.InstanceID, err = p.require("InstanceId"); err != nil {
		return nil, err
	}
	if !instanceID.MatchString(req.InstanceID) {
		return nil, errorf(codeInvalidInstanceIDMalformed, "Invalid id: \"%s\"", req.InstanceID)
	}
	if req.Name, err = imageNameParameter(p); err != nil {
		return nil, err
	}
	if req.Description, err = imageDescription(p); err != nil {
		return nil, err
	}
	// NoReboot is honoured as far as it can be seen: an emulated instance rebooted before its
	// image is taken is running again at once, as after a reboot on AWS, and without one it
	// never stopped.
	if _, err := p.boolean("NoReboot"); err != nil {
		return nil, err
	}
	tags, err := tagSpecifications(p, "image", "snapshot")
	if err != nil {
		return nil, err
	}
	req.ImageTags, req.SnapshotTags = tags["image"], tags["snapshot"]
	id, err := s.b.createImage(ctx, now, req)
	if err != nil {
		return nil, err
	}
	return &imageIDResult{ImageID: id}, nil
}

func (s *Service) registerImage(ctx context.Context, p params, now time.Time) (result, error) {
	// Instance-store images (an S3 manifest), kernels, RAM disks and the rest are not emulated.
	if err := unsupported(p, "ImageLocation", "BillingProduct.", "KernelId", "RamdiskId", "TpmSupport", "UefiData"); err != nil {
		return nil, err
	}
	im := Image{Architecture: "i386", VirtualizationType: "paravirtual"} // RegisterImage's documented defaults
	var err error
	if im.Name, err = imageNameParameter(p); err != nil {
		return nil, err
	}
	if im.Description, err = imageDescription(p); err != nil {
		return nil, err
	}
	imds := ""
	for _, err := range []error{
		choose(p, "Architecture", &im.Architecture, "i386", "x86_64", "arm64"),
		choose(p, "VirtualizationType", &im.VirtualizationType, "hvm", "paravirtual"),
		choose(p, "BootMode", &im.BootMode, "legacy-bios", "uefi", "uefi-preferred"),
		choose(p, "ImdsSupport", &imds, "v2.0"),
		choose(p, "SriovNetSupport", &im.SriovNetSupport, "simple"),
	} {
		if err != nil {
			return nil, err
		}
	}
	im.IMDSv2 = imds == "v2.0"
	if im.ENASupport, err = p.boolean("EnaSupport"); err != nil {
		return nil, err
	}
	if im.RootDeviceName, err = p.require("RootDeviceName"); err != nil {
		return nil, err
	}
	mappings, err := blockMappings(p)
	if err != nil {
		return nil, err
	}
	for _, m := range mappings {
		if err := m.needsSource(); err != nil {
			return nil, err
		}
		if m.VolumeType == "" {
			m.VolumeType = "gp2"
		}
		im.Devices = append(im.Devices, m.BlockDevice)
	}
	if root, ok := im.rootDevice(); !ok || root.SnapshotID == "" {
		return nil, errorf(codeInvalidBlockDeviceMapping, "The block device mapping must map the root device %s to an EBS snapshot.", im.RootDeviceName)
	}
	tags, err := tagSpecifications(p, "image")
	if err != nil {
		return nil, err
	}
	id, err := s.b.registerImage(ctx, now, im, tags["image"])
	if err != nil {
		return nil, err
	}
	return &imageIDResult{ImageID: id}, nil
}

func (s *Service) copyImage(ctx context.Context, p params, now time.Time) (result, error) {
	// Outposts, Local Zones, KMS keys of one's own and time-based copies are not emulated.
	if err := unsupported(p, "KmsKeyId", "DestinationOutpostArn", "DestinationAvailabilityZone",
		"DestinationAvailabilityZoneId", "SnapshotCopyCompletionDurationMinutes"); err != nil {
		return nil, err
	}
	var req copyImageRequest
	var err error
	if req.SourceRegion, err = p.require("SourceRegion"); err != nil {
		return nil, err
	}
	id, err := imageIDParameter(p, "SourceImageId")
	if err != nil {
		return nil, err
	}
	if req.Name, err = imageNameParameter(p); err != nil {
		return nil, err
	}
	if req.Description, err = imageDescription(p); err != nil {
		return nil, err
	}
	if req.Encrypted, err = p.boolean("Encrypted"); err != nil {
		return nil, err
	}
	copyTags, err := p.boolean("CopyImageTags")
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecifications(p, "image", "snapshot")
	if err != nil {
		return nil, err
	}
	req.ImageTags, req.SnapshotTags = tags["image"], tags["snapshot"]
	if req.ClientToken = p.get("ClientToken"); len(req.ClientToken) > maxClientToken {
		return nil, errorf(codeInvalidParameterValue, "Value (%s) for parameter clientToken is invalid. Length exceeds maximum of 64 characters.", req.ClientToken)
	}
	req.Fingerprint = fingerprint(p)
	source, err := s.all.set.Get(req.SourceRegion)
	if errors.Is(err, regions.ErrUnknownRegion) {
		return nil, errorf(codeInvalidParameterValue, "Invalid value '%s' for SourceRegion: it is not a region.", req.SourceRegion)
	}
	if err != nil {
		return nil, err
	}
	var sourceTags []Tag
	if req.Source, sourceTags, err = source.b.copySource(ctx, now, id); err != nil {
		return nil, err
	}
	if copyTags { // the source's tags, then the request's over them
		merged := slices.Clone(sourceTags)
		for _, t := range req.ImageTags {
			if i := slices.IndexFunc(merged, func(have Tag) bool { return have.Key == t.Key }); i >= 0 {
				merged[i] = t
			} else {
				merged = append(merged, t)
			}
		}
		req.ImageTags = merged
	}
	image, err := s.b.copyImage(ctx, now, req)
	if err != nil {
		return nil, err
	}
	return &imageIDResult{ImageID: image}, nil
}

func (s *Service) deregisterImage(ctx context.Context, p params, now time.Time) (result, error) {
	id, err := imageIDParameter(p, "ImageId")
	if err != nil {
		return nil, err
	}
	// Snapshots stay, as they do by default on AWS; deleting them with the image is not
	// emulated.
	if del, err := p.boolean("DeleteAssociatedSnapshots"); err != nil {
		return nil, err
	} else if del {
		return nil, errorf(codeUnsupportedOperation, "The emulator does not support the parameter DeleteAssociatedSnapshots.")
	}
	if err := s.b.deregisterImage(ctx, id); err != nil {
		return nil, err
	}
	return &returnResult{Return: true}, nil
}

// choose reads name, one of allowed, into target; an absent name leaves target as it is.
func choose(p params, name string, target *string, allowed ...string) error {
	v := p.get(name)
	if v == "" {
		return nil
	}
	if !slices.Contains(allowed, v) {
		return errorf(codeInvalidParameterValue, "Value (%s) for parameter %s is invalid. Valid values are %s.", v, strings.ToLower(name[:1])+name[1:], strings.Join(allowed, ", "))
	}
	*target = v
	return nil
}

// maxVolumeSize is the largest EBS volume, in GiB (gp2, gp3, io1, io2, st1, sc1).
const maxVolumeSize = 16384

// mapping is one BlockDeviceMapping.N of a request.
type mapping struct {
	BlockDevice
	deleteGiven bool // Ebs.DeleteOnTermination was given; DeleteOnTermination is true otherwise
}

// needsSource returns InvalidBlockDeviceMapping when m makes a volume from nothing: an Ebs
// without a snapshot or a size.
func (m mapping) needsSource() error {
	if !m.NoDevice && m.SnapshotID == "" && m.VolumeSize == 0 {
		return errorf(codeInvalidBlockDeviceMapping, "The device '%s' must specify a volume size or a snapshot.", m.DeviceName)
	}
	return nil
}

// blockMappings reads BlockDeviceMapping.N and checks each as EC2 does: a device name, once, and
// either NoDevice or Ebs (a virtual name, an instance store, is not emulated), with a size in
// range and a known volume type. Whether an Ebs needs a snapshot or a size depends on the action
// (see needsSource).
func blockMappings(p params) ([]mapping, error) {
	var out []mapping
	for _, m := range p.structs("BlockDeviceMapping") {
		if err := unsupported(m, "VirtualName", "Ebs.Iops", "Ebs.KmsKeyId", "Ebs.Throughput", "Ebs.OutpostArn",
			"Ebs.AvailabilityZone", "Ebs.AvailabilityZoneId", "Ebs.VolumeInitializationRate"); err != nil {
			return nil, err
		}
		d := mapping{BlockDevice: BlockDevice{DeviceName: m.get("DeviceName"), SnapshotID: m.get("Ebs.SnapshotId"), DeleteOnTermination: true}}
		if d.DeviceName == "" {
			return nil, errorf(codeMissingParameter, "The request must contain the parameter deviceName")
		}
		if slices.ContainsFunc(out, func(have mapping) bool { return have.DeviceName == d.DeviceName }) {
			return nil, errorf(codeInvalidBlockDeviceMapping, "The device '%s' is used in more than one block-device mapping", d.DeviceName)
		}
		ebs := m.any("Ebs")
		if m.has("NoDevice") {
			if ebs {
				return nil, errorf(codeInvalidBlockDeviceMapping, "The device '%s' may not have both NoDevice and Ebs.", d.DeviceName)
			}
			d.NoDevice = true
			out = append(out, d)
			continue
		}
		if !ebs {
			return nil, errorf(codeInvalidBlockDeviceMapping, "The device '%s' must be given Ebs or NoDevice.", d.DeviceName)
		}
		size, sized, err := m.integer("Ebs.VolumeSize")
		if err != nil {
			return nil, err
		}
		if sized && (size < 1 || size > maxVolumeSize) {
			return nil, errorf(codeInvalidParameterValue, "Volume of %d GiB for device '%s' is out of range: 1 to %d GiB.", size, d.DeviceName, maxVolumeSize)
		}
		d.VolumeSize = size
		if err := choose(m, "Ebs.VolumeType", &d.VolumeType, "gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"); err != nil {
			return nil, err
		}
		if d.deleteGiven = m.has("Ebs.DeleteOnTermination"); d.deleteGiven {
			if d.DeleteOnTermination, err = m.boolean("Ebs.DeleteOnTermination"); err != nil {
				return nil, err
			}
		}
		if d.Encrypted, err = m.boolean("Ebs.Encrypted"); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ipv4Block reads the CidrBlock of a CreateVpc or CreateSubnet: an IPv4 block, which EC2 puts in
// its canonical form (10.1.2.3/16 is 10.1.0.0/16).
func ipv4Block(raw string) (netip.Prefix, error) {
	block, err := netip.ParsePrefix(raw)
	if err != nil || !block.Addr().Is4() {
		return netip.Prefix{}, errorf(codeInvalidParameterValue, "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", raw)
	}
	return block.Masked(), nil
}

func (s *Service) createVpc(ctx context.Context, p params, now time.Time) (result, error) {
	if err := unsupported(p, "Ipv6Pool", "Ipv6CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "Ipv6IpamPoolId",
		"Ipv6NetmaskLength", "Ipv6CidrBlockNetworkBorderGroup", "VpcEncryptionControl."); err != nil {
		return nil, err
	}
	if ipv6, err := p.boolean("AmazonProvidedIpv6CidrBlock"); err != nil {
		return nil, err
	} else if ipv6 {
		return nil, errorf(codeUnsupportedOperation, "The emulator does not support the parameter AmazonProvidedIpv6CidrBlock.")
	}
	raw := p.get("CidrBlock")
	if raw == "" {
		return nil, errorf(codeMissingParameter, "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
	}
	var req vpcRequest
	var err error
	if req.CIDR, err = ipv4Block(raw); err != nil {
		return nil, err
	}
	if req.CIDR.Bits() < largestBlock || req.CIDR.Bits() > smallestBlock {
		return nil, errorf(codeInvalidVpcRange, "The CIDR '%s' is invalid.", req.CIDR)
	}
	switch req.Tenancy = p.get("InstanceTenancy"); req.Tenancy {
	case "":
		req.Tenancy = "default"
	case "default", "dedicated":
	default:
		return nil, errorf(codeInvalidParameterValue, "Value (%s) for parameter instanceTenancy is invalid. Valid values are default, dedicated.", req.Tenancy)
	}
	tags, err := tagSpecifications(p, "vpc")
	if err != nil {
		return nil, err
	}
	req.Tags = tags["vpc"]
	v, err := s.b.createVPC(ctx, now, req)
	if err != nil {
		return nil, err
	}
	out := renderVpc(v, s.b.account)
	// A new VPC is pending in CreateVpc's answer, and available by the time one describes it.
	out.State = "pending"
	out.IPv6CIDRBlockAssociations = &list[struct{}]{}
	return &createVpcResult{Vpc: out}, nil
}

func (s *Service) createSubnet(ctx context.Context, p params, now time.Time) (result, error) {
	if err := unsupported(p, "Ipv6CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "Ipv6IpamPoolId",
		"Ipv6NetmaskLength", "OutpostArn"); err != nil {
		return nil, err
	}
	if ipv6, err := p.boolean("Ipv6Native"); err != nil {
		return nil, err
	} else if ipv6 {
		return nil, errorf(codeUnsupportedOperation, "The emulator does not support the parameter Ipv6Native.")
	}
	var req subnetRequest
	var err error
	if req.VpcID, err = p.require("VpcId"); err != nil {
		return nil, err
	}
	raw, err := p.require("CidrBlock")
	if err != nil {
		return nil, err
	}
	if req.CIDR, err = ipv4Block(raw); err != nil {
		return nil, err
	}
	if req.AvailabilityZone, err = zoneParameters(p, "AvailabilityZone", "AvailabilityZoneId", s.b.region); err != nil {
		return nil, err
	}
	tags, err := tagSpecifications(p, "subnet")
	if err != nil {
		return nil, err
	}
	req.Tags = tags["subnet"]
	sub, err := s.b.createSubnet(ctx, now, req)
	if err != nil {
		return nil, err
	}
	return &createSubnetResult{Subnet: renderSubnet(sub, s.b.region, s.b.account)}, nil
}

func (s *Service) deleteSubnet(ctx context.Context, p params, now time.Time) (result, error) {
	id, err := p.require("SubnetId")
	if err != nil {
		return nil, err
	}
	if err := s.b.deleteSubnet(ctx, now, id); err != nil {
		return nil, err
	}
	return &returnResult{Return: true}, nil
}

func (s *Service) deleteVpc(ctx context.Context, p params, now time.Time) (result, error) {
	id, err := p.require("VpcId")
	if err != nil {
		return nil, err
	}
	if err := s.b.deleteVPC(ctx, now, id); err != nil {
		return nil, err
	}
	return &returnResult{Return: true}, nil
}
