package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
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
	cfg, done := scriptAWS(ts)
	defer done()
	ctx := context.Background()
	c := ssm.NewFromConfig(cfg)
	for _, name := range args {
		_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
		ts.Check(err)
	}
}
