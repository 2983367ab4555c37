package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/flow-infra/flow/steps"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdSSMDelete deletes parameters of the local emulator in .flow by name, with the SDK's
// DeleteParameter, as an operator would by hand (no workflow, no prefix):
//
//	ssm-delete acme.DB_HOST
func cmdSSMDelete(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: ssm-delete NAME...")
	}
	f := emulatorFlags{dir: ts.MkAbs(".flow"), region: "us-east-1"}
	e, err := f.open()
	ts.Check(err)
	defer e.Close()
	ctx := context.Background()
	cfg, err := steps.LocalAWS(e.Transport(), e.Region()).Load(ctx)
	ts.Check(err)
	c := ssm.NewFromConfig(cfg)
	for _, name := range args {
		_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
		ts.Check(err)
	}
}
