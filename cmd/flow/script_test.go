package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/scripts")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"flow": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/scripts/*.txtar: one behaviour of the flow command a file, the
// command run as a real process.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "scripts"),
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("FLOW_CLOCK", "2026-01-02T03:04:05Z")
			env.Setenv("NO_COLOR", "1")
			// Nothing from the developer's AWS setup leaks into a test.
			kept := env.Vars[:0]
			for _, kv := range env.Vars {
				if !strings.HasPrefix(kv, "AWS_") {
					kept = append(kept, kv)
				}
			}
			env.Vars = kept
			env.Setenv("AWS_CONFIG_FILE", filepath.Join(env.WorkDir, "no-aws-config"))
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(env.WorkDir, "no-aws-credentials"))
			// The shipped workflows, as a checkout has them: flow run workflows/boot.yaml.
			return copyWorkflows(filepath.Join(env.WorkDir, "workflows"))
		},
		// [fleet]: the fleet script starts 60 flow processes at once (about 35 s on two cores);
		// FLOW_FLEET_TEST=0 leaves it out on a machine too small for that.
		Condition: func(cond string) (bool, error) {
			if cond == "fleet" {
				return os.Getenv("FLOW_FLEET_TEST") != "0", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":         cmdExits,
			"waitfile":      cmdWaitfile,
			"setenv":        cmdSetenv,
			"stdout2env":    cmdStdoutToEnv,
			"mkfifo":        cmdMkfifo,
			"userdata-boot": cmdUserDataBoot,
			"samefile":      cmdSameFile,
			"fleet":         cmdFleet,
			"ssm-delete":    cmdSSMDelete,
		},
	})
}

// cmdExits runs a program like exec and checks its exact exit status:
//
//	exits 2 flow validate bad.yaml
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not an exit code", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdMkfifo makes a named pipe (Unix only; guard the script with [unix]):
//
//	mkfifo pipe.yaml
func cmdMkfifo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkfifo FILE")
	}
	ts.Check(mkfifo(ts.MkAbs(args[0])))
}

// cmdWaitfile waits up to 20 seconds for a file to exist: a background command's sign that it
// has reached a point.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	ts.Fatalf("%s did not appear within 20s", args[0])
}

// cmdSetenv sets an environment variable from the first line of a file:
//
//	setenv ENDPOINT addr
func cmdSetenv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: setenv NAME FILE")
	}
	line, _, _ := strings.Cut(ts.ReadFile(args[1]), "\n")
	ts.Setenv(args[0], strings.TrimSpace(line))
}

// cmdStdoutToEnv sets an environment variable to the last command's standard output, trimmed:
//
//	exec aws ec2 run-instances ... --query Instances[0].InstanceId --output text
//	stdout2env INSTANCE
func cmdStdoutToEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stdout2env NAME")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile("stdout")))
}

// copyWorkflows copies the repository's workflows/*.yaml into dir.
func copyWorkflows(dir string) error {
	files, err := filepath.Glob(filepath.Join("..", "..", "workflows", "*.yaml"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
