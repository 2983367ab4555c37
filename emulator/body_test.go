package emulator

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOversizedBodies sends each protocol a body of 2 MiB, twice what any service reads: each
// answers at once with its own error shape, without reading on or holding the connection open.
func TestOversizedBodies(t *testing.T) {
	e, err := New(Options{Seed: "bodies"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewServer(e)
	defer srv.Close()
	huge := strings.Repeat("x", 2<<20)
	cases := []struct {
		protocol, path, target, contentType, body string
		status                                    int
		code                                      string // in the protocol's error shape
	}{
		{"EC2 Query", "/", "", "application/x-www-form-urlencoded", "Action=DescribeInstances&Filter.1.Name=" + huge, 400, "<Code>MalformedQueryString</Code>"},
		{"SSM JSON", "/", "AmazonSSM.PutParameter", "application/x-amz-json-1.1", `{"Name":"/big","Value":"` + huge + `"}`, 400, `"__type":"com.amazon.coral.service#SerializationException"`},
		{"Route 53 REST-XML", "/2013-04-01/hostedzone", "", "text/xml", xml.Header + "<CreateHostedZoneRequest><Name>" + huge + "</Name></CreateHostedZoneRequest>", 400, "<Code>InvalidInput</Code>"},
	}
	for _, c := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", c.contentType)
		if c.target != "" {
			req.Header.Set("X-Amz-Target", c.target)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Errorf("%s: %v", c.protocol, err)
			continue
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		if res.StatusCode != c.status || !strings.Contains(string(body), c.code) {
			t.Errorf("%s: %d %.300s; want %d with %s", c.protocol, res.StatusCode, body, c.status, c.code)
		}
	}
}
