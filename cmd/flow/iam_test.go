package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-infra/flow/steps"
)

// flowT runs the flow command in-process and returns its exit code and everything it printed.
func flowT(args ...string) (int, string) {
	var out bytes.Buffer
	code := Main(args, &out, &out)
	return code, out.String()
}

// iamCase is one shipped workflow and the runs that together call every action its policy
// grants: setup runs first, with no policy; then runs, each under the policy. In runs, {acme}
// and {beta} stand for the ids of those clients' instances, {local.} for that zone's.
type iamCase struct {
	workflow string
	setup    [][]string
	runs     [][]string
}

var iamCases = []iamCase{
	{workflow: "provision",
		runs: [][]string{
			// A new zone, a launch with an instance profile, settings written.
			{"../../workflows/provision.yaml", "-v", "client=acme", "-v", "instance_profile=app", "-v", "param_prefix=/clients/acme/",
				"-v", "params={DB_HOST: db}"},
			// The zone exists: it is read for its VPC.
			{"../../workflows/provision.yaml", "-v", "client=beta", "-v", "params={DB_HOST: db2}"},
		}},
	{workflow: "fleet",
		runs: [][]string{
			{"../../workflows/fleet.yaml", "-v", "parallel=1", "-v", "clients={acme: {instance_profile: app, params: {DB_HOST: db}}, beta: {params: {DB_HOST: db2}}}"},
		}},
	{workflow: "boot",
		setup: [][]string{
			{"../../workflows/provision.yaml", "-v", "client=acme", "-v", "param_prefix=/clients/acme/", "-v", "params={DB_HOST: db}"},
			{"../../workflows/provision.yaml", "-v", "client=beta", "-v", "params={DB_HOST: db2}"},
		},
		runs: [][]string{
			// The zone by the id in its tag; the settings by their path.
			{"--instance", "{acme}", "../../workflows/boot.yaml"},
			// The zone by name; the settings by their plain prefix.
			{"--instance", "{beta}", "../../workflows/boot.yaml", "-v", "zone=local."},
			// The zone by its id alone: read for its name.
			{"--instance", "{beta}", "../../workflows/boot.yaml", "-v", "zone_id={local.}"},
		}},
	{workflow: "status",
		setup: [][]string{
			{"../../workflows/provision.yaml", "-v", "client=acme", "-v", "param_prefix=/clients/acme/", "-v", "params={DB_HOST: db}"},
			{"../../workflows/provision.yaml", "-v", "client=beta", "-v", "params={DB_HOST: db2}"},
		},
		runs: [][]string{
			// gamma has no instance: its zone is looked up by name.
			{"../../workflows/status.yaml", "-v", "clients={acme: {}, beta: {}, gamma: {}}"},
		}},
	{workflow: "deprovision",
		setup: [][]string{
			{"../../workflows/provision.yaml", "-v", "client=acme", "-v", "param_prefix=/clients/acme/", "-v", "params={DB_HOST: db}"},
			{"../../workflows/provision.yaml", "-v", "client=beta", "-v", "params={DB_HOST: db2}"},
			{"--instance", "{acme}", "../../workflows/boot.yaml"},
			{"--instance", "{beta}", "../../workflows/boot.yaml"},
		},
		runs: [][]string{
			{"../../workflows/deprovision.yaml", "-v", "client=acme"},
			{"../../workflows/deprovision.yaml", "-v", "client=beta", "-v", "zone=local."},
		}},
}

