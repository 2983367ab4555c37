package ec2

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// filter is one Filter.N of a Describe request: a resource matches when one of its values for
// Name matches one of Values, where * and ? are wildcards.
type filter struct {
	Name   string
	Values []string
}

// The limits EC2 puts on the filters of one request, answered with FilterLimitExceeded. AWS
// documents the error as "the request uses too many filters or too many filter values" and
// words two of its messages: at most 200 values in one call, each at most 255 characters. It
// states no separate bound on filters; the emulator allows as many filters as values.
const (
	maxFilterValues      = 200
	maxFilterValueLength = 255
	maxFilters           = maxFilterValues
)

// parseFilters reads Filter.N.Name and Filter.N.Value.M in one pass over the request, so that
// a request with many filters costs no more than its size. It returns FilterLimitExceeded for
// more than 200 filters or values, or a value longer than 255 characters, and MissingParameter
// for a filter without a name.
func parseFilters(p params) ([]filter, error) {
	type parsed struct {
		name   string
		values map[int]string
	}
	byIndex := map[int]*parsed{}
	count := 0
	pre := p.prefix + "Filter."
	for key, sent := range p.values {
		rest, ok := strings.CutPrefix(key, pre)
		if !ok {
			continue
		}
		num, member, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 {
			continue
		}
		f := byIndex[n]
		if f == nil {
			if len(byIndex) == maxFilters {
				return nil, errorf(codeFilterLimitExceeded, "The maximum number of filters specified on a single call is %d", maxFilters)
			}
			f = &parsed{values: map[int]string{}}
			byIndex[n] = f
		}
		value := ""
		if len(sent) > 0 {
			value = sent[0]
		}
		if member == "Name" {
			f.name = value
			continue
		}
		num, ok = strings.CutPrefix(member, "Value.")
		if !ok {
			continue
		}
		if m, err := strconv.Atoi(num); err == nil && m >= 1 {
			if count++; count > maxFilterValues {
				return nil, errorf(codeFilterLimitExceeded, "The maximum number of filter values specified on a single call is %d", maxFilterValues)
			}
			if utf8.RuneCountInString(value) > maxFilterValueLength {
				return nil, errorf(codeFilterLimitExceeded, "The maximum length for a filter value is %d characters", maxFilterValueLength)
			}
			f.values[m] = value
		}
	}
	out := make([]filter, 0, len(byIndex))
	for _, n := range slices.Sorted(maps.Keys(byIndex)) {
		f := byIndex[n]
		if f.name == "" {
			return nil, errorf(codeMissingParameter, "The request must contain the parameter %sFilter.%d.Name", p.prefix, n)
		}
		flt := filter{Name: f.name}
		for _, m := range slices.Sorted(maps.Keys(f.values)) {
			flt.Values = append(flt.Values, f.values[m])
		}
		out = append(out, flt)
	}
	return out, nil
}

// fields returns a resource's values for a filter name; known is false for a name the
// resource's Describe action does not accept.
type fields func(name string) (values []string, known bool)

// checkFilters returns an error for the first filter name f does not know: UnsupportedOperation
// when AWS documents it for action (a request that works on AWS must not be told it is wrong),
// InvalidParameterValue, as AWS answers, when it does not.
func checkFilters(action string, f fields, filters []filter) error {
	for _, flt := range filters {
		if _, known := f(flt.Name); known {
			continue
		}
		if _, documented := slices.BinarySearch(documentedFilters(action), flt.Name); documented {
			return errorf(codeUnsupportedOperation, "The emulator does not support the filter '%s' of %s yet.", flt.Name, action)
		}
		return errorf(codeInvalidParameterValue, "The filter '%s' is invalid", flt.Name)
	}
	return nil
}

// matches reports whether the resource f describes passes every filter.
func matches(f fields, filters []filter) bool {
	for _, flt := range filters {
		values, _ := f(flt.Name)
		if !matchAny(values, flt.Values) {
			return false
		}
	}
	return true
}

func matchAny(values, patterns []string) bool {
	for _, v := range values {
		for _, p := range patterns {
			if wildcardMatch(p, v) {
				return true
			}
		}
	}
	return false
}

// Kinds of the tokens of a filter value.
const (
	literal = iota // one given character
	anyOne         // ?
	anyRun         // *
)

type token struct {
	kind int
	r    rune
}

