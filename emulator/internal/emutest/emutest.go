// Package emutest is what the tests of the emulated services share: a server for a service, an
// SDK configuration pointed at it that signs with test credentials and does not retry (so that
// errors come back as they are), and checks of the AWS errors that come back. Only tests import
// it; it knows no service.
package emutest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Serve serves h on a loopback port until the test ends and returns its URL.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Config is an SDK configuration for the emulator at url: region us-east-1, static test
// credentials (requests are signed), no retries, and an HTTP client safe against a server as
// fast as an in-process one (see bodyWithoutWriteTo). Pass it to a service's NewFromConfig.
func Config(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		HTTPClient:   bodyWithoutWriteTo{&http.Client{}},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
		}),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// bodyWithoutWriteTo works around a race between smithy-go and net/http that a server as fast
// as an in-process emulator loses about once in 200 requests: smithy-go closes the request body
// as soon as the response headers arrive, net/http's write loop then finishes the request with
// io.Copy(io.Discard, body), the closed body's WriteTo says io.EOF, the transport takes that for
// a failed write and closes the connection, and a response longer than the client's 4 KiB read
// buffer comes back cut ("use of closed network connection"). Hiding WriteTo makes io.Copy use
// Read, whose io.EOF is the normal end.
type bodyWithoutWriteTo struct{ client *http.Client }

func (c bodyWithoutWriteTo) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return c.client.Do(r)
}

// WantCode fails the test unless err is an AWS API error with that code, and returns it.
func WantCode(t testing.TB, err error, code string) smithy.APIError {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if api.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", api.ErrorCode(), api.ErrorMessage(), code)
	}
	return api
}

// Status is the HTTP status of the answer behind an SDK error, or 0 when err carries none.
func Status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
