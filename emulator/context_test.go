package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flow-infra/flow/emulator/internal/store"
)

// TestRequestsGiveUpOnHeldState: while another process holds every service's state lock, a
// request whose context ends gets an error in its protocol's shape instead of waiting for the
// lock: every handler hands the request's context to the state store.
func TestRequestsGiveUpOnHeldState(t *testing.T) {
	dir := t.TempDir()
	e, err := New(Options{Dir: dir, Seed: "held"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewServer(e)
	defer srv.Close()
	token := func() string {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/latest/api/token", nil)
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}()

	// Another process: a handle of its own on each document, which writes it once (so the
	// emulator's decoded copies are out of date: a current copy is read without the lock) and
	// then holds its lock until the test ends, and is closed once its update is over.
	release, finished := make(chan struct{}), make(chan *store.Doc[struct{}])
	holding := 0
	defer func() {
		close(release)
		for range holding {
			(<-finished).Close()
		}
	}()
	for _, name := range []string{"ec2", "ssm", "route53"} {
		doc, err := store.Open[struct{}](dir, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Update(context.Background(), func(*struct{}) error { return nil }); err != nil {
			t.Fatal(err)
		}
		held := make(chan struct{})
		go func() {
			doc.Update(context.Background(), func(*struct{}) error {
				close(held)
				<-release
				return errors.New("write nothing")
			})
			finished <- doc
		}()
		holding++
		<-held
	}

	requests := []struct {
		protocol, method, path, target, body, header string
		status                                       int
		shape                                        string
	}{
		{"EC2", http.MethodPost, "/", "", "Action=DescribeInstances", "", 500, "<Code>InternalError</Code>"},
		{"SSM", http.MethodPost, "/", "AmazonSSM.GetParameter", `{"Name":"/a"}`, "", 500, `"__type":"InternalServerError"`},
		{"Route 53", http.MethodGet, "/2013-04-01/hostedzone", "", "", "", 500, "<Code>InternalFailure</Code>"},
		{"instance metadata", http.MethodGet, "/latest/meta-data/instance-id", "", "", token, 500, "imds: "},
	}
	for _, r := range requests {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req := httptest.NewRequestWithContext(ctx, r.method, r.path, strings.NewReader(r.body))
		switch {
		case r.target != "":
			req.Header.Set("X-Amz-Target", r.target)
		case r.method == http.MethodPost:
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if r.header != "" {
			req.Header.Set("X-aws-ec2-metadata-token", r.header)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		cancel()
		if rec.Code != r.status || !strings.Contains(rec.Body.String(), r.shape) {
			t.Errorf("%s: %d %.300s; want %d with %s", r.protocol, rec.Code, rec.Body, r.status, r.shape)
		}
		// What failed is the emulator's business: the AWS protocols answer their generic internal
		// error and keep the cause for the request log.
		if r.protocol != "instance metadata" && strings.Contains(rec.Body.String(), "state lock") {
			t.Errorf("%s: the answer carries the internal failure: %.300s", r.protocol, rec.Body)
		}
	}
}