// wildcardMatch matches s against an EC2 filter value, in which * is any run of characters,
// ? any one character, and a backslash escapes the next character (a trailing backslash is
// itself). It is the iterative two-pointer match: on a mismatch it lets the last * seen take one
// more character and tries again from there, which never needs to go back further. Time is
// O(len(pattern)·len(s)) at worst, memory O(len(pattern)+len(s)), whatever the pattern.
func wildcardMatch(pattern, s string) bool {
	var p []token
	for i, rs := 0, []rune(pattern); i < len(rs); i++ {
		switch {
		case rs[i] == '*':
			if len(p) == 0 || p[len(p)-1].kind != anyRun {
				p = append(p, token{kind: anyRun})
			}
		case rs[i] == '?':
			p = append(p, token{kind: anyOne})
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			p = append(p, token{kind: literal, r: rs[i]})
		default:
			p = append(p, token{kind: literal, r: rs[i]})
		}
	}
	str := []rune(s)
	pi, si := 0, 0
	star, taken := -1, 0 // the last * seen, and where in s its run ends
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi].kind == anyRun:
			star, taken = pi, si
			pi++
		case pi < len(p) && (p[pi].kind == anyOne || p[pi].r == str[si]):
			pi++
			si++
		case star >= 0:
			taken++
			pi, si = star+1, taken
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].kind == anyRun {
		pi++
	}
	return pi == len(p)
}

// The filters below read the resource as the Describe answer shows it, so that a filter and the
// field it names cannot disagree. A name a filter function answers with no values is one whose
// field the resource does not have (a public IP, a Spot request, an IPv6 block): it is accepted
// and matches nothing.

// tagFields answers the tag filters every resource accepts: tag:KEY, tag-key and tag-value.
func tagFields(tags *list[xmlTag], name string) ([]string, bool) {
	var all []xmlTag
	if tags != nil {
		all = tags.Items
	}
	var out []string
	switch {
	case strings.HasPrefix(name, "tag:"):
		key := strings.TrimPrefix(name, "tag:")
		for _, t := range all {
			if t.Key == key {
				out = append(out, t.Value)
			}
		}
	case name == "tag-key":
		for _, t := range all {
			out = append(out, t.Key)
		}
	case name == "tag-value":
		for _, t := range all {
			out = append(out, t.Value)
		}
	default:
		return nil, false
	}
	return out, true
}

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func boolean(b bool) []string { return []string{strconv.FormatBool(b)} }

func integer(n int) []string { return []string{strconv.Itoa(n)} }

