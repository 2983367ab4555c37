package ssm_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/ssm"
)

// now is the emulator's clock in every test.
var now = time.Date(2024, 5, 1, 12, 30, 45, 678_000_000, time.UTC)

const al2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

// start serves a new Parameter Store with o (Clock and Public defaulted) and returns it with an SDK
// client pointed at it, which does not retry.
func start(t testing.TB, o ssm.Options) (*ssm.Service, *awsssm.Client) {
	t.Helper()
	if o.Clock == nil {
		o.Clock = func() time.Time { return now }
	}
	if o.Public == nil {
		o.Public = func(string) map[string]string {
			return map[string]string{
				al2023: "ami-0123456789abcdef0",
				"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64": "ami-0fedcba9876543210",
			}
		}
	}
	svc, err := ssm.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return serve(t, svc)
}

// serve serves svc until the test ends and returns it with a client that does not retry, signed
// for svc's region.
func serve(t testing.TB, svc *ssm.Service) (*ssm.Service, *awsssm.Client) {
	cfg := emutest.Config(emutest.Serve(t, svc))
	cfg.Region = svc.Region()
	return svc, awsssm.NewFromConfig(cfg)
}

var ctx = context.Background()

func put(t *testing.T, c *awsssm.Client, in *awsssm.PutParameterInput) *awsssm.PutParameterOutput {
	t.Helper()
	out, err := c.PutParameter(ctx, in)
	if err != nil {
		t.Fatalf("PutParameter %s: %v", aws.ToString(in.Name), err)
	}
	return out
}

func get(t *testing.T, c *awsssm.Client, name string, decrypt bool) types.Parameter {
	t.Helper()
	out, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(decrypt)})
	if err != nil {
		t.Fatalf("GetParameter %s: %v", name, err)
	}
	return *out.Parameter
}

func TestPutAndGetEachType(t *testing.T) {
	_, c := start(t, ssm.Options{Region: "ap-northeast-1"})
	for _, tc := range []struct {
		name, value string
		typ         types.ParameterType
	}{
		{"acme.HOGE", "hoge", types.ParameterTypeString},
		{"/clients/acme/HOSTS", "a.example,b.example", types.ParameterTypeStringList},
		{"/clients/acme/DB_PASSWORD", "s3cr3t-p4ss", types.ParameterTypeSecureString},
	} {
		out := put(t, c, &awsssm.PutParameterInput{Name: &tc.name, Value: &tc.value, Type: tc.typ})
		if out.Version != 1 || out.Tier != types.ParameterTierStandard {
			t.Errorf("%s: Version %d Tier %s, want 1 Standard", tc.name, out.Version, out.Tier)
		}
		p := get(t, c, tc.name, true)
		if *p.Name != tc.name || *p.Value != tc.value || p.Type != tc.typ || p.Version != 1 || *p.DataType != "text" {
			t.Errorf("GetParameter %s = %+v", tc.name, p)
		}
		if !p.LastModifiedDate.Equal(now) {
			t.Errorf("%s LastModifiedDate = %v, want %v", tc.name, p.LastModifiedDate, now)
		}
	}
	if arn := *get(t, c, "/clients/acme/HOSTS", false).ARN; arn != "arn:aws:ssm:ap-northeast-1:123456789012:parameter/clients/acme/HOSTS" {
		t.Errorf("ARN of a hierarchy = %s", arn)
	}
	if arn := *get(t, c, "acme.HOGE", false).ARN; arn != "arn:aws:ssm:ap-northeast-1:123456789012:parameter/acme.HOGE" {
		t.Errorf("ARN of a plain name = %s", arn)
	}
}

func TestSecureStringWithoutDecryptionIsCiphertext(t *testing.T) {
	_, c := start(t, ssm.Options{})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/app/TOKEN"), Value: aws.String("plain-token"), Type: types.ParameterTypeSecureString})
	p := get(t, c, "/app/TOKEN", false)
	if *p.Value == "plain-token" || p.Type != types.ParameterTypeSecureString {
		t.Fatalf("without decryption: %+v", p)
	}
	if len(*p.Value) < 40 {
		t.Errorf("ciphertext %q is too short to be a sealed value", *p.Value)
	}
	out, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"/app/TOKEN"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := *out.Parameters[0].Value; v != *p.Value {
		t.Errorf("GetParameters without decryption = %q, want the stored ciphertext %q", v, *p.Value)
	}
	if v := *get(t, c, "/app/TOKEN", true).Value; v != "plain-token" {
		t.Errorf("with decryption = %q", v)
	}
}

