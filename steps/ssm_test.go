package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/engine"
)

// calls counts the AWS operations a test's steps make, by operation name, and the most that were
// in flight at once.
type calls struct {
	mu          sync.Mutex
	n           map[string]int
	inflight    int
	maxInflight int
}

// count returns how many times op (e.g. "GetParameters") was called.
func (c *calls) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

func (c *calls) max() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxInflight
}

// instrument makes every SDK client of a count its operations (once per call, retries aside).
func instrument(a *AWS) *calls {
	c := &calls{n: map[string]int{}}
	load := a.Load
	a.Load = func(ctx context.Context) (aws.Config, error) {
		cfg, err := load(ctx)
		cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("flowTestCalls", func(ctx context.Context,
				in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.n[awsmiddleware.GetOperationName(ctx)]++
				c.inflight++
				c.maxInflight = max(c.maxInflight, c.inflight)
				c.mu.Unlock()
				defer func() {
					c.mu.Lock()
					c.inflight--
					c.mu.Unlock()
				}()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
		return cfg, err
	}
	return c
}

// ssmTest is an emulator, a context whose AWS steps reach it, an SDK client for setting up and
// checking, and the count of the steps' calls.
type ssmTest struct {
	ctx   context.Context
	ssm   *ssm.Client
	calls *calls
}

func newSSMTest(t *testing.T) *ssmTest {
	t.Helper()
	a, _ := newTestAWS(t, emulator.Options{Region: "eu-west-1", Seed: "ssm"})
	cfg, err := a.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := instrument(a)
	return &ssmTest{ctx: WithAWS(context.Background(), a), ssm: ssm.NewFromConfig(cfg), calls: c}
}

// put stores parameters directly (name -> value) with the given type.
func (st *ssmTest) put(t testing.TB, typ ssmtypes.ParameterType, params map[string]string) {
	t.Helper()
	for name, value := range params {
		if _, err := st.ssm.PutParameter(context.Background(), &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(true),
		}); err != nil {
			t.Fatalf("put %s: %v", name, err)
		}
	}
}

func (st *ssmTest) read(t *testing.T, name string) *ssmtypes.Parameter {
	t.Helper()
	out, err := st.ssm.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return out.Parameter
}

func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one saying %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

func TestSSMPutTypesAndVersions(t *testing.T) {
	st := newSSMTest(t)
	for _, tc := range []struct {
		name, typ, value string
		extra            map[string]any
	}{
		{"acme.DB_HOST", "String", "db.internal", nil},
		{"acme.HOSTS", "StringList", "a.internal,b.internal", nil},
		{"acme.DB_PASSWORD", "SecureString", "s3cret!", map[string]any{"key_id": "alias/acme"}},
		{"/clients/acme/DB_PORT", "String", "5432", map[string]any{"description": "the port"}},
	} {
		args := map[string]any{"name": tc.name, "value": tc.value, "type": tc.typ}
		for k, v := range tc.extra {
			args[k] = v
		}
		out, err := runStepT(t, st.ctx, "ssm.put", args)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if out["version"] != 1 {
			t.Errorf("%s: version %v, want 1", tc.name, out["version"])
		}
		p := st.read(t, tc.name)
		if aws.ToString(p.Value) != tc.value || string(p.Type) != tc.typ {
			t.Errorf("%s: stored %s %q, want %s %q", tc.name, p.Type, aws.ToString(p.Value), tc.typ, tc.value)
		}
	}
	// The default type is String; each overwrite is a new version.
	for want := 2; want <= 3; want++ {
		out, err := runStepT(t, st.ctx, "ssm.put", map[string]any{"name": "acme.DB_HOST", "value": fmt.Sprint("db", want)})
		if err != nil {
			t.Fatal(err)
		}
		if out["version"] != want {
			t.Errorf("overwrite: version %v, want %d", out["version"], want)
		}
	}
	if p := st.read(t, "acme.DB_HOST"); aws.ToString(p.Value) != "db3" || p.Type != ssmtypes.ParameterTypeString || p.Version != 3 {
		t.Errorf("after overwrites: %s %q version %d", p.Type, aws.ToString(p.Value), p.Version)
	}
}

func TestSSMPutOverwriteFalse(t *testing.T) {
	st := newSSMTest(t)
	args := map[string]any{"name": "acme.ONCE", "value": "first", "overwrite": false}
	if out, err := runStepT(t, st.ctx, "ssm.put", args); err != nil || out["version"] != 1 {
		t.Fatalf("first put: %v, %v", out, err)
	}
	args["value"] = "second"
	_, err := runStepT(t, st.ctx, "ssm.put", args)
	wantError(t, err, "ssm.put: PutParameter acme.ONCE: ParameterAlreadyExists: ", "overwrite is false; set overwrite: true")
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ParameterAlreadyExists" {
		t.Errorf("the error does not unwrap to the SDK's ParameterAlreadyExists: %#v", err)
	}
	if p := st.read(t, "acme.ONCE"); aws.ToString(p.Value) != "first" {
		t.Errorf("value %q after a refused put, want first", aws.ToString(p.Value))
	}
	// An AWS validation error comes through with its code too.
	_, err = runStepT(t, st.ctx, "ssm.put", map[string]any{"name": "aws.reserved", "value": "x"})
	wantError(t, err, "ssm.put: PutParameter aws.reserved: AccessDeniedException: ")
}