// instanceFields are the DescribeInstances filters. A terminated instance has no network
// interface, volume, address or security group any more: their filters match nothing.
func instanceFields(s instanceSnapshot) fields {
	x := renderInstance(s)
	var eni *xmlNetworkInterface
	if len(x.NetworkInterfaces.Items) > 0 {
		eni = &x.NetworkInterfaces.Items[0]
	}
	var groupIDs, groupNames []string
	for _, g := range x.Groups.Items {
		groupIDs = append(groupIDs, g.GroupID)
		groupNames = append(groupNames, g.GroupName)
	}
	return func(name string) ([]string, bool) {
		switch name {
		case "instance-id":
			return one(x.InstanceID), true
		case "image-id":
			return one(x.ImageID), true
		case "instance-type":
			return one(x.InstanceType), true
		case "instance-state-name":
			return one(x.State.Name), true
		case "instance-state-code":
			return integer(x.State.Code), true
		case "reservation-id":
			return one(s.ReservationID), true
		case "owner-id":
			return one(s.Owner), true
		case "architecture":
			return one(x.Architecture), true
		case "availability-zone":
			return one(x.Placement.AvailabilityZone), true
		case "tenancy":
			return one(x.Placement.Tenancy), true
		case "key-name":
			return one(x.KeyName), true
		case "client-token":
			return one(x.ClientToken), true
		case "launch-index":
			return integer(x.AmiLaunchIndex), true
		case "launch-time":
			return one(x.LaunchTime), true
		case "reason":
			return one(x.Reason), true
		case "state-reason-code", "state-reason-message":
			if x.StateReason == nil {
				return nil, true
			}
			if name == "state-reason-code" {
				return one(x.StateReason.Code), true
			}
			return one(x.StateReason.Message), true
		case "root-device-name":
			return one(x.RootDeviceName), true
		case "root-device-type":
			return one(x.RootDeviceType), true
		case "hypervisor":
			return one(x.Hypervisor), true
		case "virtualization-type":
			return one(x.VirtualizationType), true
		case "boot-mode":
			return one(x.BootMode), true
		case "current-instance-boot-mode":
			return one(x.CurrentInstanceBootMode), true
		case "platform-details":
			return one(x.PlatformDetails), true
		case "usage-operation":
			return one(x.UsageOperation), true
		case "usage-operation-update-time":
			return one(x.UsageOperationUpdateTime), true
		case "monitoring-state":
			return one(x.Monitoring.State), true
		case "ebs-optimized":
			return boolean(x.EBSOptimized), true
		case "ena-support":
			return boolean(x.ENASupport), true
		case "enclave-options.enabled":
			return boolean(x.EnclaveOptions.Enabled), true
		case "hibernation-options.configured":
			return boolean(x.HibernationOptions.Configured), true
		case "maintenance-options.auto-recovery":
			return one(x.MaintenanceOptions.AutoRecovery), true
		case "iam-instance-profile.arn", "iam-instance-profile.id":
			if x.IAMInstanceProfile == nil {
				return nil, true
			}
			if name == "iam-instance-profile.arn" {
				return one(x.IAMInstanceProfile.ARN), true
			}
			return one(x.IAMInstanceProfile.ID), true
		case "metadata-options.state":
			return one(x.MetadataOptions.State), true
		case "metadata-options.http-tokens":
			return one(x.MetadataOptions.HTTPTokens), true
		case "metadata-options.http-endpoint":
			return one(x.MetadataOptions.HTTPEndpoint), true
		case "metadata-options.http-protocol-ipv6":
			return one(x.MetadataOptions.HTTPProtocolIPv6), true
		case "metadata-options.instance-metadata-tags":
			return one(x.MetadataOptions.InstanceMetadataTags), true
		case "metadata-options.http-put-response-hop-limit":
			return integer(x.MetadataOptions.HTTPPutResponseHopLimit), true
		case "private-ip-address":
			return one(x.PrivateIPAddress), true
		case "private-dns-name":
			return one(x.PrivateDNSName), true
		case "subnet-id":
			return one(x.SubnetID), true
		case "vpc-id":
			return one(x.VpcID), true
		case "source-dest-check":
			if x.SourceDestCheck == nil {
				return nil, true
			}
			return boolean(*x.SourceDestCheck), true
		case "private-dns-name-options.hostname-type",
			"private-dns-name-options.enable-resource-name-dns-a-record",
			"private-dns-name-options.enable-resource-name-dns-aaaa-record":
			o := x.PrivateDNSNameOptions
			switch {
			case o == nil:
				return nil, true
			case name == "private-dns-name-options.hostname-type":
				return one(o.HostnameType), true
			case name == "private-dns-name-options.enable-resource-name-dns-a-record":
				return boolean(o.EnableResourceNameDNSARecord), true
			}
			return boolean(o.EnableResourceNameDNSAAAARecord), true
		case "instance.group-id", "group-id":
			return groupIDs, true
		case "instance.group-name", "group-name":
			return groupNames, true
		case "block-device-mapping.volume-id", "block-device-mapping.device-name",
			"block-device-mapping.status", "block-device-mapping.attach-time",
			"block-device-mapping.delete-on-termination":
			var values []string
			for _, disk := range x.BlockDeviceMappings.Items {
				values = append(values, blockDeviceField(disk, name)...)
			}
			return values, true
		case "dns-name":
			return one(x.DNSName), true
		case "ip-address":
			return one(x.IPAddress), true
		// What the emulator's instances never have: no IPv6, no Spot, Dedicated Host, Outpost,
		// placement group, capacity reservation, product code, kernel or ramdisk; Linux, whose
		// platform is empty.
		case "ipv6-address", "instance-lifecycle", "spot-instance-request-id",
			"affinity", "host-id", "outpost-arn", "placement-group-name", "placement-partition-number",
			"capacity-reservation-id", "product-code", "product-code.type", "kernel-id", "ramdisk-id",
			"platform", "requester-id":
			return nil, true
		}
		if rest, ok := strings.CutPrefix(name, "network-interface."); ok {
			return networkInterfaceField(eni, s, rest)
		}
		return tagFields(x.Tags, name)
	}
}

