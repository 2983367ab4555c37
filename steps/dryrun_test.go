package steps

import (
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