func TestSSMPutValidation(t *testing.T) {
	st := newSSMTest(t)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "a", "value": "v", "type": "Securestring"}, `type: "Securestring" is not one of String, StringList, SecureString; did you mean SecureString?`},
		{map[string]any{"name": "a", "value": "v", "key_id": "alias/k"}, "key_id: only for a SecureString, and type is String"},
		{map[string]any{"name": " ", "value": "v"}, "name: must not be empty"},
	} {
		_, err := runStepT(t, st.ctx, "ssm.put", tc.args)
		wantError(t, err, tc.want)
	}
	if n := st.calls.count("PutParameter"); n != 0 {
		t.Errorf("%d PutParameter calls for invalid arguments", n)
	}
}

func TestSSMPutLint(t *testing.T) {
	src := `name: lint
inputs:
  pw: {secret: true}
steps:
  - id: literal
    uses: ssm.put
    with: {name: acme.PW, value: hunter2, type: SecureString}
  - id: from_input
    uses: ssm.put
    with: {name: acme.PW, value: "${{ inputs.pw }}", type: SecureString}
  - id: plain
    uses: ssm.put
    with: {name: acme.X, value: x}
`
	wf, err := engine.Load("lint.yaml", []byte(src), Default)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range wf.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		"lint.yaml:7:34: this SecureString's value is written literally in the workflow: a secret in a file is not secret; " +
			"declare a secret input (inputs: NAME: {secret: true}) and pass it as ${{ inputs.NAME }}",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A type that is not one is an error before anything runs, with the likely one named.
	_, err = engine.Load("typo.yaml", []byte("name: typo\nsteps:\n  - id: typo\n    uses: ssm.put\n    with: {name: acme.X, value: x, type: securestring}\n"), Default)
	if err == nil || err.Error() != `typo.yaml:5:42: type: "securestring" is not one of String, StringList, SecureString; did you mean SecureString?` {
		t.Errorf("err %v", err)
	}
}

func TestSSMPutPlanNeverShowsTheValue(t *testing.T) {
	src := `name: plan
inputs:
  pw: {secret: true}
steps:
  - id: put
    uses: ssm.put
    with: {name: acme.PW, value: "${{ inputs.pw }}", type: SecureString, key_id: alias/acme}
  - id: plain
    uses: ssm.put
    with: {name: acme.HOST, value: db.internal, overwrite: false}
`
	calls := planCalls(t, src, map[string]engine.Given{"pw": {Value: "hunter2"}})
	want := map[string][]string{
		"put":   {"ssm:PutParameter name=acme.PW type=SecureString overwrite=true key_id=alias/acme"},
		"plain": {"ssm:PutParameter name=acme.HOST type=String overwrite=false"},
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("plan calls %q, want %q", calls, want)
	}
}