// blockDeviceField answers a block-device-mapping filter of one of an instance's disks.
func blockDeviceField(disk xmlBlockDevice, name string) []string {
	switch name {
	case "block-device-mapping.volume-id":
		return one(disk.EBS.VolumeID)
	case "block-device-mapping.device-name":
		return one(disk.DeviceName)
	case "block-device-mapping.status":
		return one(disk.EBS.Status)
	case "block-device-mapping.attach-time":
		return one(disk.EBS.AttachTime)
	}
	return boolean(disk.EBS.DeleteOnTermination)
}

// networkInterfaceField answers the filter network-interface.NAME of an instance whose primary
// network interface is eni (nil once terminated).
func networkInterfaceField(eni *xmlNetworkInterface, s instanceSnapshot, name string) ([]string, bool) {
	switch name {
	case "network-interface-id", "subnet-id", "vpc-id", "owner-id", "status", "mac-address",
		"private-ip-address", "addresses.private-ip-address", "private-dns-name",
		"addresses.private-dns-name", "addresses.primary", "description", "source-dest-check",
		"requester-managed", "availability-zone", "group-id", "group-name",
		"attachment.attachment-id", "attachment.instance-id", "attachment.instance-owner-id",
		"attachment.device-index", "attachment.network-card-index", "attachment.status",
		"attachment.attach-time", "attachment.delete-on-termination",
		"association.public-ip", "association.public-dns-name", "association.ip-owner-id",
		"addresses.association.public-ip", "addresses.association.public-dns-name",
		"addresses.association.ip-owner-id", "public-dns-name":
	// No Elastic IP, carrier or customer-owned address is ever associated, nor IPv6 addresses or
	// prefixes, nor is an interface made by anyone but its owner.
	case "association.allocation-id", "association.association-id", "association.carrier-ip",
		"association.customer-owned-ip", "addresses.association.allocation-id",
		"addresses.association.association-id", "addresses.association.carrier-ip",
		"addresses.association.customer-owned-ip", "ipv6-address", "ipv6-addresses.ipv6-address",
		"ipv6-addresses.is-primary-ipv6", "ipv4-prefixes.ipv4-prefix", "ipv6-prefixes.ipv6-prefix",
		"outpost-arn", "requester-id":
		return nil, true
	default:
		return nil, false
	}
	if eni == nil {
		return nil, true
	}
	switch name {
	case "network-interface-id":
		return one(eni.NetworkInterfaceID), true
	case "subnet-id":
		return one(eni.SubnetID), true
	case "vpc-id":
		return one(eni.VpcID), true
	case "owner-id", "attachment.instance-owner-id":
		return one(eni.OwnerID), true
	case "status":
		return one(eni.Status), true
	case "mac-address":
		return one(eni.MACAddress), true
	case "private-ip-address", "addresses.private-ip-address":
		var out []string
		for _, a := range eni.PrivateIPAddresses.Items {
			out = append(out, a.PrivateIPAddress)
		}
		return out, true
	case "private-dns-name", "addresses.private-dns-name":
		var out []string
		for _, a := range eni.PrivateIPAddresses.Items {
			out = append(out, a.PrivateDNSName)
		}
		return out, true
	case "addresses.primary":
		var out []string
		for _, a := range eni.PrivateIPAddresses.Items {
			out = append(out, strconv.FormatBool(a.Primary))
		}
		return out, true
	case "description":
		return one(eni.Description), true
	case "association.public-ip", "association.public-dns-name", "association.ip-owner-id",
		"addresses.association.public-ip", "addresses.association.public-dns-name",
		"addresses.association.ip-owner-id", "public-dns-name":
		if eni.Association == nil {
			return nil, true
		}
		switch strings.TrimPrefix(name, "addresses.") {
		case "association.public-ip":
			return one(eni.Association.PublicIP), true
		case "association.ip-owner-id":
			return one(eni.Association.IPOwnerID), true
		}
		return one(eni.Association.PublicDNSName), true
	case "source-dest-check":
		return boolean(eni.SourceDestCheck), true
	case "requester-managed":
		return boolean(false), true
	case "availability-zone":
		return one(s.AvailabilityZone), true
	case "group-id", "group-name":
		var out []string
		for _, g := range eni.Groups.Items {
			if name == "group-id" {
				out = append(out, g.GroupID)
			} else {
				out = append(out, g.GroupName)
			}
		}
		return out, true
	case "attachment.attachment-id":
		return one(eni.Attachment.AttachmentID), true
	case "attachment.instance-id":
		return one(s.ID), true
	case "attachment.device-index":
		return integer(eni.Attachment.DeviceIndex), true
	case "attachment.network-card-index":
		return integer(eni.Attachment.NetworkCardIndex), true
	case "attachment.status":
		return one(eni.Attachment.Status), true
	case "attachment.attach-time":
		return one(eni.Attachment.AttachTime), true
	}
	return boolean(eni.Attachment.DeleteOnTermination), true // attachment.delete-on-termination
}