func TestVersionsAndOverwrite(t *testing.T) {
	_, c := start(t, ssm.Options{})
	name := aws.String("/app/KEY")
	put(t, c, &awsssm.PutParameterInput{Name: name, Value: aws.String("one"), Type: types.ParameterTypeSecureString,
		Description: aws.String("the key")})

	_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: name, Value: aws.String("two"), Type: types.ParameterTypeSecureString})
	var exists *types.ParameterAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("second put without Overwrite: %v, want ParameterAlreadyExists", err)
	}

	// Overwrite without Type keeps the type, the key and the description.
	out := put(t, c, &awsssm.PutParameterInput{Name: name, Value: aws.String("two"), Overwrite: aws.Bool(true)})
	if out.Version != 2 {
		t.Errorf("overwrite Version = %d, want 2", out.Version)
	}
	out = put(t, c, &awsssm.PutParameterInput{Name: name, Value: aws.String("three"), Overwrite: aws.Bool(true)})
	if out.Version != 3 {
		t.Errorf("second overwrite Version = %d, want 3", out.Version)
	}
	p := get(t, c, "/app/KEY", true)
	if *p.Value != "three" || p.Version != 3 || p.Type != types.ParameterTypeSecureString {
		t.Errorf("current = %+v", p)
	}
	d, err := c.DescribeParameters(ctx, &awsssm.DescribeParametersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.Parameters[0]; *m.KeyId != "alias/aws/ssm" || *m.Description != "the key" || m.Version != 3 {
		t.Errorf("metadata after overwrites = %+v", m)
	}

	// name:version selects an older version, and says so.
	old := get(t, c, "/app/KEY:1", true)
	if *old.Value != "one" || old.Version != 1 || *old.Selector != ":1" || *old.Name != "/app/KEY" {
		t.Errorf("GetParameter /app/KEY:1 = %+v", old)
	}
	_, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/app/KEY:9")})
	var noVersion *types.ParameterVersionNotFound
	if !errors.As(err, &noVersion) {
		t.Errorf("GetParameter /app/KEY:9: %v, want ParameterVersionNotFound", err)
	}
	gp, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"/app/KEY:2", "/app/KEY:9"}, WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(gp.Parameters) != 1 || *gp.Parameters[0].Value != "two" || !slices.Equal(gp.InvalidParameters, []string{"/app/KEY:9"}) {
		t.Errorf("GetParameters with selectors = %+v / %v", gp.Parameters, gp.InvalidParameters)
	}

	// The type may change with Overwrite; a String has no key.
	put(t, c, &awsssm.PutParameterInput{Name: name, Value: aws.String("four"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
	if p := get(t, c, "/app/KEY", false); *p.Value != "four" || p.Type != types.ParameterTypeString {
		t.Errorf("after changing to String: %+v", p)
	}
	// "/Name" and "Name" are one parameter.
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("single"), Value: aws.String("a"), Type: types.ParameterTypeString})
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/single"), Value: aws.String("b"), Type: types.ParameterTypeString})
	if !errors.As(err, &exists) {
		t.Errorf("put /single after single: %v, want ParameterAlreadyExists", err)
	}
	if v := *get(t, c, "/single", false).Value; v != "a" {
		t.Errorf("GetParameter /single = %q", v)
	}
}

