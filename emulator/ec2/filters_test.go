package ec2

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
)

// referenceMatch is the meaning of an EC2 filter value written as a regular expression: * is .*,
// ? is ., a backslash makes the next character literal, and a trailing backslash is itself.
func referenceMatch(t testing.TB, pattern, s string) (bool, bool) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; {
		case c == '*':
			b.WriteString(`.*`)
		case c == '?':
			b.WriteString(`.`)
		case c == '\\' && i+1 < len(rs):
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return false, false // beyond what regexp compiles; nothing to compare with
	}
	return re.MatchString(s), true
}

func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything at all", true},
		{"?", "", false},
		{"?", "é", true},
		{"??", "é", false},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbYcZ", false},
		{"a*b*c", "abcbc", true},
		{"*ab*ab*", "xabyab", true},
		{"*aab", "aaab", true},
		{"al2023-ami-2023.*-arm64", "al2023-ami-2023.7.20250512.0-kernel-6.1-arm64", true},
		{"al2023-ami-2023.*-arm64", "al2023-ami-2023.7.20250512.0-kernel-6.1-x86_64", false},
		{"glob?x", "globex", true},
		{`\*amazon\?\\`, `*amazon?\`, true},
		{`\*amazon\?\\`, `xamazony\`, false},
		{`a\`, `a\`, true},
		{`\a`, `a`, true},
		{"**", "", true},
		{"*?*", "", false},
		{"*?*", "x", true},
	}
	for _, c := range cases {
		if got := wildcardMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
		if ref, ok := referenceMatch(t, c.pattern, c.s); ok && ref != c.want {
			t.Errorf("reference(%q, %q) = %v, want %v: the table is wrong", c.pattern, c.s, ref, c.want)
		}
	}
}

// TestWildcardMatchHugePattern is the pattern that once took 12 s and 500 MB: the answers must
// come back, and right.
func TestWildcardMatchHugePattern(t *testing.T) {
	stars := strings.Repeat("*", 80000)
	value := strings.Repeat("a", 5000)
	if wildcardMatch(stars+"z", value) {
		t.Error("80,000 stars then z matched a value without z")
	}
	if !wildcardMatch(stars+"z", value+"z") {
		t.Error("80,000 stars then z did not match a value ending in z")
	}
	alternating := strings.Repeat("*a", 40000)
	if !wildcardMatch(alternating, strings.Repeat("a", 40000)) {
		t.Error("(*a)×40000 did not match 40,000 a's")
	}
	if wildcardMatch(alternating, strings.Repeat("a", 39999)) {
		t.Error("(*a)×40000 matched 39,999 a's")
	}
	if !wildcardMatch(strings.Repeat("?", 60000), strings.Repeat("é", 60000)) {
		t.Error("60,000 ? did not match 60,000 characters")
	}
}

// FuzzWildcardMatch compares the matcher with the regular expression the pattern stands for.
func FuzzWildcardMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"a*b?c", "aXXbYc"}, {`\*x\?`, "*x?"}, {"*?*?*", "ab"}, {"*a*a*a*b", "aaaaaaaab"},
		{"?*", ""}, {`\\*`, `\\\`}, {"é*ü", "éaü"}, {"", ""}, {"*", "\n"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) || len(pattern) > 200 || len(s) > 200 {
			return
		}
		want, ok := referenceMatch(t, pattern, s)
		if !ok {
			return
		}
		if got := wildcardMatch(pattern, s); got != want {
			t.Fatalf("wildcardMatch(%q, %q) = %v, the regular expression says %v", pattern, s, got, want)
		}
	})
}

func TestFilterLimits(t *testing.T) {
	f := newFixture(t, nil)
	f.run(t, 1, func(in *sdk.RunInstancesInput) {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}
	})
	filter := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}

	// The value that exhausted memory is refused by AWS's own limit, at once.
	huge := strings.Repeat("*", 80000) + "z"
	_, err := f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{Filters: []types.Filter{filter("name", huge)}})
	if apiErr := emutest.WantCode(t, err, "FilterLimitExceeded"); apiErr.ErrorMessage() != "The maximum length for a filter value is 255 characters" {
		t.Errorf("message = %q", apiErr.ErrorMessage())
	}
	_, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{filter("tag-value", huge)}})
	emutest.WantCode(t, err, "FilterLimitExceeded")

	// The longest value AWS takes is matched, and right.
	longest := strings.Repeat("*", 254) + "z"
	out, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{filter("tag-value", longest)}})
	if err != nil || len(out.Reservations) != 0 {
		t.Errorf("254 stars then z: %d reservations, %v; want none", len(out.Reservations), err)
	}
	out, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{filter("tag-value", strings.Repeat("*", 253)+"?b")}})
	if err != nil || len(out.Reservations) != 1 {
		t.Errorf("253 stars then ?b: %d reservations, %v; want one", len(out.Reservations), err)
	}

	// 200 values in one call are fine, 201 are not, however they are spread over filters.
	values := make([]string, 200)
	for i := range values {
		values[i] = "web"
	}
	out, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{filter("tag:Name", values...)}})
	if err != nil || len(out.Reservations) != 1 {
		t.Errorf("200 values: %d reservations, %v; want one", len(out.Reservations), err)
	}
	_, err = f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{filter("tag:Name", values...), filter("tag-key", "Name")}})
	if apiErr := emutest.WantCode(t, err, "FilterLimitExceeded"); apiErr.ErrorMessage() != "The maximum number of filter values specified on a single call is 200" {
		t.Errorf("message = %q", apiErr.ErrorMessage())
	}
	var many []types.Filter
	for range 201 {
		many = append(many, filter("tag-key"))
	}
	_, err = f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{Filters: many})
	emutest.WantCode(t, err, "FilterLimitExceeded")
}

// TestDocumentedFilters sends every filter AWS documents for each Describe action: none may be
// called invalid. The emulator answers it, or says with UnsupportedOperation that it does not
// support it yet; InvalidParameterValue is kept for names AWS does not have.
func TestDocumentedFilters(t *testing.T) {
	f := newFixture(t, nil)
	f.run(t, 1, nil)
	describe := map[string]func(types.Filter) error{
		"DescribeInstances": func(flt types.Filter) error {
			_, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{flt}})
			return err
		},
		"DescribeVpcs": func(flt types.Filter) error {
			_, err := f.client.DescribeVpcs(f.ctx, &sdk.DescribeVpcsInput{Filters: []types.Filter{flt}})
			return err
		},
		"DescribeSubnets": func(flt types.Filter) error {
			_, err := f.client.DescribeSubnets(f.ctx, &sdk.DescribeSubnetsInput{Filters: []types.Filter{flt}})
			return err
		},
		"DescribeSecurityGroups": func(flt types.Filter) error {
			_, err := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{Filters: []types.Filter{flt}})
			return err
		},
		"DescribeImages": func(flt types.Filter) error {
			_, err := f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{Filters: []types.Filter{flt}})
			return err
		},
	}
	for action, call := range describe {
		names := documentedFilters(action)
		if len(names) == 0 {
			t.Fatalf("%s: no documented filters", action)
		}
		supported := 0
		for _, name := range append(names, "tag:Name", "tag-key") {
			err := call(types.Filter{Name: aws.String(name), Values: []string{"*"}})
			if err == nil {
				supported++
				continue
			}
			apiErr := emutest.WantCode(t, err, "UnsupportedOperation")
			if !strings.Contains(apiErr.ErrorMessage(), "'"+name+"'") {
				t.Errorf("%s %s: message %q does not name the filter", action, name, apiErr.ErrorMessage())
			}
		}
		t.Logf("%s: %d of %d documented filters supported", action, supported-2, len(names))
		err := call(types.Filter{Name: aws.String("colour"), Values: []string{"blue"}})
		if apiErr := emutest.WantCode(t, err, "InvalidParameterValue"); apiErr.ErrorMessage() != "The filter 'colour' is invalid" {
			t.Errorf("%s: message %q", action, apiErr.ErrorMessage())
		}
	}
}

// TestInstanceFilters checks the filters that answer from what every instance of the emulator
// is: in a VPC, default tenancy, no public address, not Spot, Linux.
func TestInstanceFilters(t *testing.T) {
	f := newFixture(t, nil)
	inst := f.run(t, 1, nil).Instances[0]
	gone := f.run(t, 1, nil).Instances[0]
	if _, err := f.client.TerminateInstances(f.ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{aws.ToString(gone.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(inst.InstanceId)
	cases := []struct {
		name, value string
		want        []string
	}{
		{"network-interface.vpc-id", aws.ToString(inst.VpcId), []string{id}},
		{"network-interface.subnet-id", aws.ToString(inst.SubnetId), []string{id}},
		{"network-interface.private-ip-address", aws.ToString(inst.PrivateIpAddress), []string{id}},
		{"network-interface.addresses.primary", "true", []string{id}},
		{"network-interface.attachment.instance-id", id, []string{id}},
		{"network-interface.attachment.device-index", "0", []string{id}},
		{"network-interface.status", "in-use", []string{id}},
		{"network-interface.requester-managed", "false", []string{id}},
		{"network-interface.association.public-ip", "*", []string{id}}, // its public address, as ip-address
		{"tenancy", "default", []string{id, aws.ToString(gone.InstanceId)}},
		{"monitoring-state", "disabled", []string{id, aws.ToString(gone.InstanceId)}},
		{"platform-details", "Linux/UNIX", []string{id, aws.ToString(gone.InstanceId)}},
		{"ebs-optimized", "false", []string{id, aws.ToString(gone.InstanceId)}},
		{"instance-lifecycle", "*", nil},
		{"dns-name", "*", []string{id}}, // launched in a default subnet: a public address while it runs
		{"ip-address", "*", []string{id}},
		{"platform", "windows", nil},
		{"source-dest-check", "true", []string{id}},
		{"block-device-mapping.status", "attached", []string{id}},
		{"state-reason-code", "Client.UserInitiatedShutdown", []string{aws.ToString(gone.InstanceId)}},
	}
	for _, c := range cases {
		out, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String(c.name), Values: []string{c.value}}}})
		if err != nil {
			t.Errorf("%s=%s: %v", c.name, c.value, err)
			continue
		}
		if got := instanceIDsOf(out.Reservations); strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s=%s: got %v, want %v", c.name, c.value, got, c.want)
		}
	}
	_, err := f.client.DescribeInstances(f.ctx, &sdk.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("availability-zone-id"), Values: []string{"use1-az1"}}}})
	if apiErr := emutest.WantCode(t, err, "UnsupportedOperation"); apiErr.ErrorMessage() != "The emulator does not support the filter 'availability-zone-id' of DescribeInstances yet." {
		t.Errorf("message = %q", apiErr.ErrorMessage())
	}

	groups, err := f.client.DescribeSecurityGroups(f.ctx, &sdk.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("egress.ip-permission.cidr"), Values: []string{"0.0.0.0/0"}},
		{Name: aws.String("ip-permission.group-name"), Values: []string{"default"}},
	}})
	if err != nil || len(groups.SecurityGroups) != 1 {
		t.Errorf("security groups by rule: %d, %v; want the default group", len(groups.SecurityGroups), err)
	}
	images, err := f.client.DescribeImages(f.ctx, &sdk.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("block-device-mapping.volume-type"), Values: []string{"gp3"}}}})
	if err != nil || len(images.Images) != len(PublicImages("us-east-1")) {
		t.Errorf("images by volume type: %d, %v", len(images.Images), err)
	}
}
