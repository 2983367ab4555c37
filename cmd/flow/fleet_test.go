package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdFleet provisions N instances on the state directory DIR (flow run --local, four at a
// time), waits until flow local -o json gives each its own imds_endpoint (a flow emulate must
// serve DIR, at $AWS_ENDPOINT_URL), then boots them all at once, each a flow process given
// AWS_ENDPOINT_URL and its own AWS_EC2_METADATA_SERVICE_ENDPOINT; it fails unless every boot
// exits 0 and every client's record points at its own instance:
//
//	fleet 60 state
func cmdFleet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: fleet N DIR")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		ts.Fatalf("fleet: %q is not a number of instances", args[0])
	}
	dir := args[1]
	work := ts.Getenv("WORK")
	env := []string{"HOME=" + ts.Getenv("HOME"), "TMPDIR=" + ts.Getenv("TMPDIR"), "PATH=" + os.Getenv("PATH")}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "FLOW_EMULATOR_SEED"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	flow := func(extra []string, args ...string) ([]byte, error) {
		cmd := exec.Command("flow", args...)
		cmd.Dir, cmd.Env = work, append(env[:len(env):len(env)], extra...)
		return cmd.CombinedOutput()
	}

	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := flow(nil, "run", "--local", "--local-dir", dir, "workflows/provision.yaml", "-v", fmt.Sprintf("client=c%03d", i),
				"-v", `params={DB_HOST: db.internal, DB_PORT: "5432"}`, "-v", `secure_params={DB_PASSWORD: s3cret}`)
			if err != nil {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("provision c%03d: %v\n%s", i, err, out))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		ts.Fatalf("%d provisions failed; the first: %s", len(failed), failed[0])
	}

	var st localState
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err := flow(nil, "local", "--local-dir", dir, "-o", "json")
		if err != nil {
			ts.Fatalf("flow local: %v\n%s", err, out)
		}
		st = localState{}
		if err := json.Unmarshal(out, &st); err != nil {
			ts.Fatalf("flow local -o json: %v", err)
		}
		ready := 0
		for _, in := range st.Instances {
			if in.IMDSEndpoint != "" {
				ready++
			}
		}
		if len(st.Instances) == n && ready == n {
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("after a minute, %d of %d instances have their own metadata address", ready, n)
		}
	}

	for _, in := range st.Instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			root := filepath.Join("roots", in.ID)
			os.MkdirAll(filepath.Join(work, root), 0o755)
			out, err := flow([]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + in.IMDSEndpoint}, "run", "workflows/boot.yaml", "--root", root)
			if err != nil {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("boot of %s (%s): %v\n%s", in.ID, in.Tags["ClientId"], err, out))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		ts.Fatalf("%d of %d boots failed; the first: %s", len(failed), n, failed[0])
	}

	out, err := flow(nil, "local", "--local-dir", dir, "-o", "json")
	if err != nil {
		ts.Fatalf("flow local: %v\n%s", err, out)
	}
	st = localState{}
	if err := json.Unmarshal(out, &st); err != nil {
		ts.Fatalf("flow local -o json: %v", err)
	}
	records := map[string]string{}
	for _, z := range st.Zones {
		for _, r := range z.Records {
			if r.Type == "A" && len(r.Values) == 1 {
				records[strings.TrimSuffix(r.Name, "."+z.Name)] = r.Values[0]
			}
		}
	}
	for _, in := range st.Instances {
		if got := records[in.Tags["ClientId"]]; got != in.PrivateIP {
			ts.Fatalf("%s.local points at %q, want its instance %s's %s", in.Tags["ClientId"], got, in.ID, in.PrivateIP)
		}
	}
	ts.Logf("%d boots at once exited 0; every record points at its own instance", n)
}