func TestPutParameterRefusals(t *testing.T) {
	_, c := start(t, ssm.Options{})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/exists"), Value: aws.String("x"), Type: types.ParameterTypeString})
	long := func(n int) *string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'v'
		}
		s := string(b)
		return &s
	}
	levels := "/L1/L2/L3/L4/L5/L6/L7/L8/L9/L10/L11/L12/L13/L14/L15"
	for _, tc := range []struct {
		what string
		in   awsssm.PutParameterInput
		code string
	}{
		{"aws prefix", awsssm.PutParameterInput{Name: aws.String("awsTestParameter"), Value: aws.String("x"), Type: types.ParameterTypeString}, "AccessDeniedException"},
		{"/aws path", awsssm.PutParameterInput{Name: aws.String("/aws/testparam1"), Value: aws.String("x"), Type: types.ParameterTypeString}, "AccessDeniedException"},
		{"public parameter", awsssm.PutParameterInput{Name: aws.String(al2023), Value: aws.String("ami-12345678"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)}, "AccessDeniedException"},
		{"ssm prefix", awsssm.PutParameterInput{Name: aws.String("SSM-testparameter"), Value: aws.String("x"), Type: types.ParameterTypeString}, "ValidationException"},
		{"/Ssm path", awsssm.PutParameterInput{Name: aws.String("/Ssm/x"), Value: aws.String("x"), Type: types.ParameterTypeString}, "ValidationException"},
		{"only spaces", awsssm.PutParameterInput{Name: aws.String("   "), Value: aws.String("x"), Type: types.ParameterTypeString}, "ValidationException"},
		{"space inside", awsssm.PutParameterInput{Name: aws.String("Dev MySQL DB"), Value: aws.String("x"), Type: types.ParameterTypeString}, "ValidationException"},
		{"character", awsssm.PutParameterInput{Name: aws.String("/mail/support@example.com"), Value: aws.String("x"), Type: types.ParameterTypeString}, "ValidationException"},
		{"not fully qualified", awsssm.PutParameterInput{Name: aws.String("clients/acme"), Value: aws.String("x"), Type: types.ParameterTypeString}, "ValidationException"},
		{"16 levels", awsssm.PutParameterInput{Name: aws.String(levels + "/name"), Value: aws.String("x"), Type: types.ParameterTypeString}, "HierarchyLevelLimitExceededException"},
		{"name too long", awsssm.PutParameterInput{Name: aws.String("/" + *long(1000)), Value: aws.String("x"), Type: types.ParameterTypeString}, "ValidationException"},
		{"empty value", awsssm.PutParameterInput{Name: aws.String("/empty"), Value: aws.String(""), Type: types.ParameterTypeString}, "ValidationException"},
		{"4097 bytes standard", awsssm.PutParameterInput{Name: aws.String("/big"), Value: long(4097), Type: types.ParameterTypeString}, "ValidationException"},
		{"8193 bytes advanced", awsssm.PutParameterInput{Name: aws.String("/big"), Value: long(8193), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced}, "ValidationException"},
		{"no type on create", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("x")}, "ValidationException"},
		{"unknown type", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("x"), Type: "AWS::EC2::Image::Id"}, "ValidationException"},
		{"KeyId with String", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("x"), Type: types.ParameterTypeString, KeyId: aws.String("alias/mine")}, "ValidationException"},
		{"tags with overwrite", awsssm.PutParameterInput{Name: aws.String("/exists"), Value: aws.String("x"), Overwrite: aws.Bool(true), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "ValidationException"},
		{"unknown data type", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("x"), Type: types.ParameterTypeString, DataType: aws.String("AWS:EC2:IMAGE")}, "ValidationException"},
		{"data type change", awsssm.PutParameterInput{Name: aws.String("/exists"), Value: aws.String("ami-12345678"), Overwrite: aws.Bool(true), DataType: aws.String("aws:ec2:image")}, "ValidationException"},
		{"allowed pattern", awsssm.PutParameterInput{Name: aws.String("/num"), Value: aws.String("abc"), Type: types.ParameterTypeString, AllowedPattern: aws.String(`^\d+$`)}, "ParameterPatternMismatchException"},
		{"bad allowed pattern", awsssm.PutParameterInput{Name: aws.String("/num"), Value: aws.String("1"), Type: types.ParameterTypeString, AllowedPattern: aws.String(`(`)}, "InvalidAllowedPatternException"},
	} {
		_, err := c.PutParameter(ctx, &tc.in)
		emutest.WantCode(t, err, tc.code)
	}

	_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("awslimitschecker"), Value: aws.String("x"), Type: types.ParameterTypeString})
	var denied *types.AccessDeniedException
	if !errors.As(err, &denied) || denied.ErrorMessage() != "No access to reserved parameter name: awslimitschecker." {
		t.Errorf("aws prefix: %v", err)
	}
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(levels + "/L16/name"), Value: aws.String("x"), Type: types.ParameterTypeString})
	var deep *types.HierarchyLevelLimitExceededException
	if !errors.As(err, &deep) {
		t.Errorf("17 levels: %v", err)
	}
	var mismatch *types.ParameterPatternMismatchException
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/num"), Value: aws.String("abc"), Type: types.ParameterTypeString, AllowedPattern: aws.String(`^\d+$`)})
	if !errors.As(err, &mismatch) {
		t.Errorf("allowed pattern: %v", err)
	}

	// What the refusals stopped was not stored, and the limits hold exactly at their bounds.
	if _, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/big")}); err == nil {
		t.Error("a refused value was stored")
	}
	put(t, c, &awsssm.PutParameterInput{Name: aws.String(levels), Value: aws.String("x"), Type: types.ParameterTypeString})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/std"), Value: long(4096), Type: types.ParameterTypeString})
	out := put(t, c, &awsssm.PutParameterInput{Name: aws.String("/adv"), Value: long(8192), Type: types.ParameterTypeString, Tier: types.ParameterTierIntelligentTiering})
	if out.Tier != types.ParameterTierAdvanced {
		t.Errorf("Intelligent-Tiering of 8192 bytes: tier %s, want Advanced", out.Tier)
	}
	_, err = c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/adv"), Value: aws.String("x"), Overwrite: aws.Bool(true), Tier: types.ParameterTierStandard})
	emutest.WantCode(t, err, "ValidationException")
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("  /trimmed  "), Value: aws.String("x"), Type: types.ParameterTypeString})
	get(t, c, "/trimmed", false)
}

