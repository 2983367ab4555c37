// Command flow runs YAML workflows that provision cloud machines and bring them up at boot. This
// package is the command line only: flags, output and exit codes; the language is package engine,
// the step types package steps, the AWS emulator package emulator.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flow-infra/flow/engine"
	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0 // the command did what it was asked
	exitFailed  = 1 // a step failed at run time, or the run was interrupted
	exitInvalid = 2 // the workflow or the command line is invalid; nothing ran
)

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }

// Main runs the flow command with args and returns its exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	cli := &cli{stdout: stdout, stderr: stderr}
	root := cli.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.err != nil {
			cli.printError(ex.err, ex.sources)
		}
		if ex.usage != "" {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", ex.usage)
		}
		return ex.code
	}
	// cobra's own errors: unknown command or flag, wrong number of arguments.
	fmt.Fprintf(stderr, "flow: %v\nRun 'flow --help' for usage.\n", err)
	return exitInvalid
}

// cli holds what every command shares: where output goes.
type cli struct {
	stdout, stderr io.Writer
}

// exitError carries an exit code out of a command, and the error to print (nil when the command
// already reported it). sources lets the printer show the offending line of a workflow file.
type exitError struct {
	code    int
	err     error
	sources map[string][]byte
	usage   string // the command whose --help to point at, for a command-line error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func invalid(err error, sources map[string][]byte) error {
	return &exitError{code: exitInvalid, err: err, sources: sources}
}

func (c *cli) printError(err error, sources map[string][]byte) {
	var list engine.Errors
	var one *engine.Error
	if errors.As(err, &list) || errors.As(err, &one) {
		engine.PrettyPrint(c.stderr, err, c.snippets(sources), colorful(c.stderr))
		return
	}
	fmt.Fprintf(c.stderr, "flow: %v\n", err)
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "flow",
		Short: "Run declarative YAML workflows that provision cloud machines and bring them up at boot",
		Long: strings.TrimSpace(`
flow runs YAML workflows: typed steps (ec2.run, ssm.get, route53.upsert, env.write, exec, ...)
passing values on with ${{ expressions }}, all checked before the first step runs.

Exit codes: 0 success; 1 a step failed at run time (or the run was interrupted);
2 the workflow or the command line is invalid, and nothing ran.`),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(c.runCommand(), c.validateCommand(), c.stepsCommand(), c.emulateCommand(), c.localCommand(), c.schemaCommand(), c.iamCommand(), c.versionCommand())
	for _, cmd := range root.Commands() {
		if cmd.RunE != nil {
			cmd.RunE = failed(cmd.RunE)
		}
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: exitInvalid, err: err, usage: cmd.CommandPath()}
	})
	return root
}

// failed gives an error a command returns without an exit code of its own (the emulator's
// state cannot be opened, AWS refused a call) exit 1: it happened while doing the work, so the
// command line was fine and no usage hint is printed.
func failed(run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		var ex *exitError
		if err != nil && !errors.As(err, &ex) {
			return &exitError{code: exitFailed, err: err}
		}
		return err
	}
}

// snippets returns the sources a problem's source line and caret are shown from: all of them on a
// terminal, none elsewhere, where a log or a program reading stderr wants one line a problem.
func (c *cli) snippets(sources map[string][]byte) map[string][]byte {
	if !terminal(c.stderr) {
		return nil
	}
	return sources
}

// colorful reports whether w is a terminal that should get colour (and NO_COLOR is not set).
func colorful(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return terminal(w)
}

// terminal reports whether w is a terminal.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
