package ssm_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/ssm"
)

// inRegion returns a client of svc signed for region.
func inRegion(t *testing.T, svc *ssm.Service, region string) *awsssm.Client {
	cfg := emutest.Config(emutest.Serve(t, svc))
	cfg.Region = region
	return awsssm.NewFromConfig(cfg)
}

// Each region has its own parameters, with its region in their ARNs; a directory written before
// regions keeps its parameters in the region it is first opened for.
func TestParametersPerRegion(t *testing.T) {
	dir := t.TempDir()
	svc, _ := start(t, ssm.Options{Dir: dir, Region: "eu-west-1"})
	eu := inRegion(t, svc, "eu-west-1")
	put(t, eu, &awsssm.PutParameterInput{Name: aws.String("/clients/acme/DB"), Value: aws.String("eu"), Type: types.ParameterTypeSecureString})
	if p := get(t, eu, "/clients/acme/DB", true); aws.ToString(p.ARN) != "arn:aws:ssm:eu-west-1:123456789012:parameter/clients/acme/DB" || aws.ToString(p.Value) != "eu" {
		t.Errorf("in eu-west-1: %s = %s", aws.ToString(p.ARN), aws.ToString(p.Value))
	}
	us := inRegion(t, svc, "us-east-1")
	_, err := us.GetParameter(t.Context(), &awsssm.GetParameterInput{Name: aws.String("/clients/acme/DB")})
	emutest.WantCode(t, err, "ParameterNotFound")
	put(t, us, &awsssm.PutParameterInput{Name: aws.String("/clients/acme/DB"), Value: aws.String("us"), Type: types.ParameterTypeSecureString})
	if v, ok, err := svc.ParameterValue(t.Context(), "us-east-1", "/clients/acme/DB"); ok || err != nil || v != "" {
		t.Errorf("ParameterValue of a SecureString = %q, %v, %v", v, ok, err) // SecureStrings never resolve
	}
	svc.Close()

	// The same directory as it was before regions: ssm.json records none.
	path := filepath.Join(dir, "ssm.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || doc["region"] != "eu-west-1" {
		t.Fatalf("ssm.json records %v, %v", doc["region"], err)
	}
	delete(doc, "region")
	data, _ = json.Marshal(doc)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	svc, _ = start(t, ssm.Options{Dir: dir, Region: "eu-west-1"})
	if p := get(t, inRegion(t, svc, "eu-west-1"), "/clients/acme/DB", true); aws.ToString(p.Value) != "eu" {
		t.Errorf("after reopening, eu-west-1's = %s", aws.ToString(p.Value))
	}
	if p := get(t, inRegion(t, svc, "us-east-1"), "/clients/acme/DB", true); aws.ToString(p.Value) != "us" {
		t.Errorf("after reopening, us-east-1's = %s", aws.ToString(p.Value))
	}
	_, err = inRegion(t, svc, "mars-east-1").GetParameter(t.Context(), &awsssm.GetParameterInput{Name: aws.String("/clients/acme/DB")})
	emutest.WantCode(t, err, "InvalidSignatureException")
}
