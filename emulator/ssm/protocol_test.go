package ssm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flow-infra/flow/emulator/internal/emutest"
	"github.com/flow-infra/flow/emulator/internal/wire"
	"github.com/flow-infra/flow/emulator/ssm"
)

// Service satisfies ec2.Parameters (emulator/ec2/view.go), restated here so that this package's
// tests do not depend on the EC2 emulator building.
var _ interface {
	ParameterValue(ctx context.Context, region, name string) (value string, ok bool, err error)
} = (*ssm.Service)(nil)

// faulty answers its first n requests with fault f, then passes them to svc.
func faulty(svc *ssm.Service, f wire.Fault, n int32) http.Handler {
	var count atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1) <= n {
			svc.WriteFault(w, r, f)
			return
		}
		svc.ServeHTTP(w, r)
	})
}

func TestFaults(t *testing.T) {
	svc, _ := start(t, ssm.Options{})
	throttled := httptest.NewServer(faulty(svc, wire.Throttle, 1000))
	defer throttled.Close()
	_, err := awsssm.NewFromConfig(emutest.Config(throttled.URL)).GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"x"}})
	var throttle *types.ThrottlingException
	if !errors.As(err, &throttle) {
		t.Fatalf("throttled: %v, want ThrottlingException", err)
	}
	if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		t.Errorf("the SDK does not take %v for throttling", err)
	}
	var resp *smithyhttp.ResponseError
	if !errors.As(err, &resp) || resp.HTTPStatusCode() != 400 {
		t.Errorf("throttle status: %v", err)
	}

	failing := httptest.NewServer(faulty(svc, wire.ServerError, 1000))
	defer failing.Close()
	_, err = awsssm.NewFromConfig(emutest.Config(failing.URL)).GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("x")})
	var internal *types.InternalServerError
	if !errors.As(err, &internal) || !errors.As(err, &resp) || resp.HTTPStatusCode() != 500 {
		t.Fatalf("server error: %v, want InternalServerError with status 500", err)
	}

	// The SDK's standard retryer gets through both once they pass.
	for _, f := range []wire.Fault{wire.Throttle, wire.ServerError} {
		srv := httptest.NewServer(faulty(svc, f, 2))
		c := awsssm.NewFromConfig(emutest.Config(srv.URL), func(o *awsssm.Options) {
			o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (d time.Duration, err error) { return 0, nil })
			})
		})
		out, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"x"}})
		srv.Close()
		if err != nil || len(out.InvalidParameters) != 1 {
			t.Errorf("fault %v with retries: %v", f, err)
		}
	}
}

// call posts a raw request and returns the status and the decoded error body.
func call(t *testing.T, url, target, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("answer %q is not JSON: %v", data, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q", ct)
	}
	if resp.Header.Get("X-Amzn-RequestId") == "" {
		t.Error("no X-Amzn-RequestId")
	}
	return resp.StatusCode, out
}

func TestProtocolErrors(t *testing.T) {
	svc, _ := start(t, ssm.Options{})
	srv := httptest.NewServer(svc)
	defer srv.Close()
	for _, tc := range []struct {
		target, body string
		status       int
		typ          string
	}{
		{"AmazonSSM.LaunchRockets", `{}`, 400, "com.amazon.coral.service#UnknownOperationException"},
		{"", `{}`, 400, "com.amazon.coral.service#UnknownOperationException"},
		{"AmazonSSM.GetParameter", `{"Name":`, 400, "com.amazon.coral.service#SerializationException"},
		{"AmazonSSM.GetParameters", `{"Names":"not-a-list"}`, 400, "com.amazon.coral.service#SerializationException"},
		{"AmazonSSM.GetParameter", `{}`, 400, "ValidationException"},
		{"AmazonSSM.PutParameter", `{"Name":"/v","Type":"String"}`, 400, "ValidationException"},
		{"AmazonSSM.GetParameter", `{"Name":"/nope"}`, 400, "ParameterNotFound"},
	} {
		status, body := call(t, srv.URL, tc.target, tc.body)
		if status != tc.status || body["__type"] != tc.typ {
			t.Errorf("%s %s: %d %v, want %d %s", tc.target, tc.body, status, body, tc.status, tc.typ)
		}
	}
	// An unsigned request is served like a signed one.
	status, body := call(t, srv.URL, "AmazonSSM.PutParameter", `{"Name":"/u","Value":"v","Type":"String"}`)
	if status != 200 || body["Version"] != 1.0 || body["Tier"] != "Standard" {
		t.Errorf("unsigned PutParameter: %d %v", status, body)
	}
	status, body = call(t, srv.URL, "AmazonSSM.GetParameter", `{"Name":"/u"}`)
	p, _ := body["Parameter"].(map[string]any)
	if status != 200 || p["LastModifiedDate"] != 1714566645.678 {
		t.Errorf("LastModifiedDate on the wire: %d %v", status, body)
	}
}

// BenchmarkGetParameters is flow's boot path: ten names, SecureStrings decrypted, through the SDK
// over loopback HTTP, against a state directory holding a few hundred parameters.
func BenchmarkGetParameters(b *testing.B) {
	_, c := start(b, ssm.Options{Dir: b.TempDir()})
	var names []string
	for i := range 300 {
		name := "/clients/c" + string(rune('a'+i%26)) + "/KEY_" + string(rune('A'+i/26))
		typ := types.ParameterTypeString
		if i%2 == 0 {
			typ = types.ParameterTypeSecureString
		}
		if _, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String("value-" + name), Type: typ}); err != nil {
			b.Fatal(err)
		}
		if len(names) < 10 {
			names = append(names, name)
		}
	}
	in := &awsssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(true)}
	b.ResetTimer()
	for b.Loop() {
		out, err := c.GetParameters(ctx, in)
		if err != nil || len(out.Parameters) != 10 {
			b.Fatal(err, out)
		}
	}
}
