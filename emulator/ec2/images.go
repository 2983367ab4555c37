package ec2

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sync"
	"time"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// Image is a machine image the emulated EC2 can launch instances from: one of Amazon's public
// images of the region, or an image of one's own (made by CreateImage or RegisterImage, kept in
// the state).
type Image struct {
	ID           string `json:"id"` // ami- and 17 hex digits
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	Architecture string `json:"architecture"` // x86_64 | arm64 | i386
	// OwnerID is the account that owns the image; empty means the emulated account itself (an
	// image of one's own, such as a golden image built with Packer).
	OwnerID        string    `json:"ownerId,omitempty"`
	OwnerAlias     string    `json:"ownerAlias,omitempty"` // "amazon" for Amazon's images, "" otherwise
	Public         bool      `json:"public,omitempty"`
	CreationDate   time.Time `json:"creationDate"`
	RootDeviceName string    `json:"rootDeviceName"`     // e.g. /dev/xvda
	BootMode       string    `json:"bootMode,omitempty"` // uefi-preferred | uefi | legacy-bios; "" when the image says nothing
	// IMDSv2 is the image's ImdsSupport v2.0: instances launched from it default to
	// HttpTokens=required and a hop limit of 2, as on AWS.
	IMDSv2 bool `json:"imdsV2,omitempty"`
	// Parameters are the public Parameter Store names AWS publishes the image's id under, such
	// as /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64. The emulator
	// seeds its Parameter Store with them.
	Parameters []string `json:"parameters,omitempty"`
	// State is pending, available or deregistered; "" is available. A pending image becomes
	// available once the service's PendingFor has passed since CreationDate.
	State string `json:"state,omitempty"`
	// SourceInstanceID is the instance CreateImage made the image of.
	SourceInstanceID string `json:"sourceInstanceId,omitempty"`
	// SourceImageID and SourceImageRegion are the image CopyImage made the image of.
	SourceImageID     string `json:"sourceImageId,omitempty"`
	SourceImageRegion string `json:"sourceImageRegion,omitempty"`
	// VirtualizationType is hvm or paravirtual.
	VirtualizationType string `json:"virtualizationType"`
	ENASupport         bool   `json:"enaSupport,omitempty"`
	SriovNetSupport    string `json:"sriovNetSupport,omitempty"` // simple, or ""
	// Devices are the image's block device mappings, the root device's among them.
	Devices []BlockDevice `json:"devices"`
}

// BlockDevice is one block device mapping of an image: an EBS volume made from a snapshot (or
// empty, of a size), or, with NoDevice, a device of the image that a launch suppresses.
type BlockDevice struct {
	DeviceName          string `json:"deviceName"`
	SnapshotID          string `json:"snapshotId,omitempty"`
	VolumeSize          int    `json:"volumeSize,omitempty"` // GiB
	VolumeType          string `json:"volumeType,omitempty"`
	DeleteOnTermination bool   `json:"deleteOnTermination,omitempty"`
	Encrypted           bool   `json:"encrypted,omitempty"`
	NoDevice            bool   `json:"noDevice,omitempty"`
}

// The states of an image.
const (
	imagePending      = "pending"
	imageAvailable    = "available"
	imageDeregistered = "deregistered"
)

// AmazonOwnerID is the account that owns the Amazon Linux images.
const AmazonOwnerID = "137112412989"

// latest is the prefix of the public parameters of the Amazon Linux images.
const latest = "/aws/service/ami-amazon-linux-latest/"

// publicRootSize is the size, in GiB, of the root volume of Amazon's images.
const publicRootSize = 8