func TestImageDataType(t *testing.T) {
	_, c := start(t, ssm.Options{})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/golden-ami"), Value: aws.String("ami-0123456789abcdef0"),
		Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image")})
	if p := get(t, c, "/golden-ami", false); *p.DataType != "aws:ec2:image" {
		t.Errorf("DataType = %s", *p.DataType)
	}
	// AWS validates aws:ec2:image values after answering: a malformed one is answered with
	// success and never stored.
	out := put(t, c, &awsssm.PutParameterInput{Name: aws.String("/golden-ami"), Value: aws.String("not-an-ami"), Overwrite: aws.Bool(true)})
	if out.Version != 2 {
		t.Errorf("Version = %d", out.Version)
	}
	if p := get(t, c, "/golden-ami", false); *p.Value != "ami-0123456789abcdef0" || p.Version != 1 {
		t.Errorf("after a malformed image id: %+v", p)
	}
	_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/secret-ami"), Value: aws.String("ami-12345678"),
		Type: types.ParameterTypeSecureString, DataType: aws.String("aws:ec2:image")})
	emutest.WantCode(t, err, "ValidationException")
}

func TestGetParameterErrors(t *testing.T) {
	_, c := start(t, ssm.Options{})
	_, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/missing")})
	var notFound *types.ParameterNotFound
	if !errors.As(err, &notFound) {
		t.Fatalf("missing: %v, want ParameterNotFound", err)
	}
	_, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/has space")})
	emutest.WantCode(t, err, "ValidationException")
	_, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/x:label")})
	if !errors.As(err, &notFound) {
		t.Errorf("label: %v, want ParameterNotFound", err)
	}
}

func TestGetParametersByARN(t *testing.T) {
	_, c := start(t, ssm.Options{})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/a/b"), Value: aws.String("ab"), Type: types.ParameterTypeString})
	arn := *get(t, c, "/a/b", false).ARN
	if p := get(t, c, arn, false); *p.Value != "ab" || *p.Name != "/a/b" {
		t.Errorf("by ARN: %+v", p)
	}
	out, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{
		"arn:aws:ssm:us-east-1:999999999999:parameter/a/b", arn + ":1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Parameters) != 1 || *out.Parameters[0].Selector != ":1" || len(out.InvalidParameters) != 1 {
		t.Errorf("another account's ARN and an ARN with a version: %+v %v", out.Parameters, out.InvalidParameters)
	}
}

