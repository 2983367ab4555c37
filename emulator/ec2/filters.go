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

// checkFilters returns InvalidParameterValue for the first filter name f does not know.
func checkFilters(f fields, filters []filter) error {
	for _, flt := range filters {
		if _, known := f(flt.Name); !known {
			return errorf(codeInvalidParameterValue, "The filter '%s' is invalid", flt.Name)
		}
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

// tagFields answers the tag filters every resource accepts: tag:KEY, tag-key and tag-value.
func tagFields(tags []Tag, name string) ([]string, bool) {
	var out []string
	switch {
	case strings.HasPrefix(name, "tag:"):
		key := strings.TrimPrefix(name, "tag:")
		for _, t := range tags {
			if t.Key == key {
				out = append(out, t.Value)
			}
		}
	case name == "tag-key":
		for _, t := range tags {
			out = append(out, t.Key)
		}
	case name == "tag-value":
		for _, t := range tags {
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

// instanceFields are the DescribeInstances filters.
func instanceFields(s instanceSnapshot) fields {
	return func(name string) ([]string, bool) {
		live := s.State != stateTerminated
		switch name {
		case "instance-id":
			return one(s.ID), true
		case "image-id":
			return one(s.ImageID), true
		case "instance-type":
			return one(s.InstanceType), true
		case "instance-state-name":
			return one(s.State), true
		case "instance-state-code":
			return one(strconv.Itoa(stateCode(s.State))), true
		case "reservation-id":
			return one(s.ReservationID), true
		case "owner-id":
			return one(s.Owner), true
		case "architecture":
			return one(s.Architecture), true
		case "availability-zone":
			return one(s.AvailabilityZone), true
		case "key-name":
			return one(s.KeyName), true
		case "client-token":
			return one(s.ClientToken), true
		case "launch-index":
			return one(strconv.Itoa(s.LaunchIndex)), true
		case "launch-time":
			return one(timestamp(s.LaunchTime)), true
		case "root-device-name":
			return one(s.RootDevice), true
		case "root-device-type":
			return one("ebs"), true
		case "hypervisor":
			return one("xen"), true
		case "virtualization-type":
			return one("hvm"), true
		case "iam-instance-profile.arn":
			if s.Profile != nil {
				return one(s.Profile.ARN), true
			}
			return nil, true
		case "iam-instance-profile.id":
			if s.Profile != nil {
				return one(s.Profile.ID), true
			}
			return nil, true
		case "metadata-options.http-tokens":
			return one(s.Metadata.HTTPTokens), true
		case "metadata-options.http-endpoint":
			return one(s.Metadata.HTTPEndpoint), true
		case "metadata-options.instance-metadata-tags":
			return one(s.Metadata.Tags), true
		case "metadata-options.http-put-response-hop-limit":
			return one(strconv.Itoa(s.Metadata.HopLimit)), true
		}
		if !live {
			// A terminated instance has given back its address, interface, volume and groups.
			switch name {
			case "private-ip-address", "private-dns-name", "subnet-id", "vpc-id",
				"network-interface.network-interface-id", "network-interface.mac-address",
				"network-interface.addresses.private-ip-address", "block-device-mapping.volume-id",
				"instance.group-id", "instance.group-name", "group-id", "group-name":
				return nil, true
			}
		}
		switch name {
		case "private-ip-address", "network-interface.addresses.private-ip-address":
			return one(s.PrivateIP), true
		case "private-dns-name":
			return one(s.PrivateDNS), true
		case "subnet-id":
			return one(s.SubnetID), true
		case "vpc-id":
			return one(s.VpcID), true
		case "network-interface.network-interface-id":
			return one(s.NetworkInterface), true
		case "network-interface.mac-address":
			return one(s.MAC), true
		case "block-device-mapping.volume-id":
			return one(s.Volume), true
		case "instance.group-id", "group-id":
			return s.GroupIDs, true
		case "instance.group-name", "group-name":
			var names []string
			for _, g := range s.Groups {
				names = append(names, g.Name)
			}
			return names, true
		}
		return tagFields(s.Tags, name)
	}
}

// vpcFields are the DescribeVpcs filters.
func vpcFields(v vpcSnapshot, owner string) fields {
	return func(name string) ([]string, bool) {
		switch name {
		case "vpc-id":
			return one(v.ID), true
		case "cidr", "cidr-block-association.cidr-block", "cidrBlock":
			return one(v.CIDR), true
		case "cidr-block-association.association-id":
			return one(v.AssociationID), true
		case "cidr-block-association.state":
			return one("associated"), true
		case "is-default", "isDefault":
			return one(strconv.FormatBool(v.IsDefault)), true
		case "state":
			return one("available"), true
		case "owner-id":
			return one(owner), true
		case "dhcp-options-id":
			return one(v.DHCPOptionsID), true
		}
		return tagFields(v.Tags, name)
	}
}

// subnetFields are the DescribeSubnets filters.
func subnetFields(s subnetSnapshot, owner, arn string) fields {
	return func(name string) ([]string, bool) {
		switch name {
		case "subnet-id":
			return one(s.ID), true
		case "vpc-id":
			return one(s.VpcID), true
		case "availability-zone", "availabilityZone":
			return one(s.AvailabilityZone), true
		case "cidr", "cidr-block", "cidrBlock":
			return one(s.CIDR), true
		case "default-for-az", "defaultForAz":
			return one(strconv.FormatBool(s.DefaultForAZ)), true
		case "state":
			return one("available"), true
		case "owner-id":
			return one(owner), true
		case "available-ip-address-count":
			return one(strconv.Itoa(s.Available)), true
		case "map-public-ip-on-launch":
			return one("false"), true
		case "subnet-arn":
			return one(arn), true
		}
		return tagFields(s.Tags, name)
	}
}

// groupFields are the DescribeSecurityGroups filters.
func groupFields(g groupSnapshot, owner string) fields {
	return func(name string) ([]string, bool) {
		switch name {
		case "group-id":
			return one(g.ID), true
		case "group-name":
			return one(g.Name), true
		case "description":
			return one(g.Description), true
		case "vpc-id":
			return one(g.VpcID), true
		case "owner-id":
			return one(owner), true
		}
		return tagFields(g.Tags, name)
	}
}

// imageFields are the DescribeImages filters.
func imageFields(im Image, owner string) fields {
	return func(name string) ([]string, bool) {
		switch name {
		case "image-id":
			return one(im.ID), true
		case "name":
			return one(im.Name), true
		case "description":
			return one(im.Description), true
		case "architecture":
			return one(im.Architecture), true
		case "owner-id":
			return one(owner), true
		case "owner-alias":
			return one(im.OwnerAlias), true
		case "state":
			return one("available"), true
		case "is-public":
			return one(strconv.FormatBool(im.Public)), true
		case "image-type":
			return one("machine"), true
		case "root-device-type":
			return one("ebs"), true
		case "root-device-name":
			return one(im.RootDeviceName), true
		case "virtualization-type":
			return one("hvm"), true
		case "hypervisor":
			return one("xen"), true
		case "boot-mode":
			return one(im.BootMode), true
		case "platform-details":
			return one("Linux/UNIX"), true
		}
		return tagFields(nil, name)
	}
}