// vpcFields are the DescribeVpcs filters.
func vpcFields(v vpcSnapshot, owner string) fields {
	x := renderVpc(v, owner)
	return func(name string) ([]string, bool) {
		switch name {
		case "vpc-id":
			return one(x.VpcID), true
		case "cidr", "cidrBlock":
			return one(x.CIDRBlock), true
		case "cidr-block-association.cidr-block", "cidr-block-association.association-id", "cidr-block-association.state":
			var out []string
			for _, a := range x.CIDRBlockAssociations.Items {
				switch name {
				case "cidr-block-association.cidr-block":
					out = append(out, a.CIDRBlock)
				case "cidr-block-association.association-id":
					out = append(out, a.AssociationID)
				default:
					out = append(out, a.State.State)
				}
			}
			return out, true
		case "is-default", "isDefault":
			return boolean(x.IsDefault), true
		case "state":
			return one(x.State), true
		case "owner-id":
			return one(x.OwnerID), true
		case "dhcp-options-id":
			return one(x.DHCPOptionsID), true
		case "ipv6-cidr-block-association.ipv6-cidr-block", "ipv6-cidr-block-association.ipv6-pool",
			"ipv6-cidr-block-association.association-id", "ipv6-cidr-block-association.state":
			return nil, true // the emulator's VPCs have no IPv6 block
		}
		return tagFields(x.Tags, name)
	}
}

// subnetFields are the DescribeSubnets filters.
func subnetFields(s subnetSnapshot, region, owner string) fields {
	x := renderSubnet(s, region, owner)
	return func(name string) ([]string, bool) {
		switch name {
		case "subnet-id":
			return one(x.SubnetID), true
		case "vpc-id":
			return one(x.VpcID), true
		case "availability-zone", "availabilityZone":
			return one(x.AvailabilityZone), true
		case "availability-zone-id", "availabilityZoneId":
			return one(x.AvailabilityZoneID), true
		case "cidr", "cidr-block", "cidrBlock":
			return one(x.CIDRBlock), true
		case "default-for-az", "defaultForAz":
			return boolean(x.DefaultForAZ), true
		case "state":
			return one(x.State), true
		case "owner-id":
			return one(x.OwnerID), true
		case "available-ip-address-count":
			return integer(x.AvailableIPAddressCount), true
		case "map-public-ip-on-launch":
			return boolean(x.MapPublicIPOnLaunch), true
		case "map-customer-owned-ip-on-launch":
			return boolean(x.MapCustomerOwnedIPOnLaunch), true
		case "ipv6-native":
			return boolean(x.IPv6Native), true
		case "enable-dns64":
			return boolean(x.EnableDNS64), true
		case "subnet-arn":
			return one(x.SubnetARN), true
		case "private-dns-name-options-on-launch.hostname-type":
			return one(x.PrivateDNSNameOptions.HostnameType), true
		case "private-dns-name-options-on-launch.enable-resource-name-dns-a-record":
			return boolean(x.PrivateDNSNameOptions.EnableResourceNameDNSARecord), true
		case "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record":
			return boolean(x.PrivateDNSNameOptions.EnableResourceNameDNSAAAARecord), true
		case "ipv6-cidr-block-association.ipv6-cidr-block", "ipv6-cidr-block-association.association-id",
			"ipv6-cidr-block-association.state", "customer-owned-ipv4-pool", "outpost-arn",
			"enable-lni-at-device-index":
			return nil, true // no IPv6, no Outpost
		}
		return tagFields(x.Tags, name)
	}
}

