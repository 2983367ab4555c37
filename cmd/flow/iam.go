package main

import (
	"fmt"

	"github.com/flow-infra/flow/engine"
	"github.com/flow-infra/flow/steps"
	"github.com/spf13/cobra"
)

func (c *cli) iamCommand() *cobra.Command {
	var vars []string
	var varsFile string
	cmd := &cobra.Command{
		Use:   "iam FILE",
		Short: "Print the least-privilege IAM policy a workflow needs",
		Long: `Print the identity-based IAM policy (JSON, Version 2012-10-17) that every run of a workflow
needs and no more, ready to attach as it is (aws iam put-role-policy --policy-document file://...).
It is derived from the workflow's steps, called workflows' included: each AWS step type declares
the actions it calls and on what resources, as precisely as its inputs allow. An input given with
-v or --vars-file is taken as given; any other, and any value only a run produces, may be
anything, so its part of an ARN is a wildcard (an ssm.get with prefix /clients/acme/ reads
arn:aws:ssm:*:*:parameter/clients/acme; with a prefix only a run knows, parameter/*). Nothing is
run and no AWS call is made. The output is deterministic: statements and their lists sorted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			sources := map[string][]byte{}
			wf, err := loadWorkflow(file, sources)
			if err != nil {
				return c.rejected("text", err, sources, file)
			}
			given := map[string]engine.Given{}
			if varsFile != "" {
				if given, err = engine.ReadVarsFile(varsFile); err != nil {
					return c.rejected("text", err, sources, varsFile)
				}
			}
			if err := addVars(given, vars); err != nil {
				return invalid(err, nil)
			}
			env := environ()
			masker := new(engine.Masker)
			inputs, err := wf.OpenInputs(given, env, masker)
			if err != nil {
				return c.rejected("text", err, sources, file)
			}
			var perms []steps.Permission
			collect := func(e engine.Event) {
				if e.Event == "plan" && e.Status == "planned" {
					p, _ := steps.Default.Permissions(e.Uses, e.With)
					perms = append(perms, p...)
				}
			}
			if err := engine.Plan(cmd.Context(), wf, engine.Options{Inputs: inputs, Env: env, Masker: masker, Events: collect}); err != nil {
				return &exitError{code: exitFailed, err: fmt.Errorf("deriving the policy: %s", masker.Mask(err.Error()))}
			}
			policy := steps.PolicyOf(perms)
			if len(policy.Statement) == 0 {
				// IAM takes no policy without a statement: say so rather than print one to attach.
				fmt.Fprintf(c.stderr, "flow iam: %s calls no AWS API: it needs no IAM permission\n", file)
			}
			_, err = c.stdout.Write([]byte(masker.Mask(string(policy.JSON()))))
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&vars, "var", "v", nil, "take an input as given: `NAME=VALUE` (repeatable)")
	cmd.Flags().StringVar(&varsFile, "vars-file", "", "take inputs as given from `FILE`, a YAML or JSON mapping")
	return cmd
}