func TestGetParameters(t *testing.T) {
	_, c := start(t, ssm.Options{})
	for _, n := range []string{"acme.ZED", "acme.ALPHA", "acme.MID"} {
		put(t, c, &awsssm.PutParameterInput{Name: aws.String(n), Value: aws.String("v-" + n), Type: types.ParameterTypeSecureString})
	}
	out, err := c.GetParameters(ctx, &awsssm.GetParametersInput{
		Names:          []string{"acme.ZED", "acme.NOPE", "acme.ALPHA", "acme.MID", "acme.ALPHA", "acme.GONE"},
		WithDecryption: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range out.Parameters {
		names = append(names, *p.Name)
		if *p.Value != "v-"+*p.Name {
			t.Errorf("%s = %q", *p.Name, *p.Value)
		}
	}
	if !slices.Equal(names, []string{"acme.ALPHA", "acme.MID", "acme.ZED"}) {
		t.Errorf("Parameters = %v, want sorted and once each", names)
	}
	if !slices.Equal(out.InvalidParameters, []string{"acme.NOPE", "acme.GONE"}) {
		t.Errorf("InvalidParameters = %v", out.InvalidParameters)
	}

	none, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"nothing"}})
	if err != nil || len(none.Parameters) != 0 || len(none.InvalidParameters) != 1 {
		t.Errorf("only missing names: %+v, %v", none, err)
	}
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = "n" + string(rune('a'+i))
	}
	_, err = c.GetParameters(ctx, &awsssm.GetParametersInput{Names: eleven})
	var invalid *types.ValidationException
	if !errors.As(err, &invalid) {
		t.Errorf("11 names: %v, want ValidationException", err)
	}
}

func TestGetParametersByPath(t *testing.T) {
	_, c := start(t, ssm.Options{})
	names := []string{
		"/clients/acme/DB_PASSWORD", "/clients/acme/HOGE", "/clients/acme/db/HOST", "/clients/acme/db/PORT",
		"/clients/beta/HOGE", "/clientsX/y", "/clients",
	}
	for _, n := range names {
		typ := types.ParameterTypeString
		if n == "/clients/acme/DB_PASSWORD" {
			typ = types.ParameterTypeSecureString
		}
		put(t, c, &awsssm.PutParameterInput{Name: aws.String(n), Value: aws.String("value of " + n), Type: typ})
	}
	byPath := func(in *awsssm.GetParametersByPathInput) (got []string) {
		t.Helper()
		p := awsssm.NewGetParametersByPathPaginator(c, in)
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, prm := range out.Parameters {
				got = append(got, *prm.Name)
				if *prm.Name == "/clients/acme/DB_PASSWORD" && (*prm.Value == "value of /clients/acme/DB_PASSWORD") != aws.ToBool(in.WithDecryption) {
					t.Errorf("SecureString value %q with WithDecryption=%v", *prm.Value, aws.ToBool(in.WithDecryption))
				}
			}
			if in.MaxResults != nil && len(out.Parameters) > int(*in.MaxResults) {
				t.Errorf("a page of %d with MaxResults %d", len(out.Parameters), *in.MaxResults)
			}
		}
		if in.MaxResults != nil && *in.MaxResults == 1 && pages < len(got) {
			t.Errorf("%d pages for %d parameters with MaxResults 1", pages, len(got))
		}
		return got
	}
	direct := byPath(&awsssm.GetParametersByPathInput{Path: aws.String("/clients/acme")})
	if want := []string{"/clients/acme/DB_PASSWORD", "/clients/acme/HOGE"}; !slices.Equal(direct, want) {
		t.Errorf("one level = %v, want %v", direct, want)
	}
	all := byPath(&awsssm.GetParametersByPathInput{Path: aws.String("/clients/"), Recursive: aws.Bool(true),
		MaxResults: aws.Int32(1), WithDecryption: aws.Bool(true)})
	if want := names[:5]; !slices.Equal(all, want) {
		t.Errorf("recursive, one per page = %v, want %v", all, want)
	}
	root := byPath(&awsssm.GetParametersByPathInput{Path: aws.String("/")})
	if want := []string{"/clients"}; !slices.Equal(root, want) {
		t.Errorf("root = %v, want %v", root, want)
	}
	strings := byPath(&awsssm.GetParametersByPathInput{Path: aws.String("/clients"), Recursive: aws.Bool(true), MaxResults: aws.Int32(2),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"String"}}}})
	if want := []string{"/clients/acme/HOGE", "/clients/acme/db/HOST", "/clients/acme/db/PORT", "/clients/beta/HOGE"}; !slices.Equal(strings, want) {
		t.Errorf("Type filter = %v, want %v", strings, want)
	}

	for _, tc := range []struct {
		in   awsssm.GetParametersByPathInput
		code string
	}{
		{awsssm.GetParametersByPathInput{Path: aws.String("/clients"), MaxResults: aws.Int32(11)}, "ValidationException"},
		{awsssm.GetParametersByPathInput{Path: aws.String("clients")}, "ValidationException"},
		{awsssm.GetParametersByPathInput{Path: aws.String("/clients"), NextToken: aws.String("!!")}, "InvalidNextToken"},
		{awsssm.GetParametersByPathInput{Path: aws.String("/clients"), ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}}, "InvalidFilterKey"},
		{awsssm.GetParametersByPathInput{Path: aws.String("/clients"), ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Option: aws.String("Contains"), Values: []string{"x"}}}}, "InvalidFilterOption"},
	} {
		_, err := c.GetParametersByPath(ctx, &tc.in)
		emutest.WantCode(t, err, tc.code)
	}
}

