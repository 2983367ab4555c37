package iam

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

const paramARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/clients/acme/DB_HOST"

// The cases of AWS's policy evaluation logic for one identity-based policy: default deny, an
// Allow allows, an explicit Deny wins over any Allow; actions case-insensitive with wildcards;
// resources by ARN with wildcards; NotAction and NotResource; conditions.
func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy string
		req    Request
		want   Decision
	}{
		{"nothing allows it", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:PutParameter","Resource":"*"}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, ImplicitDeny},
		{"allowed", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameters"],"Resource":"*"}]}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, Allowed},
		{"action names are case-insensitive", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"SSM:getparameters","Resource":"*"}]}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, Allowed},
		{"action wildcard", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:Get*","Resource":"*"}]}`,
			Request{Action: "ssm:GetParametersByPath", Resource: paramARN}, Allowed},
		{"action ? wildcard", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:?escribeInstances","Resource":"*"}]}`,
			Request{Action: "ec2:DescribeInstances", Resource: "*"}, Allowed},
		{"wildcard does not cross services", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}`,
			Request{Action: "ec2:RunInstances", Resource: "*"}, ImplicitDeny},
		{"explicit deny wins", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"ssm:*","Resource":"*"},
			{"Effect":"Deny","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:*:parameter/clients/*"}]}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, ExplicitDeny},
		{"a deny that does not match leaves the allow", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"ssm:*","Resource":"*"},
			{"Effect":"Deny","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:*:parameter/other/*"}]}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, Allowed},
		{"resource by prefix", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:*:parameter/clients/acme/*"}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, Allowed},
		{"another client's resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:*:parameter/clients/beta/*"}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, ImplicitDeny},
		{"resources are case-sensitive", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:*:parameter/Clients/acme/*"}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, ImplicitDeny},
		{"a region wildcard stays in the region", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:eu-*:123456789012:parameter/*"}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, Allowed},
		{"another account", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:111111111111:parameter/*"}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, ImplicitDeny},
		{"an action without resource-level permissions needs *", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"arn:aws:ec2:*:*:instance/*"}}`,
			Request{Action: "ec2:DescribeInstances", Resource: "*"}, ImplicitDeny},
		{"NotAction allows the rest", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"ssm:Delete*","Resource":"*"}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN}, Allowed},
		{"NotAction leaves out what it names", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":["ssm:Delete*"],"Resource":"*"}}`,
			Request{Action: "ssm:DeleteParameters", Resource: paramARN}, ImplicitDeny},
		{"NotResource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"},
			{"Effect":"Deny","Action":"ssm:*","NotResource":"arn:aws:ssm:*:*:parameter/clients/acme/*"}]}`,
			Request{Action: "ssm:GetParameters", Resource: "arn:aws:ssm:eu-west-1:123456789012:parameter/clients/beta/X"}, ExplicitDeny},
		{"StringEquals holds", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"RunInstances"}}}}`,
			Request{Action: "ec2:CreateTags", Resource: "*", Context: map[string][]string{"ec2:CreateAction": {"RunInstances"}}}, Allowed},
		{"StringEquals on a key the request lacks", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"RunInstances"}}}}`,
			Request{Action: "ec2:CreateTags", Resource: "*"}, ImplicitDeny},
		{"IfExists on a key the request lacks", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEqualsIfExists":{"ec2:CreateAction":"RunInstances"}}}}`,
			Request{Action: "ec2:CreateTags", Resource: "*"}, Allowed},
		{"condition keys are case-insensitive", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:*","Resource":"*","Condition":{"StringLike":{"AWS:requestedregion":"eu-*"}}}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN, Context: map[string][]string{"aws:RequestedRegion": {"eu-west-1"}}}, Allowed},
		{"StringNotEquals deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}`,
			Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string][]string{"aws:RequestedRegion": {"us-east-1"}}}, ExplicitDeny},
		{"StringNotEquals deny, allowed region", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}`,
			Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string][]string{"aws:RequestedRegion": {"eu-west-1"}}}, Allowed},
		{"Null", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"Null":{"ec2:CreateAction":"false"}}}}`,
			Request{Action: "ec2:CreateTags", Resource: "*", Context: map[string][]string{"ec2:CreateAction": {"RunInstances"}}}, Allowed},
		{"Bool written as JSON true", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}}`,
			Request{Action: "ssm:GetParameters", Resource: paramARN, Context: map[string][]string{"aws:SecureTransport": {"true"}}}, Allowed},
		{"ArnLike", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"ArnLike":{"iam:AssociatedResourceArn":"arn:aws:ec2:*:*:instance/*"}}}}`,
			Request{Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/app", Context: map[string][]string{"iam:AssociatedResourceArn": {"arn:aws:ec2:us-east-1:123456789012:instance/*"}}}, Allowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, tc.policy).Evaluate(tc.req); got != tc.want {
				t.Errorf("Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

// An operation on several resources is allowed only when every one of them is; the denial names
// the first refused, in AWS's words.
func TestAuthorizeAndMessage(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ec2:RunInstances","Resource":["arn:aws:ec2:*:*:instance/*","arn:aws:ec2:*::image/*"]},
		{"Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*"}]}`)
	reqs := []Request{
		{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*"},
		{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0"},
		{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1"},
	}
	d := p.Authorize(reqs)
	if d == nil || d.Request.Resource != reqs[2].Resource || d.Decision != ImplicitDeny {
		t.Fatalf("Authorize = %+v, want the subnet denied by default", d)
	}
	want := "User: arn:aws:iam::123456789012:user/local is not authorized to perform: ec2:RunInstances on resource: " +
		"arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1 because no identity-based policy allows the ec2:RunInstances action"
	if got := d.Message("arn:aws:iam::123456789012:user/local"); got != want {
		t.Errorf("Message =\n%s\nwant\n%s", got, want)
	}
	if d := p.Authorize(reqs[:2]); d != nil {
		t.Errorf("Authorize of allowed resources = %+v", d)
	}
	d = p.Authorize([]Request{{Action: "ec2:TerminateInstances", Resource: "*"}})
	want = "User: u is not authorized to perform: ec2:TerminateInstances with an explicit deny in an identity-based policy"
	if d == nil || d.Message("u") != want {
		t.Errorf("explicit deny: %+v, want %q", d, want)
	}
	var none *Policy
	if d := none.Authorize(reqs); d != nil {
		t.Errorf("no policy denied %+v", d)
	}
}

// Every problem of a document is reported, each saying where.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want []string
	}{
		{`not json`, []string{"not a JSON object"}},
		{`{"Statement":[]}`, []string{"Version: missing"}},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:*","Resource":"*"}} {}`, []string{"more after"}},
		{`{"Version":"2012-10-18","Statement":{"Effect":"Permit","Action":"GetParameters","Resource":"parameter/x","Principal":"*","Extra":1}}`,
			[]string{"Version: \"2012-10-18\" is not a policy version", "Statement[0].Effect: \"Permit\" is not Allow or Deny",
				`action "GetParameters" is not service:action`, `resource "parameter/x" is not an ARN`,
				"Statement[0].Principal: an identity-based policy names no principal", "Statement[0].Extra: unknown key"}},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b","NotAction":"a:c"},{"Effect":"Deny","Action":[],"Resource":"*","Condition":{"NumericLessThan":{"k":"1"}}}]}`,
			[]string{"Statement[0]: both Action and NotAction", "Statement[0]: no Resource", "Statement[1].Action: an empty list",
				"Statement[1].Condition.NumericLessThan: the emulator does not evaluate this condition operator"}},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil {
			t.Errorf("%s: no error", tc.doc)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s:\n%v\nwant it to say %q", tc.doc, err, w)
			}
		}
	}
	if _, err := Parse([]byte(strings.Repeat(" ", MaxSize+1))); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("an oversized document: %v", err)
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"a*", "abc", true}, {"a*c", "abc", true}, {"a*c", "abd", false}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"*b*", "abc", true}, {"a**", "a", true}, {"", "", true}, {"", "a", false},
		{"/clients/acme/*", "/clients/acme/DB", true}, {"/clients/acme/*", "/clients/acmex/DB", false},
	} {
		if got := glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %t, want %t", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// BenchmarkAuthorize: a RunInstances as the emulator evaluates it (ten requests: seven resources,
// tagging at launch, PassRole, the image parameter) against a policy of the size flow iam writes
// for provision.yaml, all allowed, so every statement is tried for every request.
func BenchmarkAuthorize(b *testing.B) {
	p, err := Parse([]byte(`{"Version": "2012-10-17", "Statement": [
		{"Sid": "A", "Effect": "Allow", "Action": ["ec2:CreateTags"], "Resource": ["arn:aws:ec2:*:*:instance/*"]},
		{"Sid": "B", "Effect": "Allow", "Action": ["ec2:DescribeInstances", "ec2:DescribeVpcs", "route53:CreateHostedZone", "route53:ListHostedZonesByName"], "Resource": ["*"]},
		{"Sid": "C", "Effect": "Allow", "Action": ["ec2:RunInstances"], "Resource": ["arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:*:*:key-pair/*",
			"arn:aws:ec2:*:*:network-interface/*", "arn:aws:ec2:*:*:security-group/*", "arn:aws:ec2:*:*:subnet/*", "arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*::image/*"]},
		{"Sid": "D", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": ["arn:aws:iam::*:role/*"]},
		{"Sid": "E", "Effect": "Allow", "Action": ["route53:GetHostedZone"], "Resource": ["arn:aws:route53:::hostedzone/*"]},
		{"Sid": "F", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter"], "Resource": ["arn:aws:ssm:*:*:parameter/*"]}]}`))
	if err != nil {
		b.Fatal(err)
	}
	ctx := map[string][]string{"aws:RequestedRegion": {"us-east-1"}}
	var reqs []Request
	for _, r := range []string{"instance/*", "network-interface/*", "volume/*", "subnet/subnet-0123456789abcdef0",
		"security-group/sg-0123456789abcdef0", "key-pair/ops"} {
		reqs = append(reqs, Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:123456789012:" + r, Context: ctx})
	}
	reqs = append(reqs,
		Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0", Context: ctx},
		Request{Action: "ec2:CreateTags", Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*", Context: ctx},
		Request{Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/app", Context: ctx},
		Request{Action: "ssm:GetParameters", Resource: "arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", Context: ctx})
	b.ReportAllocs()
	for b.Loop() {
		if d := p.Authorize(reqs); d != nil {
			b.Fatal(d.Message("u"))
		}
	}
}
