package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/emulator/ec2"
	"github.com/flow-infra/flow/engine"
	"github.com/flow-infra/flow/steps"
	"github.com/spf13/cobra"
)

// runFlags are `flow run`'s options.
type runFlags struct {
	vars     []string
	varsFile string
	dryRun   bool
	offline  bool
	output   string
	root     string
	stateDir string
	local    bool
	emu      emulatorFlags
}

func (c *cli) runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Check a workflow, then run its steps",
		Long: `Check a workflow, then run its steps in order. Nothing runs if any check fails (exit 2).

Inputs come from -v NAME=VALUE (repeatable) and --vars-file FILE (a YAML or JSON mapping);
-v wins. A list or map input is written as YAML or JSON: -v 'params={DB_HOST: db.internal}'.

--dry-run checks, then prints each step with its arguments resolved as far as they can be (a
value only a run would produce is shown as <expression>), and changes nothing. It reads, as a
run would, so it needs the AWS a run needs: steps that only read (ec2.list, ssm.get,
route53.get, ...) run for real, the steps after them are planned with what they read, and steps
that delete (ec2.terminate, ssm.delete, route53.delete) name exactly what they would delete.
Only Describe, Get and List calls are sent. --offline makes it read nothing: no AWS
configuration, no call.

-o json writes one JSON event a line (run_started, step_started, step_progress, step_retrying, step_finished,
run_finished; plan for --dry-run): see the README for the schema.

AWS comes from the SDK's standard chain (AWS_PROFILE, AWS_REGION, shared config, SSO, the
environment, AWS_ENDPOINT_URL[_<SERVICE>], AWS_EC2_METADATA_SERVICE_ENDPOINT). With --local it
is the embedded emulator instead, with its state in --local-dir (the directory flow emulate
serves): no credentials, no network. Files a local run writes go under that instance's folder
in the local dir (or --root), never the host's /etc or /var/lib.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.offline && !f.dryRun {
				return invalid(fmt.Errorf("--offline applies to a dry run: add --dry-run"), nil)
			}
			if !f.local {
				for _, name := range []string{"local-dir", "seed", "region", "instance", "faults", "pending", "change-delay", "policy"} {
					if cmd.Flags().Changed(name) {
						return invalid(fmt.Errorf("--%s applies to the embedded emulator: add --local", name), nil)
					}
				}
			}
			if f.local {
				if err := f.emu.validate(); err != nil {
					return err
				}
				if f.emu.instance != "" && !exists(f.emu.dir) {
					return invalid(fmt.Errorf("--instance %s: the emulator in %s has no such instance (it holds no state yet)", f.emu.instance, f.emu.dir), nil)
				}
			}
			return c.run(cmd.Context(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.vars, "var", "v", nil, "set an input: `NAME=VALUE` (repeatable)")
	fl.StringVar(&f.varsFile, "vars-file", "", "read inputs from `FILE`, a YAML or JSON mapping")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check and show what would run, changing nothing")
	fl.BoolVar(&f.offline, "offline", false, "with --dry-run: read nothing, make no AWS call")
	fl.StringVarP(&f.output, "output", "o", "text", "output `FORMAT`: text or json")
	fl.StringVar(&f.root, "root", "", "prefix every path a step writes with `DIR` (as rpm --root does)")
	fl.StringVar(&f.stateDir, "state-dir", "/var/lib/flow", "the `DIR` where once: instance records and concurrency groups' locks are kept (under --root when set)")
	fl.BoolVar(&f.local, "local", false, "run on the embedded AWS emulator, with its state in --local-dir")
	f.emu.register(cmd)
	return cmd
}

func (c *cli) run(ctx context.Context, file string, f runFlags) error {
	if f.output != "text" && f.output != "json" {
		return invalid(fmt.Errorf("-o %s: the output format is text or json", f.output), nil)
	}
	env := environ()
	wf, inputs, masker, err := c.loadRun(file, f, env)
	if err != nil {
		return err
	}
	out := c.printer(f.output)
	opt := engine.Options{Inputs: inputs, Env: env, Masker: masker, Events: out.event, Root: f.root, ProgressEvery: out.progressEvery()}
	now, err := frozenClock(&opt)
	if err != nil {
		return invalid(err, nil)
	}
	a, done, err := f.connect(ctx, &opt)
	if err != nil {
		return err
	}
	defer done()
	ctx = steps.WithAWS(ctx, a)
	stateDir := f.stateDir
	if opt.Root != "" {
		stateDir = filepath.Join(opt.Root, filepath.Clean("/"+stateDir))
	}
	once := &steps.OnceRecords{Dir: stateDir, Root: opt.Root, InstanceID: steps.InstanceIDFromIMDS(a), Now: now}
	defer once.Close()
	opt.Once = once
	ctx, stop := interruptible(ctx)
	defer stop()
	if f.dryRun {
		if err := engine.Plan(ctx, wf, opt); err != nil {
			msg := masker.Mask(err.Error())
			if engine.ReadFailed(err) {
				msg += " (--offline plans without reading)"
			}
			return &exitError{code: exitFailed, err: fmt.Errorf("dry run: %s", msg)}
		}
		return nil
	}
	if wf.Concurrency != "" {
		release, err := steps.HoldGroup(ctx, opt.Root, f.stateDir, wf.Concurrency, func(path string) {
			fmt.Fprintf(c.stderr, "flow: waiting for another run of concurrency group %s to end (%s)\n", wf.Concurrency, path)
		})
		if err != nil {
			return &exitError{code: exitFailed, err: err}
		}
		defer release()
	}
	res := engine.Run(ctx, wf, opt)
	if res.Status != engine.StatusSucceeded {
		return &exitError{code: exitFailed}
	}
	return nil
}

// loadRun loads and checks the workflow, then resolves its inputs from the vars file, -v and the
// environment env; every error it returns is invalid input (exit 2), positioned where it can be.
func (c *cli) loadRun(file string, f runFlags, env map[string]string) (*engine.Workflow, map[string]any, *engine.Masker, error) {
	sources := map[string][]byte{}
	wf, err := loadWorkflow(file, sources)
	if err != nil {
		return nil, nil, nil, c.rejected(f.output, err, sources, file)
	}
	c.printWarnings(wf, sources)
	given := map[string]engine.Given{}
	if f.varsFile != "" {
		fromFile, err := engine.ReadVarsFile(f.varsFile)
		if err != nil {
			return nil, nil, nil, c.rejected(f.output, err, sources, f.varsFile)
		}
		given = fromFile
	}
	if err := addVars(given, f.vars); err != nil {
		return nil, nil, nil, invalid(err, nil)
	}
	masker := new(engine.Masker)
	inputs, err := wf.ResolveInputs(given, env, masker)
	if err != nil {
		return nil, nil, nil, c.rejected(f.output, err, sources, file)
	}
	return wf, inputs, masker, nil
}

// frozenClock sets opt's clock from FLOW_CLOCK, for golden tests: every event at one instant, every
// duration zero. It returns the clock the run uses.
func frozenClock(opt *engine.Options) (func() time.Time, error) {
	frozen := os.Getenv("FLOW_CLOCK")
	if frozen == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, frozen)
	if err != nil {
		return nil, fmt.Errorf("FLOW_CLOCK=%s: expected an RFC 3339 time such as 2026-01-02T03:04:05Z", frozen)
	}
	opt.Now = func() time.Time { return t }
	opt.Jitter = func(d time.Duration) time.Duration { return d }
	return opt.Now, nil
}

// connect chooses the AWS a run talks to: the SDK's standard chain, or with --local the embedded
// emulator (opened here; done closes it), whose host directory becomes the root when none is given.
// A local dry run of a state directory that does not exist yet opens nothing, so it creates nothing.
func (f runFlags) connect(ctx context.Context, opt *engine.Options) (*steps.AWS, func(), error) {
	retry, err := retryPolicy()
	if err != nil {
		return nil, nil, invalid(err, nil)
	}
	a := steps.DefaultAWS(retry)
	opt.Reads = f.dryRun && !f.offline
	switch {
	case f.local && f.dryRun && !exists(f.emu.dir):
		// A dry run changes nothing, not even by creating the emulator's state; with no state
		// there is nothing to read either, and never the real AWS in its place.
		opt.Reads = false
		if opt.Root == "" {
			opt.Root = filepath.Join(f.emu.dir, "host")
		}
	case f.local:
		e, err := f.emu.open()
		if err != nil {
			return nil, nil, err
		}
		a = steps.LocalAWS(e.Transport(), e.Region())
		a.Retry = retry
		if opt.Root == "" {
			if opt.Root, err = localRoot(ctx, e, f.emu); err != nil {
				e.Close()
				return nil, nil, err
			}
		}
		return a, func() { e.Close() }, nil
	}
	return a, func() {}, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// retryPolicy is how AWS calls are retried: flow's defaults for a boot, each wait capped by
// FLOW_RETRY_MAX_BACKOFF when set (a duration: tests of throttling use it to stay quick).
func retryPolicy() (steps.Retry, error) {
	var r steps.Retry
	if v := os.Getenv("FLOW_RETRY_MAX_BACKOFF"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return r, fmt.Errorf("FLOW_RETRY_MAX_BACKOFF=%s: expected a positive duration such as 10ms", v)
		}
		r.MaxBackoff = d
	}
	return r, nil
}

// localRoot is where a local run writes files: the folder of the instance that instance
// metadata answers as, or the local dir's host folder when no instance is running.
func localRoot(ctx context.Context, e *emulator.Emulator, f emulatorFlags) (string, error) {
	var view ec2.InstanceView
	var ok bool
	var err error
	if f.instance != "" {
		view, ok, err = e.EC2().Instance(ctx, f.instance)
		if err == nil && !ok {
			return "", invalid(fmt.Errorf("--instance %s: the emulator in %s has no such instance", f.instance, f.dir), nil)
		}
	} else {
		view, ok, err = e.EC2().LatestRunning(ctx)
	}
	if err != nil {
		return "", err
	}
	if !ok {
		return filepath.Join(f.dir, "host"), nil
	}
	return filepath.Join(f.dir, "instances", view.ID), nil
}

// interruptible returns a context cancelled by SIGINT or SIGTERM, whose cause names the signal.
func interruptible(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			name := "SIGTERM"
			if sig == os.Interrupt {
				name = "SIGINT"
			}
			cancel(fmt.Errorf("interrupted (%s)", name))
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel(nil)
	}
}

// environ returns the process environment as a map.
func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// addVars adds each -v NAME=VALUE to given, over what a vars file gave.
func addVars(given map[string]engine.Given, vars []string) error {
	for _, arg := range vars {
		name, g, err := engine.ParseVar(arg)
		if err != nil {
			return err
		}
		given[name] = g
	}
	return nil
}
