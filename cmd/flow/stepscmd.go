package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/flow-infra/flow/engine"
	"github.com/flow-infra/flow/steps"
	"github.com/spf13/cobra"
)

func (c *cli) stepsCommand() *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "steps [NAME]",
		Short: "List the step types, or describe one",
		Long:  "List the step types, or describe one: its inputs and outputs with their types, defaults and docs.",
		Args:  cobra.MaximumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return steps.Default.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if markdown {
				names := args
				if len(names) == 0 {
					names = steps.Default.Names()
				}
				for _, name := range names {
					t, err := lookupStep(name)
					if err != nil {
						return err
					}
					writeMarkdown(c.stdout, t)
				}
				return nil
			}
			if len(args) == 0 {
				w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				for _, name := range steps.Default.Names() {
					t, _ := steps.Default.Lookup(name)
					fmt.Fprintf(w, "%s\t%s\n", name, firstSentence(t.Doc()))
				}
				return w.Flush()
			}
			t, err := lookupStep(args[0])
			if err != nil {
				return err
			}
			c.describeStep(t)
			return nil
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "write the reference as Markdown (the README's step reference is this)")
	return cmd
}

// writeMarkdown writes a step type's reference: its doc, then its inputs and outputs as tables.
func writeMarkdown(w io.Writer, t engine.StepType) {
	fmt.Fprintf(w, "### `%s`\n\n%s\n\n", t.Name(), t.Doc())
	table := func(title string, fields []engine.Field, input bool) {
		if len(fields) == 0 {
			fmt.Fprintf(w, "%s: none.\n\n", title)
			return
		}
		if input {
			fmt.Fprintf(w, "| %s | type | | description |\n| --- | --- | --- | --- |\n", title)
		} else {
			fmt.Fprintf(w, "| %s | type | description |\n| --- | --- | --- |\n", title)
		}
		for _, f := range fields {
			doc := strings.ReplaceAll(f.Doc, "|", "\\|")
			if input {
				notes := fieldNotes(f, func(s string) string { return "`" + s + "`" })
				fmt.Fprintf(w, "| `%s` | `%s` | %s | %s |\n", f.Name, f.Type, notes, doc)
			} else {
				if f.Secret {
					doc += " (secret)"
				}
				fmt.Fprintf(w, "| `%s` | `%s` | %s |\n", f.Name, f.Type, doc)
			}
		}
		fmt.Fprintln(w)
	}
	table("input", t.Inputs(), true)
	table("output", t.Outputs(), false)
}

func (c *cli) describeStep(t engine.StepType) {
	fmt.Fprintf(c.stdout, "%s\n\n%s\n", t.Name(), wrap(t.Doc(), 78))
	section := func(title string, fields []engine.Field, input bool) {
		fmt.Fprintf(c.stdout, "\n%s:\n", title)
		if len(fields) == 0 {
			fmt.Fprintln(c.stdout, "  (none)")
			return
		}
		w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		for _, f := range fields {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", f.Name, f.Type, fieldNotes(f, func(s string) string { return s }), f.Doc)
		}
		w.Flush()
	}
	section("inputs", t.Inputs(), true)
	section("outputs", t.Outputs(), false)
}

// fieldNotes says what a field's type does not: required, its values, its default (values written
// by code), secret.
func fieldNotes(f engine.Field, code func(string) string) string {
	var notes []string
	if f.Required {
		notes = append(notes, "required")
	}
	if len(f.Enum) > 0 {
		quoted := make([]string, len(f.Enum))
		for i, e := range f.Enum {
			quoted[i] = code(e)
		}
		notes = append(notes, "one of "+strings.Join(quoted, ", "))
	}
	if f.Default != nil {
		notes = append(notes, "default "+code(formatValue(f.Default)))
	}
	if f.Secret {
		notes = append(notes, "secret")
	}
	return strings.Join(notes, ", ")
}

// lookupStep finds a step type by the name a person gave.
func lookupStep(name string) (engine.StepType, error) {
	t, ok := steps.Default.Lookup(name)
	if !ok {
		return nil, invalid(fmt.Errorf("unknown step type %q; `flow steps` lists them", name), nil)
	}
	return t, nil
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