// groupFields are the DescribeSecurityGroups filters.
func groupFields(g groupSnapshot, region, owner string) fields {
	x := renderGroup(g, region, owner)
	return func(name string) ([]string, bool) {
		switch name {
		case "group-id":
			return one(x.GroupID), true
		case "group-name":
			return one(x.GroupName), true
		case "description":
			return one(x.Description), true
		case "vpc-id":
			return one(x.VpcID), true
		case "owner-id":
			return one(x.OwnerID), true
		}
		if rest, ok := strings.CutPrefix(name, "egress.ip-permission."); ok {
			return permissionField(x.Egress.Items, x, rest)
		}
		if rest, ok := strings.CutPrefix(name, "ip-permission."); ok {
			return permissionField(x.Ingress.Items, x, rest)
		}
		return tagFields(x.Tags, name)
	}
}

// permissionField answers the filter ip-permission.NAME (or egress.ip-permission.NAME) of group
// g over its rules perms.
func permissionField(perms []xmlPermission, g xmlSecurityGroup, name string) ([]string, bool) {
	var out []string
	for _, p := range perms {
		switch name {
		case "protocol":
			out = append(out, p.IPProtocol)
		case "cidr":
			for _, r := range p.IPRanges.Items {
				out = append(out, r.CIDRIP)
			}
		case "group-id", "user-id", "group-name":
			for _, pair := range p.Groups.Items {
				switch {
				case name == "group-id":
					out = append(out, pair.GroupID)
				case name == "user-id":
					out = append(out, pair.UserID)
				case pair.GroupID == g.GroupID:
					out = append(out, g.GroupName) // a group's rules name only the group itself
				}
			}
		case "from-port", "to-port", "ipv6-cidr", "prefix-list-id":
			// All protocols, so no ports; no IPv6 ranges or prefix lists.
		default:
			return nil, false
		}
	}
	return out, true
}

// imageFields are the DescribeImages filters.
func imageFields(im imageSnapshot) fields {
	x := renderImage(im)
	var disk *xmlImageBlockDevice
	for i, d := range x.BlockDeviceMappings.Items {
		if d.EBS != nil && (disk == nil || d.DeviceName == x.RootDeviceName) {
			disk = &x.BlockDeviceMappings.Items[i]
		}
	}
	return func(name string) ([]string, bool) {
		switch name {
		case "image-id":
			return one(x.ImageID), true
		case "name":
			return one(x.Name), true
		case "description":
			return one(x.Description), true
		case "architecture":
			return one(x.Architecture), true
		case "owner-id":
			return one(x.OwnerID), true
		case "owner-alias":
			return one(x.OwnerAlias), true
		case "state":
			return one(x.State), true
		case "is-public":
			return boolean(x.Public), true
		case "image-type":
			return one(x.ImageType), true
		case "creation-date":
			return one(x.CreationDate), true
		case "manifest-location":
			return one(x.ImageLocation), true
		case "root-device-type":
			return one(x.RootDeviceType), true
		case "root-device-name":
			return one(x.RootDeviceName), true
		case "virtualization-type":
			return one(x.VirtualizationType), true
		case "hypervisor":
			return one(x.Hypervisor), true
		case "ena-support":
			return boolean(x.ENASupport), true
		case "sriov-net-support":
			return one(x.SriovNetSupport), true
		case "boot-mode":
			return one(x.BootMode), true
		case "platform-details":
			return one(x.PlatformDetails), true
		case "block-device-mapping.device-name", "block-device-mapping.snapshot-id",
			"block-device-mapping.volume-size", "block-device-mapping.volume-type",
			"block-device-mapping.encrypted", "block-device-mapping.delete-on-termination":
			if disk == nil {
				return nil, true
			}
			switch name {
			case "block-device-mapping.device-name":
				return one(disk.DeviceName), true
			case "block-device-mapping.snapshot-id":
				return one(disk.EBS.SnapshotID), true
			case "block-device-mapping.volume-size":
				return integer(disk.EBS.VolumeSize), true
			case "block-device-mapping.volume-type":
				return one(disk.EBS.VolumeType), true
			case "block-device-mapping.encrypted":
				return boolean(disk.EBS.Encrypted), true
			}
			return boolean(disk.EBS.DeleteOnTermination), true
		case "source-instance-id":
			return one(x.SourceInstanceID), true
		case "source-image-id":
			return one(x.SourceImageID), true
		case "source-image-region":
			return one(x.SourceImageRegion), true
		case "kernel-id", "ramdisk-id", "platform", "product-code", "product-code.type",
			"state-reason-code", "state-reason-message":
			return nil, true // Linux images, never failed
		}
		return tagFields(x.Tags, name)
	}
}
