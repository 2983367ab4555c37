package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/flow-infra/flow/engine"
	"github.com/spf13/cobra"
)

// runFlags are `flow run`'s options.
type runFlags struct {
	vars     []string
	varsFile string
	dryRun   bool
	output   string
	root     string
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
value only a run would produce is shown as <expression>), and changes nothing.

-o json writes one JSON event a line (run_started, step_started, step_retrying, step_finished,
run_finished; plan for --dry-run): see the README for the schema.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.run(cmd.Context(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.vars, "var", "v", nil, "set an input: NAME=VALUE (repeatable)")
	fl.StringVar(&f.varsFile, "vars-file", "", "read inputs from a YAML or JSON mapping")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check and show what would run, changing nothing")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	fl.StringVar(&f.root, "root", "", "prefix every path a step writes with `DIR` (as rpm --root does)")
	return cmd
}

func (c *cli) run(ctx context.Context, file string, f runFlags) error {
	if f.output != "text" && f.output != "json" {
		return invalid(fmt.Errorf("-o %s: the output format is text or json", f.output), nil)
	}
	sources := map[string][]byte{}
	wf, err := loadWorkflow(file, sources)
	if err != nil {
		return invalid(err, sources)
	}
	c.printWarnings(wf, sources)
	given := map[string]engine.Given{}
	if f.varsFile != "" {
		fromFile, err := engine.ReadVarsFile(f.varsFile)
		if err != nil {
			return invalid(err, sources)
		}
		given = fromFile
	}
	for _, arg := range f.vars {
		name, g, err := engine.ParseVar(arg)
		if err != nil {
			return invalid(err, nil)
		}
		given[name] = g
	}
	env := environ()
	masker := new(engine.Masker)
	inputs, err := wf.ResolveInputs(given, env, masker)
	if err != nil {
		return invalid(err, sources)
	}
	out := c.printer(f.output)
	opt := engine.Options{Inputs: inputs, Env: env, Masker: masker, Events: out.event, Root: f.root}
	if frozen := os.Getenv("FLOW_CLOCK"); frozen != "" {
		// For golden tests: every event at one instant, every duration zero.
		t, err := time.Parse(time.RFC3339, frozen)
		if err != nil {
			return invalid(fmt.Errorf("FLOW_CLOCK=%s: expected an RFC 3339 time such as 2026-01-02T03:04:05Z", frozen), nil)
		}
		opt.Now = func() time.Time { return t }
		opt.Jitter = func(d time.Duration) time.Duration { return d }
	}
	if f.dryRun {
		if err := engine.Plan(wf, opt); err != nil {
			return &exitError{code: exitFailed, err: fmt.Errorf("dry run: %s", masker.Mask(err.Error()))}
		}
		return nil
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	res := engine.Run(ctx, wf, opt)
	if res.Status != engine.StatusSucceeded {
		return &exitError{code: exitFailed}
	}
	return nil
}

// interruptible returns a context cancelled by SIGINT or SIGTERM, whose cause names the signal.
func interruptible(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			cancel(fmt.Errorf("interrupted by %s", sig))
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
