package main

import (
	"fmt"
	"io"

	"github.com/flow-infra/flow/engine"
	"github.com/flow-infra/flow/steps"
	"github.com/spf13/cobra"
)

func (c *cli) validateCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check workflows without running anything",
		Long: `Check workflows without running anything: YAML syntax, unknown keys, step types and their
arguments, and every expression's names and types. Every problem is reported, at its line and
column. Exit 2 if any file has a problem.

-o json writes each problem (and warning) as a JSON object a line: file, line, column, end_line
and end_column when known, severity, rule (the check that found it) and message. -o github
writes them as GitHub Actions annotations (::error file=...,line=...::message), which mark the
lines in a pull request.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			var write func(io.Writer, []diagnostic)
			switch output {
			case "text":
			case "json":
				write = writeJSON
			case "github":
				write = writeGitHub
			default:
				return invalid(fmt.Errorf("-o %s: the output format is text, json or github", output), nil)
			}
			sources := map[string][]byte{}
			bad := 0
			for _, file := range files {
				wf, err := loadWorkflow(file, sources)
				if err != nil {
					bad++
				}
				switch {
				case write != nil && err != nil:
					write(c.stdout, diagnosticsOf(err, severityError, file))
				case write != nil:
					if len(wf.Warnings) > 0 {
						write(c.stdout, diagnosticsOf(wf.Warnings, severityWarning, file))
					}
				case err != nil:
					c.printError(err, sources)
				default:
					c.printWarnings(wf, sources)
					fmt.Fprintf(c.stdout, "%s: ok (%s, %d steps)\n", file, wf.Name, len(wf.Steps))
				}
			}
			if bad > 0 {
				return &exitError{code: exitInvalid}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text, json or github")
	return cmd
}

// loadWorkflow reads and checks a workflow against the default step registry, keeping its
// source in sources for error printing.
func loadWorkflow(file string, sources map[string][]byte) (*engine.Workflow, error) {
	src, err := engine.ReadSource(file)
	if err != nil {
		return nil, err
	}
	sources[file] = src
	return engine.Load(file, src, steps.Default)
}

func (c *cli) printWarnings(wf *engine.Workflow, sources map[string][]byte) {
	for _, w := range wf.Warnings {
		fmt.Fprint(c.stderr, "warning: ")
		engine.PrettyPrint(c.stderr, w, c.snippets(sources), colorful(c.stderr))
	}
}