func TestDeleteParameters(t *testing.T) {
	_, c := start(t, ssm.Options{})
	for _, n := range []string{"/d/one", "/d/two", "/d/three"} {
		put(t, c, &awsssm.PutParameterInput{Name: aws.String(n), Value: aws.String("x"), Type: types.ParameterTypeString})
	}
	if _, err := c.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("/d/one")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/d/one")})
	var notFound *types.ParameterNotFound
	if !errors.As(err, &notFound) {
		t.Errorf("after delete: %v", err)
	}
	_, err = c.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("/d/one")})
	if !errors.As(err, &notFound) {
		t.Errorf("deleting again: %v, want ParameterNotFound", err)
	}
	_, err = c.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String(al2023)})
	emutest.WantCode(t, err, "AccessDeniedException")

	out, err := c.DeleteParameters(ctx, &awsssm.DeleteParametersInput{Names: []string{"/d/two", "/d/nope", "/d/three", al2023}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.DeletedParameters, []string{"/d/two", "/d/three"}) || !slices.Equal(out.InvalidParameters, []string{"/d/nope", al2023}) {
		t.Errorf("DeleteParameters = %v / %v", out.DeletedParameters, out.InvalidParameters)
	}
	// A deleted name starts again at version 1.
	if v := put(t, c, &awsssm.PutParameterInput{Name: aws.String("/d/two"), Value: aws.String("y"), Type: types.ParameterTypeString}).Version; v != 1 {
		t.Errorf("recreated at version %d", v)
	}
	_, err = c.DeleteParameters(ctx, &awsssm.DeleteParametersInput{Names: make([]string, 11)})
	emutest.WantCode(t, err, "ValidationException")
}

