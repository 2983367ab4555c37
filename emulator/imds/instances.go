package imds

import (
	"context"

	"github.com/flow-infra/flow/emulator/ec2"
)

// Instances is the emulated EC2 as instance metadata sees it. Both methods return ctx's error
// when ctx is done before they could answer.
type Instances interface {
	// Instance returns the instance with that id; ok=false when there is none.
	Instance(ctx context.Context, id string) (view ec2.InstanceView, ok bool, err error)
	// LatestRunning returns the most recently launched instance that is running;
	// ok=false when none is.
	LatestRunning(ctx context.Context) (view ec2.InstanceView, ok bool, err error)
}
