package ssm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/ssm"
)

func TestPutParameterTagLimits(t *testing.T) {
	_, c := start(t, ssm.Options{})
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	tags := func(n int) []types.Tag {
		var out []types.Tag
		for i := range n {
			out = append(out, tag(fmt.Sprintf("k%d", i), "v"))
		}
		return out
	}
	cases := []struct {
		what    string
		tags    []types.Tag
		message string // "" when accepted
	}{
		{"50 tags", tags(50), ""},
		{"the longest key and value, letters of any script", []types.Tag{tag(strings.Repeat("é", 128), strings.Repeat("ü", 256))}, ""},
		{"every symbol allowed", []types.Tag{tag("a b_c.d:e/f=g+h-i@j", "a b_c.d:e/f=g+h-i@j")}, ""},
		{"empty value", []types.Tag{tag("k", "")}, ""},
		{"51 tags", tags(51), "A parameter can have at most 50 tags; the request gives it 51."},
		{"empty key", []types.Tag{tag("", "v")}, "1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"129-character key", []types.Tag{tag("k", "v"), tag(strings.Repeat("k", 129), "v")}, "1 validation error detected: Value '" + strings.Repeat("k", 129) + "' at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"257-character value", []types.Tag{tag("k", strings.Repeat("v", 257))}, "1 validation error detected: Value '" + strings.Repeat("v", 257) + "' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"key outside the pattern", []types.Tag{tag("team#1", "v")}, `1 validation error detected: Value 'team#1' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`},
		{"value outside the pattern", []types.Tag{tag("k", "a,b")}, `1 validation error detected: Value 'a,b' at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`},
		{"reserved prefix", []types.Tag{tag("AWS:cloudformation:stack-name", "v")}, `Invalid tag key AWS:cloudformation:stack-name: tag keys beginning with "aws:" are reserved for AWS's use.`},
	}
	for i, tc := range cases {
		name := fmt.Sprintf("/tagged/%d", i)
		_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String("x"), Type: types.ParameterTypeString, Tags: tc.tags})
		if tc.message == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.what, err)
			}
			continue
		}
		if apiErr := emutest.WantCode(t, err, "ValidationException"); apiErr.ErrorMessage() != tc.message {
			t.Errorf("%s: message %q, want %q", tc.what, apiErr.ErrorMessage(), tc.message)
		}
		if _, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name)}); err == nil {
			t.Errorf("%s: the refused parameter was stored", tc.what)
		}
	}
}

func TestParameterTierLimits(t *testing.T) {
	svc, c := start(t, ssm.Options{})
	ssm.SetTierLimits(svc, 2, 1)
	create := func(name string, tier types.ParameterTier) error {
		_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String("x"), Type: types.ParameterTypeString, Tier: tier})
		return err
	}
	limited := func(what string, err error) {
		t.Helper()
		var limit *types.ParameterLimitExceeded
		if !errors.As(err, &limit) || limit.ErrorMessage() != "You have exceeded the number of parameters for this AWS account. Delete one or more parameters and try again." {
			t.Errorf("%s: %v, want ParameterLimitExceeded", what, err)
		}
	}
	for _, name := range []string{"/s1", "/s2"} {
		if err := create(name, types.ParameterTierStandard); err != nil {
			t.Fatal(err)
		}
	}
	limited("third standard", create("/s3", types.ParameterTierStandard))
	if err := create("/a1", types.ParameterTierAdvanced); err != nil {
		t.Fatalf("first advanced: %v", err)
	}
	limited("second advanced", create("/a2", types.ParameterTierAdvanced))
	limited("intelligent tiering of a large value", func() error {
		_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a3"), Value: aws.String(strings.Repeat("x", 5000)), Type: types.ParameterTypeString, Tier: types.ParameterTierIntelligentTiering})
		return err
	}())
	// Moving a standard parameter up to Advanced counts as one more advanced parameter.
	_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/s1"), Value: aws.String("y"), Overwrite: aws.Bool(true), Tier: types.ParameterTierAdvanced})
	limited("upgrade to advanced", err)
	// A new version of an advanced parameter is not a new one.
	if _, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a1"), Value: aws.String("y"), Overwrite: aws.Bool(true)}); err != nil {
		t.Errorf("overwrite of the advanced parameter: %v", err)
	}
	if _, err := c.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("/a1")}); err != nil {
		t.Fatal(err)
	}
	if err := create("/a2", types.ParameterTierAdvanced); err != nil {
		t.Errorf("advanced after a delete: %v", err)
	}
}
