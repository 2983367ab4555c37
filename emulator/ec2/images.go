package ec2

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"time"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// Image is a machine image the emulated EC2 can launch instances from.
type Image struct {
	ID           string // ami- and 17 hex digits
	Name         string
	Description  string
	Architecture string // x86_64 | arm64
	// OwnerID is the account that owns the image; empty means the emulated account itself (an
	// image of one's own, such as a golden image built with Packer).
	OwnerID        string
	OwnerAlias     string // "amazon" for Amazon's images, "" otherwise
	Public         bool
	CreationDate   time.Time
	RootDeviceName string // e.g. /dev/xvda
	BootMode       string // uefi-preferred | uefi | legacy-bios; "" when the image says nothing
	// IMDSv2 is the image's ImdsSupport v2.0: instances launched from it default to
	// HttpTokens=required and a hop limit of 2, as on AWS.
	IMDSv2 bool
	// Parameters are the public Parameter Store names AWS publishes the image's id under, such
	// as /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64. The emulator
	// seeds its Parameter Store with them.
	Parameters []string
}

// AmazonOwnerID is the account that owns the Amazon Linux images.
const AmazonOwnerID = "137112412989"

// latest is the prefix of the public parameters of the Amazon Linux images.
const latest = "/aws/service/ami-amazon-linux-latest/"

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
	}
	return images
}

// instanceID is the form of an instance id: i- and 8 or 17 hex digits.
var instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// imageByID returns the image with that id among the service's images.
func (s *Service) imageByID(id string) (Image, bool) {
	for _, im := range s.images {
		if im.ID == id {
			return im, true
		}
	}
	return Image{}, false
}

// imageOwner returns the account that owns im.
func (s *Service) imageOwner(im Image) string {
	if im.OwnerID == "" {
		return s.b.account
	}
	return im.OwnerID
}
