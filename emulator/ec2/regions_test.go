package ec2

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// openIn opens the service on dir with fallback as the region of unsigned requests, and returns
// a client signed for each region asked.
func openIn(t *testing.T, dir, fallback string) (*Service, func(region string) *sdk.Client) {
	t.Helper()
	svc, err := New(Options{Dir: dir, Region: fallback, IDs: wire.IDs{Seed: "regions"}, Parameters: publicParameters("")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() { srv.Close(); svc.Close() })
	return svc, func(region string) *sdk.Client {
		cfg := emutest.Config(srv.URL)
		cfg.Region = region
		return sdk.NewFromConfig(cfg)
	}
}

// launch runs one instance of Amazon Linux 2023 with the client, and returns its id.
func launch(t *testing.T, c *sdk.Client) string {
	t.Helper()
	return launchFrom(t, c, al2023x86)
}

// instances returns the ids of the instances the client sees.
func instances(t *testing.T, c *sdk.Client) []string {
	t.Helper()
	out, err := c.DescribeInstances(t.Context(), &sdk.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	return instanceIDsOf(out.Reservations)
}

// forgetRegion rewrites dir's document name as a state written before regions: without one.
func forgetRegion(t *testing.T, dir, name string) {
	t.Helper()
	path := filepath.Join(dir, name+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["region"]; !ok {
		t.Fatalf("%s records no region", path)
	}
	delete(doc, "region")
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Each region has its own instances and default VPC; instance metadata and Route 53 see them all,
// each in its region.
func TestRegionsApart(t *testing.T) {
	dir := t.TempDir()
	svc, client := openIn(t, dir, "us-east-1")
	us, eu := launch(t, client("us-east-1")), launch(t, client("eu-west-1"))
	if got := instances(t, client("us-east-1")); len(got) != 1 || got[0] != us {
		t.Errorf("us-east-1 sees %v, want %s", got, us)
	}
	if got := instances(t, client("eu-west-1")); len(got) != 1 || got[0] != eu {
		t.Errorf("eu-west-1 sees %v, want %s", got, eu)
	}
	view, ok, err := svc.Instance(t.Context(), eu)
	if !ok || err != nil || view.Region != "eu-west-1" || view.AvailabilityZone[:len("eu-west-1")] != "eu-west-1" {
		t.Errorf("Instance(%s) = %+v, %v, %v", eu, view, ok, err)
	}
	vpcs, err := client("eu-west-1").DescribeVpcs(t.Context(), &sdk.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	euVPC := aws.ToString(vpcs.Vpcs[0].VpcId)
	for _, c := range []struct {
		region string
		want   bool
	}{{"eu-west-1", true}, {"us-east-1", false}, {"mars-east-1", false}} {
		if got, err := svc.VPCExists(t.Context(), c.region, euVPC); got != c.want || err != nil {
			t.Errorf("VPCExists(%s, %s) = %v, %v", c.region, euVPC, got, err)
		}
	}
	_, err = client("mars-east-1").DescribeInstances(t.Context(), &sdk.DescribeInstancesInput{})
	emutest.WantCode(t, err, "AuthFailure")
	if _, err := os.Stat(filepath.Join(dir, "ec2-mars-east-1.json")); err == nil {
		t.Error("a request for an unknown region left a document")
	}

	// Another process on the directory finds both regions, whichever region it defaults to.
	other, _ := openIn(t, dir, "ap-southeast-2")
	ids, err := other.LiveInstanceIDs(t.Context())
	if err != nil || len(ids) != 2 {
		t.Errorf("LiveInstanceIDs from another process = %v, %v", ids, err)
	}
}

// A state directory written before regions loads with everything where it was: its ec2.json is
// the region of its zones, whatever region the emulator now defaults to.
func TestStateBeforeRegions(t *testing.T) {
	t.Run("us-east-1", func(t *testing.T) {
		dir := t.TempDir()
		svc, client := openIn(t, dir, "us-east-1")
		id := launch(t, client("us-east-1"))
		svc.Close()
		forgetRegion(t, dir, "ec2")

		_, client = openIn(t, dir, "us-east-1")
		if got := instances(t, client("us-east-1")); len(got) != 1 || got[0] != id {
			t.Errorf("after reopening, us-east-1 sees %v, want %s", got, id)
		}
		if _, err := os.Stat(filepath.Join(dir, "ec2-us-east-1.json")); err == nil {
			t.Error("us-east-1 was given a second document")
		}
	})
	t.Run("eu-west-1", func(t *testing.T) {
		dir := t.TempDir()
		svc, client := openIn(t, dir, "eu-west-1") // as flow emulate --region eu-west-1 did
		id := launch(t, client("eu-west-1"))
		svc.Close()
		forgetRegion(t, dir, "ec2")

		_, client = openIn(t, dir, "us-east-1")
		if got := instances(t, client("eu-west-1")); len(got) != 1 || got[0] != id {
			t.Errorf("after reopening, eu-west-1 sees %v, want %s", got, id)
		}
		if got := instances(t, client("us-east-1")); len(got) != 0 {
			t.Errorf("us-east-1 sees %v, want nothing", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "ec2-us-east-1.json")); err != nil {
			t.Errorf("us-east-1's own document: %v", err)
		}
	})
}

// CopyImage copies an image of one region into the region of the request: a new image of the
// account's, pending then available, with its own snapshots, its source named, its tags copied
// when asked; the same client token makes no second copy.
func TestCopyImageAcrossRegions(t *testing.T) {
	svc, client := openIn(t, "", "us-east-1")
	us, eu := client("us-east-1"), client("eu-west-1")
	builder := launch(t, us)
	made, err := us.CreateImage(t.Context(), &sdk.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("golden"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{tag("Role", "golden")}}}})
	if err != nil {
		t.Fatal(err)
	}
	src := aws.ToString(made.ImageId)
	copyIn := &sdk.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(src), Name: aws.String("golden"),
		CopyImageTags: aws.Bool(true), ClientToken: aws.String("copy-1")}
	out, err := eu.CopyImage(t.Context(), copyIn)
	if err != nil {
		t.Fatalf("CopyImage: %v", err)
	}
	again, err := eu.CopyImage(t.Context(), copyIn)
	if err != nil || aws.ToString(again.ImageId) != aws.ToString(out.ImageId) {
		t.Errorf("the same token again = %v, %v; want %s", again, err, aws.ToString(out.ImageId))
	}
	images, err := eu.DescribeImages(t.Context(), &sdk.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil || len(images.Images) != 1 {
		t.Fatalf("eu-west-1's own images = %v, %v", images, err)
	}
	im := images.Images[0]
	if aws.ToString(im.SourceImageId) != src || aws.ToString(im.SourceImageRegion) != "us-east-1" || im.State != types.ImageStateAvailable {
		t.Errorf("copy = %+v", im)
	}
	if v, _ := tagValue(im.Tags, "Role"); v != "golden" {
		t.Errorf("copied tags = %v", im.Tags)
	}
	launched := launchFrom(t, eu, aws.ToString(out.ImageId))
	if view, ok, err := svc.Instance(t.Context(), launched); !ok || err != nil || view.Region != "eu-west-1" || view.ImageID != aws.ToString(out.ImageId) {
		t.Errorf("launched from the copy: %+v, %v, %v", view, ok, err)
	}
	// Amazon's images copy too; a missing image, or one of another region, does not.
	if _, err := eu.CopyImage(t.Context(), &sdk.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(PublicImages("us-east-1")[0].ID), Name: aws.String("al2023")}); err != nil {
		t.Errorf("copying Amazon's image: %v", err)
	}
	for _, c := range []struct {
		name string
		in   sdk.CopyImageInput
		code string
	}{
		{"wrong region", sdk.CopyImageInput{SourceRegion: aws.String("eu-west-1"), SourceImageId: aws.String(src), Name: aws.String("x-1")}, "InvalidAMIID.NotFound"},
		{"no region", sdk.CopyImageInput{SourceRegion: aws.String("mars-east-1"), SourceImageId: aws.String(src), Name: aws.String("x-2")}, "InvalidParameterValue"},
		{"name taken", sdk.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(src), Name: aws.String("golden")}, "InvalidAMIName.Duplicate"},
		{"token reused", sdk.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(src), Name: aws.String("x-3"), ClientToken: aws.String("copy-1")}, "IdempotentParameterMismatch"},
		{"own KMS key", sdk.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(src), Name: aws.String("x-4"), KmsKeyId: aws.String("alias/mine")}, "UnsupportedOperation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := eu.CopyImage(t.Context(), &c.in)
			emutest.WantCode(t, err, c.code)
		})
	}
}

// launchFrom runs one instance of image with the client, and returns its id.
func launchFrom(t *testing.T, c *sdk.Client, image string) string {
	t.Helper()
	out, err := c.RunInstances(t.Context(), &sdk.RunInstancesInput{ImageId: aws.String(image), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// Requests for regions not yet opened, at the same moment, each open their region once: every
// launch lands in its own region, and each region sees only its own.
func TestRegionsOpenedAtOnce(t *testing.T) {
	_, client := openIn(t, t.TempDir(), "us-east-1")
	regions := []string{"eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"}
	var wg sync.WaitGroup
	for _, region := range regions {
		for range 3 {
			wg.Go(func() {
				_, err := client(region).RunInstances(t.Context(), &sdk.RunInstancesInput{ImageId: aws.String(al2023x86), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
				if err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for _, region := range regions {
		if got := instances(t, client(region)); len(got) != 3 {
			t.Errorf("%s sees %d instances, want 3", region, len(got))
		}
	}
}