// Each shipped workflow that calls AWS runs on the emulator under exactly the policy `flow iam`
// prints for it, and under that policy less any one action, a run fails with AccessDenied naming
// that action: the policy is enough, and nothing in it is more than needed.
func TestWorkflowsRunUnderTheirPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs each shipped workflow once per action of its policy")
	}
	for _, tc := range iamCases {
		t.Run(tc.workflow, func(t *testing.T) {
			t.Parallel()
			code, out := flowT("iam", "../../workflows/"+tc.workflow+".yaml")
			if code != 0 {
				t.Fatalf("flow iam: exit %d: %s", code, out)
			}
			var policy steps.Policy
			if err := json.Unmarshal([]byte(out), &policy); err != nil {
				t.Fatalf("flow iam printed no policy: %v\n%s", err, out)
			}
			base := t.TempDir()
			ids := map[string]string{}
			for _, args := range tc.setup {
				localRun(t, base, "", args, ids, true)
			}

			dir := copyState(t, base)
			for _, args := range tc.runs {
				if out, ok := localRun(t, dir, writePolicy(t, policy), args, ids, false); !ok {
					t.Fatalf("under its own policy: %s", out)
				}
			}

			t.Logf("%d actions: %s", len(policyActions(policy)), strings.Join(policyActions(policy), " "))
			for _, action := range policyActions(policy) {
				dir := copyState(t, base)
				file := writePolicy(t, without(policy, action))
				denied := false
				for _, args := range tc.runs {
					out, ok := localRun(t, dir, file, args, ids, false)
					if !ok {
						if !strings.Contains(out, "is not authorized to perform: "+action+" ") {
							t.Errorf("without %s the run failed otherwise:\n%s", action, out)
						}
						denied = true
						break
					}
				}
				if !denied {
					t.Errorf("without %s every run succeeded: the policy grants more than the workflow needs", action)
				}
			}
		})
	}
}

// localRun runs flow run --local on the state in dir, under the policy in file ("" for none),
// with the emulator's Route 53 changes PENDING for a moment (so that waiting for them calls
// GetChange). must fails the test on a failure; after a run it learns the clients' instances and
// the zones' ids.
func localRun(t *testing.T, dir, file string, args []string, ids map[string]string, must bool) (string, bool) {
	t.Helper()
	cmd := []string{"run", "--local", "--local-dir", dir, "--seed", "iam", "--change-delay", "1ns"}
	if file != "" {
		cmd = append(cmd, "--policy", file)
	}
	for _, a := range args {
		for client, id := range ids {
			a = strings.ReplaceAll(a, "{"+client+"}", id)
		}
		cmd = append(cmd, a)
	}
	code, out := flowT(cmd...)
	if code != 0 && must {
		t.Fatalf("flow %s: exit %d\n%s", strings.Join(cmd, " "), code, out)
	}
	if code == 0 {
		code, local := flowT("local", "--local-dir", dir, "-o", "json")
		var view struct {
			Instances []struct {
				ID   string            `json:"id"`
				Tags map[string]string `json:"tags"`
			} `json:"instances"`
			Zones []struct {
				Name string `json:"name"`
				ID   string `json:"id"`
			} `json:"hosted_zones"`
		}
		if code != 0 || json.Unmarshal([]byte(local), &view) != nil {
			t.Fatalf("flow local: %s", local)
		}
		for _, in := range view.Instances {
			ids[in.Tags["ClientId"]] = in.ID
		}
		for _, z := range view.Zones {
			ids[z.Name] = z.ID
		}
	}
	return out, code == 0
}

// copyState copies the emulator's state directory, so that each run starts from the same state.
func copyState(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

func writePolicy(t *testing.T, p steps.Policy) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(file, p.JSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// policyActions lists every action a policy grants.
func policyActions(p steps.Policy) []string {
	var out []string
	for _, st := range p.Statement {
		out = append(out, st.Action...)
	}
	return out
}

// without is p less one action (and less its statement, if that was its only action).
func without(p steps.Policy, action string) steps.Policy {
	out := steps.Policy{Version: p.Version}
	for _, st := range p.Statement {
		var kept []string
		for _, a := range st.Action {
			if a != action {
				kept = append(kept, a)
			}
		}
		if len(kept) > 0 {
			st.Action = kept
			out.Statement = append(out.Statement, st)
		}
	}
	return out
}