func TestDescribeParameters(t *testing.T) {
	_, c := start(t, ssm.Options{Region: "eu-west-1"})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/clients/acme/DB_PASSWORD"), Value: aws.String("pw"), Type: types.ParameterTypeSecureString,
		KeyId: aws.String("alias/clients"), Description: aws.String("database password"), Tags: []types.Tag{{Key: aws.String("client"), Value: aws.String("acme")}}})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/clients/acme/HOGE"), Value: aws.String("h"), Type: types.ParameterTypeString})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/clients/beta/HOGE"), Value: aws.String("h"), Type: types.ParameterTypeStringList})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("acme.HOGE"), Value: aws.String("h"), Type: types.ParameterTypeString})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("acme.HOGE"), Value: aws.String("h2"), Overwrite: aws.Bool(true)})

	describe := func(in *awsssm.DescribeParametersInput) (got []string) {
		t.Helper()
		p := awsssm.NewDescribeParametersPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Parameters {
				got = append(got, *m.Name)
			}
		}
		return got
	}
	all := describe(&awsssm.DescribeParametersInput{MaxResults: aws.Int32(1)})
	// In the order of their keys: "acme.HOGE" is "/acme.HOGE".
	if want := []string{"acme.HOGE", "/clients/acme/DB_PASSWORD", "/clients/acme/HOGE", "/clients/beta/HOGE"}; !slices.Equal(all, want) {
		t.Errorf("all, one per page = %v, want %v (public parameters are not listed)", all, want)
	}
	filter := func(key, option string, values ...string) *awsssm.DescribeParametersInput {
		f := types.ParameterStringFilter{Key: aws.String(key), Values: values}
		if option != "" {
			f.Option = aws.String(option)
		}
		return &awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f}}
	}
	for _, tc := range []struct {
		in   *awsssm.DescribeParametersInput
		want []string
	}{
		{filter("Name", "BeginsWith", "/clients/acme"), []string{"/clients/acme/DB_PASSWORD", "/clients/acme/HOGE"}},
		{filter("Name", "", "acme.HOGE"), []string{"acme.HOGE"}},
		{filter("Name", "Equals", "/acme.HOGE", "/clients/beta/HOGE"), []string{"acme.HOGE", "/clients/beta/HOGE"}},
		{filter("Name", "Contains", "HOGE"), []string{"acme.HOGE", "/clients/acme/HOGE", "/clients/beta/HOGE"}},
		{filter("Type", "Equals", "SecureString", "StringList"), []string{"/clients/acme/DB_PASSWORD", "/clients/beta/HOGE"}},
		{filter("Path", "", "/clients/acme"), []string{"/clients/acme/DB_PASSWORD", "/clients/acme/HOGE"}},
		{filter("Path", "Recursive", "/clients"), []string{"/clients/acme/DB_PASSWORD", "/clients/acme/HOGE", "/clients/beta/HOGE"}},
		{filter("Path", "OneLevel", "/"), []string{"acme.HOGE"}},
		{filter("KeyId", "", "alias/clients"), []string{"/clients/acme/DB_PASSWORD"}},
		{filter("tag:client", "", "acme"), []string{"/clients/acme/DB_PASSWORD"}},
		{filter("Tier", "", "Advanced"), nil},
		{&awsssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/clients/b"}}}}, []string{"/clients/beta/HOGE"}},
		{&awsssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyType, Values: []string{"String"}}}}, []string{"acme.HOGE", "/clients/acme/HOGE"}},
		{&awsssm.DescribeParametersInput{Shared: aws.Bool(true)}, nil},
	} {
		if got := describe(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.in.ParameterFilters, got, tc.want)
		}
	}

	out, err := c.DescribeParameters(ctx, filter("Name", "Equals", "/clients/acme/DB_PASSWORD"))
	if err != nil {
		t.Fatal(err)
	}
	m := out.Parameters[0]
	if *m.ARN != "arn:aws:ssm:eu-west-1:123456789012:parameter/clients/acme/DB_PASSWORD" || m.Type != types.ParameterTypeSecureString ||
		*m.KeyId != "alias/clients" || *m.Description != "database password" || m.Version != 1 || m.Tier != types.ParameterTierStandard ||
		*m.DataType != "text" || !m.LastModifiedDate.Equal(now) {
		t.Errorf("metadata = %+v", m)
	}
	// The emulator has no IAM: every caller is the account, whose root user's ARN it names.
	if user := aws.ToString(m.LastModifiedUser); user != "arn:aws:iam::123456789012:root" {
		t.Errorf("LastModifiedUser = %q", user)
	}
	out, err = c.DescribeParameters(ctx, filter("Name", "Equals", "acme.HOGE"))
	if err != nil {
		t.Fatal(err)
	}
	if m := out.Parameters[0]; m.KeyId != nil || m.Version != 2 || *m.ARN != "arn:aws:ssm:eu-west-1:123456789012:parameter/acme.HOGE" {
		t.Errorf("metadata of a String = %+v", m)
	}

	for _, tc := range []struct {
		in   *awsssm.DescribeParametersInput
		code string
	}{
		{&awsssm.DescribeParametersInput{MaxResults: aws.Int32(51)}, "ValidationException"},
		{filter("Label", "", "x"), "InvalidFilterKey"},
		{filter("Bogus", "", "x"), "ValidationException"},
		{filter("Name", "Recursive", "x"), "InvalidFilterOption"},
		{filter("Type", "", "Secret"), "InvalidFilterOption"},
		{filter("Name", ""), "InvalidFilterValue"},
		{filter("Path", "", "/aws/service"), "ValidationException"},
		{&awsssm.DescribeParametersInput{NextToken: aws.String("not a token")}, "InvalidNextToken"},
		{&awsssm.DescribeParametersInput{
			Filters:          []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"x"}}},
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}},
		}, "ValidationException"},
	} {
		_, err := c.DescribeParameters(ctx, tc.in)
		emutest.WantCode(t, err, tc.code)
	}
	_, err = c.DescribeParameters(ctx, filter("Label", "", "x"))
	var badKey *types.InvalidFilterKey
	if !errors.As(err, &badKey) {
		t.Errorf("Label filter: %v", err)
	}
}