// planCalls dry-runs src and returns each step's planned calls.
func planCalls(t *testing.T, src string, inputs map[string]engine.Given) map[string][]string {
	t.Helper()
	wf, err := engine.Load("plan.yaml", []byte(src), Default)
	if err != nil {
		t.Fatal(err)
	}
	m := new(engine.Masker)
	values, err := wf.ResolveInputs(inputs, nil, m)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string][]string{}
	err = engine.Plan(context.Background(), wf, engine.Options{Inputs: values, Masker: m, Events: func(e engine.Event) {
		if e.Event == "plan" {
			calls[e.Step] = e.Calls
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// names returns n names, prefix0 .. prefixN-1, zero-padded to sort in order.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestSSMGetNamesInBatches(t *testing.T) {
	st := newSSMTest(t)
	all := names("acme.K", 25)
	stored := map[string]string{}
	for i, n := range all {
		if i%5 != 3 { // 20 exist, 5 do not
			stored[n] = "v-" + n
		}
	}
	st.put(t, ssmtypes.ParameterTypeString, stored)

	_, err := runStepT(t, st.ctx, "ssm.get", map[string]any{"names": anyList(all)})
	wantError(t, err, "ssm.get: parameters not found in eu-west-1: acme.K03, acme.K08, acme.K13, acme.K18, acme.K23 (set optional: true to go on without them)")
	if n := st.calls.count("GetParameters"); n != 3 {
		t.Errorf("%d GetParameters calls for 25 names, want 3", n)
	}

	out, err := runStepT(t, st.ctx, "ssm.get", map[string]any{"names": anyList(all), "optional": true})
	if err != nil {
		t.Fatal(err)
	}
	values := out["values"].(map[string]any)
	if len(values) != 20 {
		t.Errorf("%d values, want 20", len(values))
	}
	for n, v := range stored {
		if values[n] != v {
			t.Errorf("%s = %v, want %s", n, values[n], v)
		}
	}
	if got := out["missing"]; !reflect.DeepEqual(got, []any{"acme.K03", "acme.K08", "acme.K13", "acme.K18", "acme.K23"}) {
		t.Errorf("missing %v", got)
	}
	if got := out["versions"].(map[string]any)["acme.K00"]; got != 1 {
		t.Errorf("version %v, want 1", got)
	}
	if got := out["types"].(map[string]any)["acme.K00"]; got != "String" {
		t.Errorf("type %v, want String", got)
	}
	if m := st.calls.max(); m > ssmParallel {
		t.Errorf("%d calls in flight at once, want at most %d", m, ssmParallel)
	}
}

func TestSSMGetByPath(t *testing.T) {
	st := newSSMTest(t)
	st.put(t, ssmtypes.ParameterTypeString, map[string]string{
		"/clients/acme/DB_HOST":    "db.internal",
		"/clients/acme/DB_PORT":    "5432",
		"/clients/acme/db/USER":    "app",
		"/clients/acme/db/ro/USER": "reader",
		"/clients/acmeco/OTHER":    "not acme's",
		"/clients/other/DB_HOST":   "elsewhere",
	})
	for _, tc := range []struct {
		args map[string]any
		want map[string]any
	}{
		{map[string]any{"path": "/clients/acme"},
			map[string]any{"/clients/acme/DB_HOST": "db.internal", "/clients/acme/DB_PORT": "5432"}},
		{map[string]any{"path": "/clients/acme/", "strip_prefix": true},
			map[string]any{"DB_HOST": "db.internal", "DB_PORT": "5432"}},
		{map[string]any{"path": "/clients/acme", "recursive": true, "strip_prefix": true},
			map[string]any{"DB_HOST": "db.internal", "DB_PORT": "5432", "db/USER": "app", "db/ro/USER": "reader"}},
		{map[string]any{"path": "/clients/acme", "recursive": true},
			map[string]any{"/clients/acme/DB_HOST": "db.internal", "/clients/acme/DB_PORT": "5432",
				"/clients/acme/db/USER": "app", "/clients/acme/db/ro/USER": "reader"}},
	} {
		out, err := runStepT(t, st.ctx, "ssm.get", tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if !reflect.DeepEqual(out["values"], tc.want) {
			t.Errorf("%v: values %v, want %v", tc.args, out["values"], tc.want)
		}
	}

	_, err := runStepT(t, st.ctx, "ssm.get", map[string]any{"path": "/clients/none"})
	wantError(t, err, "ssm.get: no parameters under path /clients/none (one level; set recursive: true for deeper ones) in eu-west-1 (set optional: true if none is fine)")
	_, err = runStepT(t, st.ctx, "ssm.get", map[string]any{"path": "/clients/none", "recursive": true})
	wantError(t, err, "no parameters under path /clients/none (recursive) in eu-west-1")
	out, err := runStepT(t, st.ctx, "ssm.get", map[string]any{"path": "/clients/none", "optional": true})
	if err != nil || len(out["values"].(map[string]any)) != 0 {
		t.Errorf("optional and nothing there: %v, %v", out, err)
	}
}

func TestSSMGetByPathPaginates(t *testing.T) {
	st := newSSMTest(t)
	stored := map[string]string{}
	for _, n := range names("/big/K", 23) {
		stored[n] = "v"
	}
	st.put(t, ssmtypes.ParameterTypeString, stored)
	out, err := runStepT(t, st.ctx, "ssm.get", map[string]any{"path": "/big", "strip_prefix": true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out["values"].(map[string]any)); n != 23 {
		t.Errorf("%d values, want 23", n)
	}
	if n := st.calls.count("GetParametersByPath"); n != 3 {
		t.Errorf("%d GetParametersByPath calls for 23 parameters, want 3 pages of 10", n)
	}
}

func TestSSMGetByPrefixPaginates(t *testing.T) {
	st := newSSMTest(t)
	stored := map[string]string{}
	for _, n := range names("big.K", 60) {
		stored[n] = "v-" + strings.TrimPrefix(n, "big.")
	}
	st.put(t, ssmtypes.ParameterTypeString, stored)
	st.put(t, ssmtypes.ParameterTypeString, map[string]string{"bigger.K": "no", "acme.K": "no", "/big/K": "no"})

	out, err := runStepT(t, st.ctx, "ssm.get", map[string]any{"prefix": "big.", "strip_prefix": true})
	if err != nil {
		t.Fatal(err)
	}
	values := out["values"].(map[string]any)
	if len(values) != 60 {
		t.Errorf("%d values, want 60", len(values))
	}
	for _, k := range names("K", 60) {
		if values[k] != "v-"+k {
			t.Errorf("%s = %v", k, values[k])
		}
	}
	if n := st.calls.count("DescribeParameters"); n != 2 {
		t.Errorf("%d DescribeParameters calls for 60 names, want 2 (pages of 50)", n)
	}
	if n := st.calls.count("GetParameters"); n != 6 {
		t.Errorf("%d GetParameters calls for 60 names, want 6", n)
	}

	out, err = runStepT(t, st.ctx, "ssm.get", map[string]any{"prefix": "big.K5"})
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(out["values"].(map[string]any)); !reflect.DeepEqual(got, []string{"big.K50", "big.K51", "big.K52", "big.K53", "big.K54", "big.K55", "big.K56", "big.K57", "big.K58", "big.K59"}) {
		t.Errorf("prefix big.K5 without strip: %v", got)
	}

	_, err = runStepT(t, st.ctx, "ssm.get", map[string]any{"prefix": "nope."})
	wantError(t, err, "ssm.get: no parameters whose name begins with nope. in eu-west-1 (set optional: true if none is fine)")
	out, err = runStepT(t, st.ctx, "ssm.get", map[string]any{"prefix": "nope.", "optional": true})
	if err != nil || len(out["values"].(map[string]any)) != 0 {
		t.Errorf("optional and nothing there: %v, %v", out, err)
	}
}

// With a prefix, the names require asks for are read beside the listing, and only the names the
// listing adds are read after it: each name is read once.
func TestSSMGetByPrefixReadsRequiredBesideTheListing(t *testing.T) {
	st := newSSMTest(t)
	stored := map[string]string{}
	for _, n := range names("app.K", 12) {
		stored[n] = "v-" + strings.TrimPrefix(n, "app.")
	}
	st.put(t, ssmtypes.ParameterTypeString, stored)

	out, err := runStepT(t, st.ctx, "ssm.get", map[string]any{"prefix": "app.", "strip_prefix": true,
		"require": anyList(names("K", 10))})
	if err != nil {
		t.Fatal(err)
	}
	if values := out["values"].(map[string]any); len(values) != 12 || values["K00"] != "v-K00" || values["K11"] != "v-K11" {
		t.Errorf("values %v", values)
	}
	// One call for the ten required, one for the two the listing found besides.
	if n, d := st.calls.count("GetParameters"), st.calls.count("DescribeParameters"); n != 2 || d != 1 {
		t.Errorf("%d GetParameters and %d DescribeParameters calls, want 2 and 1", n, d)
	}

	_, err = runStepT(t, st.ctx, "ssm.get", map[string]any{"prefix": "app.", "strip_prefix": true,
		"require": []any{"K01", "GONE"}})
	wantError(t, err, "ssm.get: required parameters not found in eu-west-1: GONE (found 12 parameters whose name begins with app.)")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestSSMGetRequire(t *testing.T) {
	st := newSSMTest(t)
	st.put(t, ssmtypes.ParameterTypeString, map[string]string{"acme.DB_HOST": "db", "acme.DB_PORT": "5432"})
	args := map[string]any{"prefix": "acme.", "strip_prefix": true, "require": []any{"DB_HOST", "DB_USER", "DB_PASSWORD"}}
	_, err := runStepT(t, st.ctx, "ssm.get", args)
	wantError(t, err, "ssm.get: required parameters not found in eu-west-1: DB_PASSWORD, DB_USER (found 2 parameters whose name begins with acme.)")
	args["require"] = []any{"DB_HOST", "DB_PORT"}
	if _, err := runStepT(t, st.ctx, "ssm.get", args); err != nil {
		t.Error(err)
	}
	_, err = runStepT(t, st.ctx, "ssm.get", map[string]any{"names": []any{"acme.DB_HOST", "acme.X"}, "optional": true, "require": []any{"acme.X"}})
	wantError(t, err, "required parameters not found in eu-west-1: acme.X")
}

func TestSSMGetDecrypt(t *testing.T) {
	st := newSSMTest(t)
	st.put(t, ssmtypes.ParameterTypeSecureString, map[string]string{"acme.DB_PASSWORD": "hunter2"})
	st.put(t, ssmtypes.ParameterTypeString, map[string]string{"acme.DB_HOST": "db.internal"})
	for _, mode := range []map[string]any{
		{"names": []any{"acme.DB_PASSWORD", "acme.DB_HOST"}},
		{"prefix": "acme."},
	} {
		for _, decrypt := range []bool{true, false} {
			args := map[string]any{"decrypt": decrypt}
			for k, v := range mode {
				args[k] = v
			}
			out, err := runStepT(t, st.ctx, "ssm.get", args)
			if err != nil {
				t.Fatal(err)
			}
			values, types := out["values"].(map[string]any), out["types"].(map[string]any)
			if pw := values["acme.DB_PASSWORD"]; (pw == "hunter2") != decrypt || pw == "" {
				t.Errorf("%v decrypt=%t: the SecureString reads %q", mode, decrypt, pw)
			}
			if values["acme.DB_HOST"] != "db.internal" {
				t.Errorf("%v decrypt=%t: the String reads %q", mode, decrypt, values["acme.DB_HOST"])
			}
			if types["acme.DB_PASSWORD"] != "SecureString" || types["acme.DB_HOST"] != "String" {
				t.Errorf("types %v", types)
			}
		}
	}
}

func TestSSMGetValidation(t *testing.T) {
	st := newSSMTest(t)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, "ssm.get: set one of names, path or prefix"},
		{map[string]any{"names": []any{"a"}, "prefix": "a."}, "ssm.get: set only one of names, path or prefix, not names and prefix"},
		{map[string]any{"path": "/a", "prefix": "a."}, "not path and prefix"},
		{map[string]any{"names": []any{}}, "names: empty"},
		{map[string]any{"names": []any{"a", ""}}, "names: item 1 is empty"},
		{map[string]any{"path": "clients/acme"}, `path: "clients/acme" must begin with /`},
		{map[string]any{"prefix": "a.", "recursive": true}, "recursive: applies only to path"},
		{map[string]any{"names": []any{"a"}, "strip_prefix": true}, "strip_prefix: applies only to path or prefix"},
	} {
		_, err := runStepT(t, st.ctx, "ssm.get", tc.args)
		wantError(t, err, tc.want)
	}
	if len(st.calls.n) != 0 {
		t.Errorf("calls for invalid arguments: %v", st.calls.n)
	}
}

func TestSSMGetCancelled(t *testing.T) {
	st := newSSMTest(t)
	ctx, cancel := context.WithCancel(st.ctx)
	cancel()
	_, err := runStepT(t, ctx, "ssm.get", map[string]any{"names": anyList(names("acme.K", 25))})
	wantError(t, err, "ssm.get: GetParameters ", "stopped")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("the error is not context.Canceled: %v", err)
	}
}

func TestSSMGetPlan(t *testing.T) {
	src := `name: plan
steps:
  - {id: names, uses: ssm.get, with: {names: [a.X, a.Y]}}
  - {id: path, uses: ssm.get, with: {path: /clients/acme, recursive: true, decrypt: false}}
  - {id: prefix, uses: ssm.get, with: {prefix: acme., strip_prefix: true}}
`
	got := planCalls(t, src, nil)
	want := map[string][]string{
		"names":  {"ssm:GetParameters a.X,a.Y (1 batches of at most 10, WithDecryption)"},
		"path":   {"ssm:GetParametersByPath /clients/acme Recursive (paginated)"},
		"prefix": {"ssm:DescribeParameters Name BeginsWith acme. (paginated)", "ssm:GetParameters the names listed (batches of 10, WithDecryption)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan %q, want %q", got, want)
	}
}

// TestSSMSecretsInAWorkflow runs put and get through the engine: a SecureString read from
// Parameter Store (its value unknown to the run before) prints as *** in every event, and a
// String prints as it is.
func TestSSMSecretsInAWorkflow(t *testing.T) {
	st := newSSMTest(t)
	st.put(t, ssmtypes.ParameterTypeSecureString, map[string]string{"acme.API_KEY": "key-from-aws-0042"})
	src := `name: secrets
inputs:
  pw: {secret: true}
steps:
  - id: host
    uses: ssm.put
    with: {name: acme.DB_HOST, value: db.internal}
  - id: pw
    uses: ssm.put
    with: {name: acme.DB_PASSWORD, value: "${{ inputs.pw }}", type: SecureString}
  - id: cfg
    uses: ssm.get
    with: {prefix: acme., strip_prefix: true}
outputs:
  host: ${{ steps.cfg.values.DB_HOST }}
  key: ${{ steps.cfg.values.API_KEY }}
`
	res, events := runWorkflowT(t, st.ctx, src, map[string]engine.Given{"pw": {Value: "pw-from-input-77"}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var cfg map[string]any
	for _, e := range events {
		if e.Event == "step_finished" && e.Step == "cfg" {
			cfg = e.Outputs
		}
	}
	want := map[string]any{"DB_HOST": "db.internal", "DB_PASSWORD": "***", "API_KEY": "***"}
	if cfg == nil || !reflect.DeepEqual(cfg["values"], want) {
		t.Errorf("cfg's outputs in its event: %v; want values %v", cfg, want)
	}
	if res.Outputs["host"] != "db.internal" || res.Outputs["key"] != "***" {
		t.Errorf("run outputs %v", res.Outputs)
	}
	all, _ := json.Marshal(events)
	for _, secret := range []string{"key-from-aws-0042", "pw-from-input-77"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("the events show the secret %q", secret)
		}
	}
	if !strings.Contains(string(all), "db.internal") {
		t.Errorf("the events do not show the String value")
	}
	// The value stored is the real one, not the mask.
	if p := st.read(t, "acme.DB_PASSWORD"); aws.ToString(p.Value) != "pw-from-input-77" {
		t.Errorf("stored %q", aws.ToString(p.Value))
	}
}

// BenchmarkSSMGetPrefix is the boot path's read: 20 parameters under a prefix, half of them
// SecureStrings, through the SDK and the in-process emulator (DescribeParameters, then 2
// GetParameters calls in parallel).
func BenchmarkSSMGetPrefix(b *testing.B) {
	e, err := emulator.New(emulator.Options{Region: "us-east-1", Seed: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	a := benchAWS(e)
	cfg, _ := a.Config(context.Background())
	c := ssm.NewFromConfig(cfg)
	for i, n := range names("acme.K", 20) {
		typ := ssmtypes.ParameterTypeString
		if i%2 == 1 {
			typ = ssmtypes.ParameterTypeSecureString
		}
		if _, err := c.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(n), Value: aws.String("value-" + n), Type: typ}); err != nil {
			b.Fatal(err)
		}
	}
	typ, _ := Default.Lookup("ssm.get")
	ctx := WithAWS(context.Background(), a)
	args := map[string]any{"prefix": "acme.", "strip_prefix": true, "decrypt": true, "recursive": false, "optional": false}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := typ.Run(ctx, &engine.Runtime{}, args)
		if err != nil {
			b.Fatal(err)
		}
		if len(out["values"].(map[string]any)) != 20 {
			b.Fatal("not 20 values")
		}
	}
}

// benchAWS is newTestAWS for benchmarks: an *AWS reaching e in-process.
func benchAWS(e *emulator.Emulator) *AWS {
	client := &http.Client{Transport: e.Transport()}
	return &AWS{Load: func(context.Context) (aws.Config, error) {
		return aws.Config{
			Region:       e.Region(),
			Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			HTTPClient:   client,
			BaseEndpoint: aws.String(localEndpoint),
		}, nil
	}}
}

// TestSSMGetHierarchyPrefix: a prefix that is a hierarchy path is read with GetParametersByPath
// (which IAM can limit to the path), never DescribeParameters, and gives what a prefix gives.
func TestSSMGetHierarchyPrefix(t *testing.T) {
	st := newSSMTest(t)
	for _, name := range []string{"/clients/acme/DB_HOST", "/clients/acme/db/USER", "/clients/acmex/OTHER", "/clients/zed/DB_HOST"} {
		if _, err := runStepT(t, st.ctx, "ssm.put", map[string]any{"name": name, "value": "v-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runStepT(t, st.ctx, "ssm.get", map[string]any{"prefix": "/clients/acme/", "strip_prefix": true})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(out["values"]); got != "map[DB_HOST:v-/clients/acme/DB_HOST db/USER:v-/clients/acme/db/USER]" {
		t.Errorf("values %s", got)
	}
	if n := st.calls.count("DescribeParameters"); n != 0 {
		t.Errorf("%d DescribeParameters calls, want none", n)
	}
	if n := st.calls.count("GetParametersByPath"); n == 0 {
		t.Error("no GetParametersByPath call")
	}
}

// TestSSMPutWritesOnlyChanges: a re-run with the same value writes no new version; a new value,
// a new type, or a description (which cannot be compared) writes one.
func TestSSMPutWritesOnlyChanges(t *testing.T) {
	st := newSSMTest(t)
	put := func(args map[string]any) map[string]any {
		t.Helper()
		out, err := runStepT(t, st.ctx, "ssm.put", args)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for i, tc := range []struct {
		args    map[string]any
		version int
		changed bool
	}{
		{map[string]any{"name": "acme.PW", "value": "s3cret", "type": "SecureString"}, 1, true},
		{map[string]any{"name": "acme.PW", "value": "s3cret", "type": "SecureString"}, 1, false},
		{map[string]any{"name": "acme.PW", "value": "s3cret", "type": "String"}, 2, true},
		{map[string]any{"name": "acme.PW", "value": "other", "type": "String"}, 3, true},
		{map[string]any{"name": "acme.PW", "value": "other", "type": "String", "description": "d"}, 4, true},
	} {
		out := put(tc.args)
		if out["version"] != tc.version || out["changed"] != tc.changed {
			t.Errorf("put %d: version %v changed %v, want %d %v", i, out["version"], out["changed"], tc.version, tc.changed)
		}
	}
	if n := st.calls.count("PutParameter"); n != 4 {
		t.Errorf("%d PutParameter calls, want 4", n)
	}
}

// TestSSMPutPlanMasksASecureString: the dry run shows a SecureString's value as *** even when it
// comes from an input not declared secret, and a value only a run knows as its expression.
func TestSSMPutPlanMasksASecureString(t *testing.T) {
	src := `name: plan
inputs:
  pw: {}
steps:
  - id: put
    uses: ssm.put
    with: {name: acme.PW, value: "${{ inputs.pw }}", type: SecureString}
  - id: gen
    uses: exec
    with: {argv: [openssl, rand, -hex, "16"]}
  - id: later
    uses: ssm.put
    with: {name: acme.TOKEN, value: "${{ steps.gen.stdout }}", type: SecureString}
  - id: plain
    uses: ssm.put
    with: {name: acme.HOST, value: db.internal}
  - id: echo
    uses: exec
    with: {argv: [echo, "${{ inputs.pw }}"]}
`
	wf, err := engine.Load("plan.yaml", []byte(src), Default)
	if err != nil {
		t.Fatal(err)
	}
	m := new(engine.Masker)
	values, err := wf.ResolveInputs(map[string]engine.Given{"pw": {Value: "hunter2-plain-input"}}, nil, m)
	if err != nil {
		t.Fatal(err)
	}
	with := map[string]map[string]any{}
	err = engine.Plan(context.Background(), wf, engine.Options{Inputs: values, Masker: m, Events: func(e engine.Event) {
		if e.Event == "plan" {
			with[e.Step] = e.With
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	for step, want := range map[string]any{"put": "***", "later": engine.Unknown{Text: "<steps.gen.stdout>"}, "plain": "db.internal"} {
		if got := with[step]["value"]; got != want {
			t.Errorf("%s: value %v in the plan, want %s", step, got, want)
		}
	}
	if got := fmt.Sprint(with["echo"]["argv"]); got != "[echo ***]" {
		t.Errorf("a later step's argument holding the value: %s", got)
	}
}
