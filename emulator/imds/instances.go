package imds

import "github.com/flow-infra/flow/emulator/ec2"

// Instances is the emulated EC2 as instance metadata sees it.
type Instances interface {
	// Instance returns the instance with that id; ok=false when there is none.
	Instance(id string) (view ec2.InstanceView, ok bool, err error)
	// LatestRunning returns the most recently launched instance that is running; ok=false when
	// none is.
	LatestRunning() (view ec2.InstanceView, ok bool, err error)
}