func TestPublicParameters(t *testing.T) {
	_, c := start(t, ssm.Options{Region: "ap-northeast-1"})
	p := get(t, c, al2023, true)
	if *p.Value != "ami-0123456789abcdef0" || p.Type != types.ParameterTypeString || *p.DataType != "text" || p.Version != 1 ||
		*p.ARN != "arn:aws:ssm:ap-northeast-1::parameter"+al2023 {
		t.Errorf("public parameter = %+v", p)
	}
	if p := get(t, c, *p.ARN, false); *p.Name != al2023 {
		t.Errorf("public parameter by ARN = %+v", p)
	}
	out, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{al2023, "/aws/service/nope"}})
	if err != nil || len(out.Parameters) != 1 || !slices.Equal(out.InvalidParameters, []string{"/aws/service/nope"}) {
		t.Errorf("GetParameters of public names: %+v, %v", out, err)
	}
	byPath, err := c.GetParametersByPath(ctx, &awsssm.GetParametersByPathInput{Path: aws.String("/aws/service/ami-amazon-linux-latest")})
	if err != nil {
		t.Fatal(err)
	}
	if len(byPath.Parameters) != 2 || *byPath.Parameters[0].Name != "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" {
		t.Errorf("public parameters by path: %+v", byPath.Parameters)
	}
	byPath, err = c.GetParametersByPath(ctx, &awsssm.GetParametersByPathInput{Path: aws.String("/aws/service")})
	if err != nil || len(byPath.Parameters) != 0 {
		t.Errorf("one level above them: %+v, %v", byPath, err)
	}
	byPath, err = c.GetParametersByPath(ctx, &awsssm.GetParametersByPathInput{Path: aws.String("/"), Recursive: aws.Bool(true)})
	if err != nil || len(byPath.Parameters) != 0 {
		t.Errorf("the account's root lists public parameters: %+v, %v", byPath, err)
	}

	if _, err := ssm.New(ssm.Options{Public: func(string) map[string]string { return map[string]string{"/mine/x": "ami-1"} }}); err == nil {
		t.Error("a public parameter outside /aws/ was accepted")
	}
}

func TestParameterValue(t *testing.T) {
	svc, c := start(t, ssm.Options{})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/golden-ami"), Value: aws.String("ami-11111111"), Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image")})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/golden-ami"), Value: aws.String("ami-22222222"), Overwrite: aws.Bool(true)})
	put(t, c, &awsssm.PutParameterInput{Name: aws.String("/secret"), Value: aws.String("ami-33333333"), Type: types.ParameterTypeSecureString})
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"/golden-ami", "ami-22222222", true},
		{"/golden-ami:1", "ami-11111111", true},
		{al2023, "ami-0123456789abcdef0", true},
		{"/nope", "", false},
		{"/golden-ami:7", "", false},
	} {
		v, ok, err := svc.ParameterValue(ctx, "us-east-1", tc.name)
		if v != tc.value || ok != tc.ok || err != nil {
			t.Errorf("ParameterValue(%s) = %q, %v, %v; want %q, %v", tc.name, v, ok, err, tc.value, tc.ok)
		}
	}
	v, ok, err := svc.ParameterValue(ctx, "us-east-1", "/secret")
	if ok || err != nil || v != "" {
		t.Errorf("ParameterValue of a SecureString = %q, %v, %v; want nothing", v, ok, err)
	}
}
