package ssm_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/ssm"
)

// The framework's wording of each constraint, as AWS answers it.
const (
	notNull     = "failed to satisfy constraint: Member must not be null"
	nameMembers = "failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1]"
)

// TestPatternsCompile: the model's patterns are compiled on first use (a boot that never serves
// SSM does not pay for them at start), so this compiles them all.
func TestPatternsCompile(t *testing.T) {
	if n := ssm.CompilePatterns(); n < 5 {
		t.Errorf("%d patterns compiled; the model's inputs have more", n)
	}
}

// TestValidationReportsEveryViolation sends, through the SDK, requests that break several of the
// model's constraints at once: AWS answers one ValidationException naming every one of them.
func TestValidationReportsEveryViolation(t *testing.T) {
	svc, c := start(t, ssm.Options{})
	if missing := ssm.OperationsWithoutShape(svc); len(missing) > 0 {
		t.Fatalf("operations the validator does not cover: %v", missing)
	}
	eleven := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", ""}
	long := strings.Repeat("x", 2049)
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	cases := []struct {
		what string
		call func() error
		want string
	}{
		{"put: a value out of each bound", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{
				Name: aws.String("/v"), Value: aws.String("x"), Description: aws.String(strings.Repeat("d", 1025)),
				Type: "Bogus", KeyId: aws.String("my key"), Tier: "Gold",
			})
			return err
		}, "4 validation errors detected: " +
			"Value '" + strings.Repeat("d", 1025) + "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024; " +
			"Value 'Bogus' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]; " +
			"Value 'my key' at 'keyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$; " +
			"Value 'Gold' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]"},
		{"put: an empty value is never echoed, an empty key id breaks two constraints", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(""), Value: aws.String(""), KeyId: aws.String("")})
			return err
		}, "4 validation errors detected: " +
			"Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
			"Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
			"Value '' at 'keyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$; " +
			"Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"put: each tag's members", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{
				Name: aws.String("/t"), Value: aws.String("x"), Type: types.ParameterTypeString,
				Tags: []types.Tag{tag("ok", "fine"), tag("", "a,b"), tag("team#1", "v")},
			})
			return err
		}, "3 validation errors detected: " +
			"Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
			`Value 'a,b' at 'tags.2.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$; ` +
			`Value 'team#1' at 'tags.3.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`},
		{"get parameters: too many names, one of them empty", func() error {
			_, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: eleven})
			return err
		}, "2 validation errors detected: " +
			"Value '[a, b, c, d, e, f, g, h, i, j, ]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10; " +
			"Value '[a, b, c, d, e, f, g, h, i, j, ]' at 'names' " + nameMembers},
		{"delete parameters: a name too long", func() error {
			_, err := c.DeleteParameters(ctx, &awsssm.DeleteParametersInput{Names: []string{"a", long}})
			return err
		}, "1 validation error detected: Value '[a, " + long + "]' at 'names' " + nameMembers},
		{"get parameter: a name too long", func() error {
			_, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(long)})
			return err
		}, "1 validation error detected: Value '" + long + "' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"by path: page size and filters", func() error {
			_, err := c.GetParametersByPath(ctx, &awsssm.GetParametersByPathInput{
				Path: aws.String("/p"), MaxResults: aws.Int32(11),
				ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Bogus"), Option: aws.String("Occasionally"), Values: []string{"x", ""}}},
			})
			return err
		}, "4 validation errors detected: " +
			"Value 'Bogus' at 'parameterFilters.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType; " +
			"Value 'Occasionally' at 'parameterFilters.1.member.option' failed to satisfy constraint: Member must have length less than or equal to 10; " +
			"Value '[x, ]' at 'parameterFilters.1.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1]; " +
			"Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10"},
		{"describe: legacy filters and page size", func() error {
			_, err := c.DescribeParameters(ctx, &awsssm.DescribeParametersInput{
				MaxResults: aws.Int32(0),
				Filters:    []types.ParametersFilter{{Key: "Path", Values: []string{"/x"}}, {Key: types.ParametersFilterKeyName, Values: []string{}}},
			})
			return err
		}, "3 validation errors detected: " +
			"Value 'Path' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [Name, Type, KeyId]; " +
			"Value '[]' at 'filters.2.member.values' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
			"Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		// The framework answers before the operation looks at the name: not AccessDenied for a
		// name reserved to AWS.
		{"the model before the operation's own checks", func() error {
			_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/aws/mine"), Value: aws.String("x"), Type: "Bogus"})
			return err
		}, "1 validation error detected: Value 'Bogus' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]"},
	}
	for _, tc := range cases {
		err := tc.call()
		if api := emutest.WantCode(t, err, "ValidationException"); api.ErrorMessage() != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.what, api.ErrorMessage(), tc.want)
		}
	}
}

// TestValidationOfAbsentMembers sends what the SDK would refuse to: members the model requires,
// absent or null, each named with AWS's "Value null"; a sensitive one is never shown, not even
// as null.
func TestValidationOfAbsentMembers(t *testing.T) {
	svc, _ := start(t, ssm.Options{})
	url := emutest.Serve(t, svc)
	for _, tc := range []struct{ target, body, want string }{
		{"AmazonSSM.PutParameter", `{}`, "2 validation errors detected: Value null at 'name' " + notNull + "; Value at 'value' " + notNull},
		{"AmazonSSM.PutParameter", `{"Name":"/t","Value":"v","Tags":[{"Key":null},{"Value":"v"}]}`, "3 validation errors detected: " +
			"Value null at 'tags.1.member.key' " + notNull + "; Value null at 'tags.1.member.value' " + notNull + "; Value null at 'tags.2.member.key' " + notNull},
		{"AmazonSSM.GetParameters", `{"Names":null}`, "1 validation error detected: Value null at 'names' " + notNull},
		{"AmazonSSM.GetParameters", `{"Names":[]}`, "1 validation error detected: Value '[]' at 'names' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"AmazonSSM.DeleteParameters", `{"Names":["a",null]}`, "1 validation error detected: Value '[a, null]' at 'names' " + nameMembers},
		{"AmazonSSM.GetParametersByPath", `{"ParameterFilters":[{"Values":["x"]}]}`, "2 validation errors detected: Value null at 'path' " + notNull + "; Value null at 'parameterFilters.1.member.key' " + notNull},
		{"AmazonSSM.DescribeParameters", `{"Filters":[{}]}`, "2 validation errors detected: Value null at 'filters.1.member.key' " + notNull + "; Value null at 'filters.1.member.values' " + notNull},
	} {
		status, body := call(t, url, tc.target, tc.body)
		if status != 400 || body["__type"] != "ValidationException" || body["Message"] != tc.want {
			t.Errorf("%s %s: %d %v\nwant %s", tc.target, tc.body, status, body, tc.want)
		}
	}
	// A body of the wrong types is a SerializationException, whatever else it breaks.
	status, body := call(t, url, "AmazonSSM.PutParameter", `{"Name":5}`)
	if status != 400 || body["__type"] != "com.amazon.coral.service#SerializationException" {
		t.Errorf("a number for a name: %d %v", status, body)
	}
}