// PublicImages returns the fixed catalog of Amazon Linux images of region: Amazon Linux 2023
// (standard and minimal) and Amazon Linux 2, for x86_64 and arm64, each with the public
// parameters AWS publishes it under. Ids depend only on the region and the image's name, so
// they are the same in every process and every run, and differ between regions as on AWS.
func PublicImages(region string) []Image {
	if region == "" {
		region = wire.DefaultRegion
	}
	created := time.Date(2025, 5, 12, 20, 44, 21, 0, time.UTC)
	al2023 := func(name, desc, arch string, params ...string) Image {
		return Image{Name: name, Description: desc, Architecture: arch, BootMode: "uefi-preferred", IMDSv2: true, Parameters: params}
	}
	al2 := func(name, desc, arch string, params ...string) Image {
		return Image{Name: name, Description: desc, Architecture: arch, Parameters: params}
	}
	images := []Image{
		al2023("al2023-ami-2023.7.20250512.0-kernel-6.1-x86_64", "Amazon Linux 2023 AMI 2023.7.20250512.0 x86_64 HVM kernel-6.1", "x86_64",
			latest+"al2023-ami-kernel-default-x86_64", latest+"al2023-ami-kernel-6.1-x86_64"),
		al2023("al2023-ami-2023.7.20250512.0-kernel-6.1-arm64", "Amazon Linux 2023 AMI 2023.7.20250512.0 arm64 HVM kernel-6.1", "arm64",
			latest+"al2023-ami-kernel-default-arm64", latest+"al2023-ami-kernel-6.1-arm64"),
		al2023("al2023-ami-minimal-2023.7.20250512.0-kernel-6.1-x86_64", "Amazon Linux 2023 AMI 2023.7.20250512.0 x86_64 Minimal HVM kernel-6.1", "x86_64",
			latest+"al2023-ami-minimal-kernel-default-x86_64", latest+"al2023-ami-minimal-kernel-6.1-x86_64"),
		al2023("al2023-ami-minimal-2023.7.20250512.0-kernel-6.1-arm64", "Amazon Linux 2023 AMI 2023.7.20250512.0 arm64 Minimal HVM kernel-6.1", "arm64",
			latest+"al2023-ami-minimal-kernel-default-arm64", latest+"al2023-ami-minimal-kernel-6.1-arm64"),
		al2("amzn2-ami-hvm-2.0.20250512.0-x86_64-gp2", "Amazon Linux 2 AMI 2.0.20250512.0 x86_64 HVM gp2", "x86_64",
			latest+"amzn2-ami-hvm-x86_64-gp2"),
		al2("amzn2-ami-hvm-2.0.20250512.0-arm64-gp2", "Amazon Linux 2 AMI 2.0.20250512.0 arm64 HVM gp2", "arm64",
			latest+"amzn2-ami-hvm-arm64-gp2"),
		al2("amzn2-ami-kernel-5.10-hvm-2.0.20250512.0-x86_64-gp2", "Amazon Linux 2 Kernel 5.10 AMI 2.0.20250512.0 x86_64 HVM gp2", "x86_64",
			latest+"amzn2-ami-kernel-5.10-hvm-x86_64-gp2"),
		al2("amzn2-ami-kernel-5.10-hvm-2.0.20250512.0-arm64-gp2", "Amazon Linux 2 Kernel 5.10 AMI 2.0.20250512.0 arm64 HVM gp2", "arm64",
			latest+"amzn2-ami-kernel-5.10-hvm-arm64-gp2"),
	}
	for i := range images {
		im := &images[i]
		sum := sha256.Sum256([]byte("flow-emulator/ec2/" + region + "/" + im.Name))
		im.ID = "ami-" + hex.EncodeToString(sum[:])[:17]
		im.OwnerID = AmazonOwnerID
		im.OwnerAlias = "amazon"
		im.Public = true
		im.CreationDate = created
		im.RootDeviceName = "/dev/xvda"
		im.VirtualizationType = "hvm"
		im.ENASupport = true
		im.SriovNetSupport = "simple"
		snap := sha256.Sum256([]byte(im.ID))
		im.Devices = []BlockDevice{{
			DeviceName:          im.RootDeviceName,
			SnapshotID:          "snap-" + hex.EncodeToString(snap[:])[:17],
			VolumeSize:          publicRootSize,
			VolumeType:          "gp3",
			DeleteOnTermination: true,
		}}
	}
	return images
}

// instanceID is the form of an instance id: i- and 8 or 17 hex digits.
var instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// imageName is what EC2 allows in an image's name: 3 to 128 letters, digits, parentheses,
// square brackets, spaces, periods, slashes, dashes, single quotes, at-signs and underscores.
var imageName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$`) })

// maxImageDescription is the longest description an image may have, in characters.
const maxImageDescription = 255

// rootDevice returns the mapping of im's root device; ok is false when it has none.
func (im Image) rootDevice() (BlockDevice, bool) {
	for _, d := range im.Devices {
		if d.DeviceName == im.RootDeviceName && !d.NoDevice {
			return d, true
		}
	}
	return BlockDevice{}, false
}

// stateAt returns the state im is in at now: a pending image is available once pendingFor has
// passed since it was created.
func (im Image) stateAt(now time.Time, pendingFor time.Duration) string {
	switch {
	case im.State == "":
		return imageAvailable
	case im.State == imagePending && !now.Before(im.CreationDate.Add(pendingFor)):
		return imageAvailable
	}
	return im.State
}
