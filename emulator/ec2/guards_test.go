package ec2_test

import (
	"github.com/flow-infra/flow/emulator/ec2"
	"github.com/flow-infra/flow/emulator/imds"
	"github.com/flow-infra/flow/emulator/route53"
)

// The emulated EC2 is what instance metadata and Route 53 read instances and VPCs from.
var (
	_ imds.Instances = (*ec2.Service)(nil)
	_ route53.VPCs   = (*ec2.Service)(nil)
)
