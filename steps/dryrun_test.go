package steps

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/engine"
)

// In a dry run's context the AWS clients read and refuse everything else before it is sent:
// a step that would change something, run there by mistake, fails and changes nothing.
func TestDryRunCallsOnlyRead(t *testing.T) {
	s := newEC2TestSetup(t, emulator.Options{Seed: "dry-run"})
	acme := launchT(t, s.ctx, "acme", nil)["instance_id"].(string)
	dry := engine.WithDryRun(s.ctx)

	list, err := runStepT(t, dry, "ec2.list", map[string]any{"filters": map[string]any{"tag:ClientId": []any{"acme"}}})
	if err != nil || list["count"] != 1 {
		t.Fatalf("ec2.list in a dry run: %v, %v", list, err)
	}
	_, err = runStepT(t, dry, "ec2.terminate", map[string]any{"filters": map[string]any{"tag:ClientId": []any{"acme"}}, "wait": false})
	if err == nil || !strings.Contains(err.Error(), "a dry run changes nothing: TerminateInstances was refused") {
		t.Errorf("ec2.terminate in a dry run: %v; want TerminateInstances refused", err)
	}
	if st := ec2StateName(s.instance(t, acme)); st != "running" {
		t.Errorf("the instance is %s after a dry run's terminate", st)
	}
	_, err = runStepT(t, dry, "ssm.put", map[string]any{"name": "acme.DB_HOST", "value": "db"})
	if err == nil || !strings.Contains(err.Error(), "PutParameter was refused") {
		t.Errorf("ssm.put in a dry run: %v; want PutParameter refused", err)
	}
	got, err := runStepT(t, s.ctx, "ssm.list", map[string]any{"prefix": "acme."})
	if err != nil || got["count"] != 0 {
		t.Errorf("after a dry run's ssm.put: %v, %v; want no parameter", got, err)
	}
}

// previewT previews the step type name with args (defaults filled in) in a dry run's context.
func previewT(t *testing.T, ctx context.Context, name string, args map[string]any) ([]string, error) {
	t.Helper()
	typ, _ := Default.Lookup(name)
	p, ok := typ.(engine.Previewer)
	if !ok {
		t.Fatalf("%s is not a Previewer", name)
	}
	full := map[string]any{}
	for _, f := range typ.Inputs() {
		if f.Default != nil {
			full[f.Name] = f.Default
		}
	}
	for k, v := range args {
		full[k] = v
	}
	return p.Preview(engine.WithDryRun(ctx), engine.NewRuntime("test", "s", "", nil), full)
}

// The steps that delete preview exactly what they would delete, one client's and no other's,
// and what they would leave and why; previewing changes nothing.
func TestDeletePreviews(t *testing.T) {
	s := newEC2TestSetup(t, emulator.Options{Seed: "previews"})
	ctx := s.ctx
	acme := launchT(t, ctx, "acme", nil)
	beta := launchT(t, ctx, "beta", nil)["instance_id"].(string)
	zone, err := runStepT(t, ctx, "route53.zone", map[string]any{"name": "local.", "vpc": acme["vpc_id"]})
	if err != nil {
		t.Fatal(err)
	}
	zoneID, ip := zone["zone_id"].(string), acme["private_ip"].(string)
	for name, value := range map[string]string{"acme": ip, "beta": "10.9.9.9"} {
		if _, err := runStepT(t, ctx, "route53.upsert", map[string]any{"zone_id": zoneID, "name": name, "values": []any{value}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"acme.A", "acme.B", "acme2.A", "beta.A"} {
		if _, err := runStepT(t, ctx, "ssm.put", map[string]any{"name": n, "value": "v"}); err != nil {
			t.Fatal(err)
		}
	}
	id := acme["instance_id"].(string)

	for _, tc := range []struct {
		step string
		args map[string]any
		want []string
	}{
		{"ec2.terminate", map[string]any{"filters": map[string]any{"tag:ClientId": []any{"acme"}}}, []string{
			"ec2:DescribeInstances tag:ClientId=acme (paginated)",
			"ec2:TerminateInstances " + id,
			"ec2:DescribeInstances until " + id + " terminated (every 2s to 15s, up to 10m0s)"}},
		{"ec2.terminate", map[string]any{"filters": map[string]any{"tag:ClientId": []any{"zed"}}}, []string{
			"ec2:DescribeInstances tag:ClientId=zed (paginated)",
			"nothing to terminate: no instance matches"}},
		{"ssm.delete", map[string]any{"prefix": "acme.", "client": "acme"}, []string{
			"ssm:DescribeParameters Name BeginsWith acme. (paginated)",
			"ssm:DeleteParameters acme.A acme.B"}},
		{"route53.delete", map[string]any{"zone": "local.", "private": true, "name": "acme", "values": []any{ip}}, []string{
			"route53:ListHostedZonesByName local.",
			"route53:ListResourceRecordSets acme.local. A in zone " + zoneID + " (local.) (MaxItems 1)",
			"route53:ChangeResourceRecordSets DELETE acme.local. A 300 [" + ip + "] in zone " + zoneID + " (local.)",
			"route53:GetChange until INSYNC"}},
		{"route53.delete", map[string]any{"zone_id": zoneID, "name": "beta", "values": []any{"10.0.0.2"}, "wait": false}, []string{
			"route53:GetHostedZone " + zoneID,
			"route53:ListResourceRecordSets beta.local. A in zone " + zoneID + " (local.) (MaxItems 1)",
			"nothing to delete: beta.local. points at 10.9.9.9, not only at 10.0.0.2: left as it is"}},
	} {
		got, err := previewT(t, ctx, tc.step, tc.args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v previews\n%q, %v\nwant\n%q", tc.step, tc.args, got, err, tc.want)
		}
	}
	if _, err := previewT(t, ctx, "ssm.delete", map[string]any{"prefix": "acme", "client": "acme"}); err == nil {
		t.Error("ssm.delete previewed a prefix that reaches other clients' names")
	}

	for _, inst := range []string{id, beta} {
		if st := ec2StateName(s.instance(t, inst)); st != "running" {
			t.Errorf("instance %s is %s after the previews", inst, st)
		}
	}
	if got, err := runStepT(t, ctx, "ssm.list", map[string]any{"prefix": "acme."}); err != nil || got["count"] != 2 {
		t.Errorf("acme's parameters after the previews: %v, %v", got, err)
	}
	if got, err := runStepT(t, ctx, "route53.get", map[string]any{"zone_id": zoneID, "name": "acme"}); err != nil || got["exists"] != true {
		t.Errorf("acme.local. after the previews: %v, %v", got, err)
	}
}
