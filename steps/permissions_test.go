package steps

import (
	"encoding/json"

	"github.com/flow-infra/flow/engine"
	"regexp"
	"strings"
	"testing"
)

// apiCall is how a plan line names an AWS call: service:Operation.
var apiCall = regexp.MustCompile(`^(ec2|ssm|route53|iam|kms):[A-Za-z]+$`)

// A step type that calls AWS declares its permissions: every call its plan shows is among the
// actions it declares, and every type of an AWS family (ec2., ssm., route53.) is a Permissioner.
// (The shipped workflows run under exactly what their steps declare: cmd/flow's
// TestWorkflowsRunUnderTheirPolicy.)
func TestAWSStepTypesDeclareTheirPermissions(t *testing.T) {
	for _, name := range Default.Names() {
		typ := Default.types[name]
		args := map[string]any{}
		for _, f := range typ.Inputs() {
			if f.Default != nil {
				args[f.Name] = f.Default
			}
		}
		perms, declares := Default.Permissions(name, args)
		family, _, _ := strings.Cut(name, ".")
		if !declares && (family == "ec2" || family == "ssm" || family == "route53") {
			t.Errorf("%s calls AWS and declares no permissions: make it a Permissioner", name)
		}
		declared := map[string]bool{}
		for _, p := range perms {
			declared[p.Action] = true
			if len(p.Resources) == 0 {
				t.Errorf("%s declares %s on no resource", name, p.Action)
			}
		}
		for _, line := range typ.Plan(engine.NewRuntime("test", "s", "", nil), args) {
			call, _, _ := strings.Cut(line, " ")
			if apiCall.MatchString(call) && !declared[call] {
				t.Errorf("%s plans %s but does not declare it (declares %v)", name, call, perms)
			}
		}
	}
}

// Declarations follow the inputs: known values give exact ARNs, values only a run knows a
// wildcard at their place, and a hierarchy is read on its path.
func TestPermissionsFollowInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args map[string]any
		want []Permission
	}{
		{"ssm.get", map[string]any{"prefix": "/clients/acme/", "decrypt": true}, []Permission{
			{"ssm:GetParametersByPath", []string{"arn:aws:ssm:*:*:parameter/clients/acme"}}}},
		{"ssm.get", map[string]any{"prefix": "acme."}, []Permission{
			{"ssm:DescribeParameters", []string{"*"}}, {"ssm:GetParameters", []string{"arn:aws:ssm:*:*:parameter/acme.*"}}}},
		{"ssm.get", map[string]any{"names": []any{"/a/b", "c"}}, []Permission{
			{"ssm:GetParameters", []string{"arn:aws:ssm:*:*:parameter/a/b", "arn:aws:ssm:*:*:parameter/c"}}}},
		{"route53.upsert", map[string]any{"zone_id": "/hostedzone/Z1", "name": "a", "values": []any{"10.0.0.1"}, "wait": false, "read": true}, []Permission{
			{"route53:GetHostedZone", []string{"arn:aws:route53:::hostedzone/Z1"}},
			{"route53:ListResourceRecordSets", []string{"arn:aws:route53:::hostedzone/Z1"}},
			{"route53:ChangeResourceRecordSets", []string{"arn:aws:route53:::hostedzone/Z1"}}}},
		{"route53.upsert", map[string]any{"zone_id": "Z1", "zone": "local.", "name": "a", "values": []any{"10.0.0.1"}, "wait": false, "read": false}, []Permission{
			{"route53:ChangeResourceRecordSets", []string{"arn:aws:route53:::hostedzone/Z1"}}}},
		{"route53.upsert", map[string]any{"zone_id": "Z1", "zone": "local.", "name": "a", "values": []any{"10.0.0.1"}, "wait": false, "read": engine.Unknown{Text: "<steps.x.exists>"}}, []Permission{
			{"route53:ListResourceRecordSets", []string{"arn:aws:route53:::hostedzone/Z1"}},
			{"route53:ChangeResourceRecordSets", []string{"arn:aws:route53:::hostedzone/Z1"}}}},
		{"ssm.put", map[string]any{"name": engine.Unknown{Text: "/clients/<inputs.client>/DB"}, "value": "v", "overwrite": true}, []Permission{
			{"ssm:PutParameter", []string{"arn:aws:ssm:*:*:parameter/clients/*"}},
			{"ssm:GetParameter", []string{"arn:aws:ssm:*:*:parameter/clients/*"}}}},
		{"ec2.tag", map[string]any{"instance_id": "i-0123456789abcdef0", "tags": map[string]any{"k": "v"}}, []Permission{
			{"ec2:DescribeInstances", []string{"*"}}, {"ec2:CreateTags", []string{"arn:aws:ec2:*:*:instance/i-0123456789abcdef0"}}}},
	} {
		got, _ := Default.Permissions(tc.name, tc.args)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(tc.want)
		if string(g) != string(w) {
			t.Errorf("%s %v:\n got %s\nwant %s", tc.name, tc.args, g, w)
		}
	}
}

// The policy document: one statement per set of resources, narrowest resources, sorted, with
// Sids.
func TestPolicyOf(t *testing.T) {
	p := PolicyOf([]Permission{
		{"ssm:GetParameters", []string{"arn:aws:ssm:*:*:parameter/a/b"}},
		{"ssm:GetParameters", []string{"arn:aws:ssm:*:*:parameter/a/*"}},
		{"ec2:DescribeInstances", []string{"*"}},
		{"route53:ListHostedZonesByName", []string{"*", "arn:aws:route53:::hostedzone/Z"}},
		{"ssm:PutParameter", []string{"arn:aws:ssm:*:*:parameter/a/*"}},
	})
	want := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Ec2DescribeInstances",
      "Effect": "Allow",
      "Action": [
        "ec2:DescribeInstances",
        "route53:ListHostedZonesByName"
      ],
      "Resource": [
        "*"
      ]
    },
    {
      "Sid": "SsmGetParameters",
      "Effect": "Allow",
      "Action": [
        "ssm:GetParameters",
        "ssm:PutParameter"
      ],
      "Resource": [
        "arn:aws:ssm:*:*:parameter/a/*"
      ]
    }
  ]
}
`
	if got := string(p.JSON()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
