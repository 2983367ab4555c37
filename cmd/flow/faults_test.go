package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFaultsConverge provisions and boots a fleet under injected faults (throttling, server errors
// and latency on a share of the emulator's requests), the runs of one client or one instance at
// the same moment, and checks that what the runs leave is what one clean run would: 10 clients
// provisioned 3 times each and their instances booted 3 times each, 10 runs at a time, each a
// flow process with --faults. A run whose retries the faults exhaust fails; it is run again
// without faults, as an operator or the next boot would. Then there must be one instance per
// client (no duplicate launched by two runs racing on one client token), every parameter at
// version 1 (no extra version from two puts of one value), each once-per-instance setup run
// once, each env file complete and mode 0600, no temporary file left anywhere, and each client's
// DNS record on its own instance.
func TestFaultsConverge(t *testing.T) {
	if os.Getenv("FLOW_FAULT_TEST") != "1" {
		t.Skip("FLOW_FAULT_TEST=1 runs it: 60 flow processes under faults, about 75 s on 2 cores")
	}
	flow, err := exec.LookPath("flow")
	if err != nil {
		t.Fatal(err)
	}
	workflows, err := filepath.Abs(filepath.Join("..", "..", "workflows"))
	if err != nil {
		t.Fatal(err)
	}
	const clients, each, atOnce = 10, 3, 10
	const faults = "throttle=0.2,error=0.1,latency=20ms@0.2"
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "NO_COLOR=1", "PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir(),
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	flowRun := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, flow, args...)
		cmd.Dir, cmd.Env = dir, env
		return cmd.CombinedOutput()
	}
	// converge runs every job atOnce at a time with faults, then each failed one again without,
	// which must succeed; it returns how many failed under faults.
	converge := func(what string, jobs [][]string) int {
		sem := make(chan struct{}, atOnce)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failed [][]string
		for _, job := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if _, err := flowRun(append([]string{"run", "--faults", faults}, job...)...); err != nil {
					mu.Lock()
					failed = append(failed, job)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, job := range failed {
			if out, err := flowRun(append([]string{"run"}, job...)...); err != nil {
				t.Fatalf("%s: flow run %s failed again without faults: %v\n%s", what, strings.Join(job, " "), err, out)
			}
		}
		t.Logf("%s: %d runs, %d at a time; %d failed under faults and converged when run again", what, len(jobs), atOnce, len(failed))
		return len(failed)
	}

	var provisions [][]string
	for range each {
		for c := range clients {
			provisions = append(provisions, []string{"--local", "--local-dir", "state", filepath.Join(workflows, "provision.yaml"),
				"-v", fmt.Sprintf("client=c%02d", c), "-v", "params={A: a, B: b}", "-v", "secure_params={P: s3cret}"})
		}
	}
	converge("provisions", provisions)
	st := readLocalState(t, flowRun)
	byClient := map[string][]localInstance{}
	for _, in := range st.Instances {
		if in.State != "terminated" {
			byClient[in.Tags["ClientId"]] = append(byClient[in.Tags["ClientId"]], in)
		}
	}
	if len(byClient) != clients {
		t.Fatalf("%d clients have instances, want %d", len(byClient), clients)
	}
	for client, ins := range byClient {
		if len(ins) != 1 {
			t.Errorf("client %s has %d instances, want 1: %v", client, len(ins), ins)
		}
	}
	checkParameters(t, st, clients)

	var boots [][]string
	for range each {
		for _, ins := range byClient {
			id := ins[0].ID
			setup := fmt.Sprintf("setup=[sh, -c, 'echo ran >> %s']", filepath.Join(dir, "setup-"+id))
			boots = append(boots, []string{"--local", "--local-dir", "state", "--instance", id, "--root", filepath.Join("roots", id),
				filepath.Join(workflows, "boot.yaml"), "-v", setup})
		}
	}
	converge("boots", boots)
	st = readLocalState(t, flowRun)
	checkParameters(t, st, clients)
	records := map[string]string{}
	for _, z := range st.Zones {
		for _, r := range z.Records {
			if r.Type == "A" && len(r.Values) == 1 {
				records[strings.TrimSuffix(r.Name, "."+z.Name)] = r.Values[0]
			}
		}
	}
	for client, ins := range byClient {
		id := ins[0].ID
		if got, err := os.ReadFile(filepath.Join(dir, "setup-"+id)); err != nil || string(got) != "ran\n" {
			t.Errorf("%s: the once-per-instance setup left %q (%v), want one run", id, got, err)
		}
		envFile := filepath.Join(dir, "roots", id, "etc", "flow", "app.env")
		got, err := os.ReadFile(envFile)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var lines []string
		for _, l := range strings.Split(string(got), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		if want := []string{`A="a"`, `B="b"`, `P="s3cret"`}; !slices.Equal(lines, want) {
			t.Errorf("%s: app.env holds %q, want %q", id, lines, want)
		}
		if info, err := os.Stat(envFile); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: app.env mode %v (%v), want 0600", id, info.Mode().Perm(), err)
		}
		if records[client] != ins[0].PrivateIP {
			t.Errorf("%s.local points at %q, want %s's %s", client, records[client], id, ins[0].PrivateIP)
		}
	}
	// No temporary file is left, in the roots or in the emulator's state.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(d.Name(), ".tmp") {
			t.Errorf("a temporary file is left: %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readLocalState reads the emulator's state with flow local -o json.
func readLocalState(t *testing.T, flowRun func(args ...string) ([]byte, error)) localState {
	t.Helper()
	out, err := flowRun("local", "--local-dir", "state", "-o", "json")
	if err != nil {
		t.Fatalf("flow local: %v\n%s", err, out)
	}
	var st localState
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("flow local -o json: %v", err)
	}
	return st
}

// checkParameters checks that each client has its three parameters, each at version 1.
func checkParameters(t *testing.T, st localState, clients int) {
	t.Helper()
	if len(st.Parameters) != 3*clients {
		t.Errorf("%d parameters, want %d", len(st.Parameters), 3*clients)
	}
	for _, p := range st.Parameters {
		if p.Version != 1 {
			t.Errorf("parameter %s is at version %d, want 1: a put of the value it held made a new version", p.Name, p.Version)
		}
	}
}
