package ec2

import (
	"context"
	"time"
)

// InstanceView is what other emulated services may read of an instance: instance metadata
// (package imds) answers from it. It is a copy; changing it changes nothing.
type InstanceView struct {
	ID               string
	ImageID          string
	InstanceType     string
	State            string // pending | running | stopping | stopped | shutting-down | terminated
	PrivateIP        string
	PrivateDNSName   string // ip-10-0-1-23.ec2.internal (us-east-1) or ip-....REGION.compute.internal
	AvailabilityZone string
	Region           string
	SubnetID         string
	VpcID            string
	LaunchTime       time.Time
	Tags             []Tag  // in the order they were created
	MetadataTags     bool   // MetadataOptions.InstanceMetadataTags == "enabled"
	UserData         []byte // decoded; nil when the instance has none

	// The fields below were added for instance metadata's other categories. A terminated
	// instance has no PrivateIP, PrivateDNSName, SubnetID, VpcID, MAC or SecurityGroups, as in
	// DescribeInstances.

	ReservationID         string
	AccountID             string
	Architecture          string // x86_64 | arm64, the image's
	LaunchIndex           int    // ami-launch-index
	KeyName               string // "" when launched without a key pair
	MAC                   string // of the primary network interface
	SecurityGroups        []string
	IAMInstanceProfileARN string // "" without an instance profile
	IAMInstanceProfileID  string
	MetadataEndpoint      bool // MetadataOptions.HttpEndpoint == "enabled"
}

// Tag is one EC2 tag.
type Tag struct {
	Key   string
	Value string
}

// Parameters resolves the `resolve:ssm:NAME` form of an ImageId from the emulated Parameter
// Store of the launch's region. ParameterValue returns ok=false when no parameter has that name
// in region, and ctx's error when ctx is done before the store could be read.
type Parameters interface {
	ParameterValue(ctx context.Context, region, name string) (value string, ok bool, err error)
}
