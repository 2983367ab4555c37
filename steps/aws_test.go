package steps

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// fakeAWS returns a context whose AWS steps (SDK clients and instance metadata alike) reach h,
// served by an httptest server closed when the test ends: for answers the emulator never gives.
// Calls are not retried.
func fakeAWS(t *testing.T, h http.HandlerFunc) context.Context {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a := &AWS{
		Load: func(context.Context) (aws.Config, error) {
			return aws.Config{
				Region:           "us-east-1",
				Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
				BaseEndpoint:     aws.String(srv.URL),
				RetryMaxAttempts: 1,
			}, nil
		},
		IMDS: []func(*imds.Options){func(o *imds.Options) { o.Endpoint = srv.URL }},
	}
	return WithAWS(context.Background(), a)
}

// awsXML answers with an XML body and a status.
func awsXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + body))
}
