package emulator

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// lockedBuffer is a log destination safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Each request the real SDKs make is one line: service, operation, status, error code,
// duration; a SecureString's value and a parameter's name never appear.
func TestRequestLog(t *testing.T) {
	e, err := New(Options{Seed: "log"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var log lockedBuffer
	srv := httptest.NewServer(LogRequests(CheckHost(e), &log, nil))
	defer srv.Close()
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOG", "log-secret-key", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	ctx := context.Background()
	const secret = "canary-hunter2"
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/acme/DB_PASSWORD"), Value: aws.String(secret), Type: ssmtypes.ParameterTypeSecureString,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/acme/DB_PASSWORD"), WithDecryption: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/acme/missing")})
	if _, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	route53.NewFromConfig(cfg).GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("Z0000000000000000000")})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/latest/meta-data/instance-id", nil)
	req.Host = "rebind.example"
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	want := []string{
		`ssm PutParameter 200 -`,
		`ssm GetParameter 200 -`,
		`ssm GetParameter 400 ParameterNotFound`,
		`ec2 DescribeVpcs 200 -`,
		`route53 GetHostedZone 404 NoSuchHostedZone`,
		`- - 421 -`,
	}
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant %d lines", log.String(), len(want))
	}
	for i, line := range lines {
		re := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` + regexp.QuoteMeta(want[i]) + ` [0-9.]+(µs|ms|s)$`)
		if !re.MatchString(line) {
			t.Errorf("line %d = %q, want %s", i+1, line, re)
		}
	}
	for _, leak := range []string{secret, "DB_PASSWORD", "log-secret-key", "AKIDLOG", "rebind"} {
		if strings.Contains(log.String(), leak) {
			t.Errorf("the log shows %q:\n%s", leak, log.String())
		}
	}
}

// The emulator's own failure is logged with what failed; the client gets the internal error only.
func TestRequestLogInternalFailure(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	reads := 0
	clock := func() time.Time { reads++; return start.Add(time.Duration(reads-1) * 1500 * time.Microsecond) }
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := wire.RecordOf(r.Context())
		rec.Service, rec.Operation = "ssm", "GetParameter"
		answer := wire.Reply(r.Context(), errors.New("read state: input/output error"), &wire.Error{Code: "InternalServerError", Status: 500})
		w.WriteHeader(answer.Status)
		w.Write([]byte(answer.Code))
	})
	var log bytes.Buffer
	rec := httptest.NewRecorder()
	LogRequests(failing, &log, clock).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if got, want := log.String(), "2026-01-02T03:04:05.678Z ssm GetParameter 500 InternalServerError 1.5ms internal: read state: input/output error\n"; got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
	if strings.Contains(rec.Body.String(), "input/output") {
		t.Errorf("the client was told %q", rec.Body)
	}
}
