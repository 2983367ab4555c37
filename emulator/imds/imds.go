// Package imds is the emulated EC2 instance metadata service, IMDSv2 only: a session token from
// PUT /latest/api/token, then GET /latest/meta-data/..., /latest/user-data and
// /latest/dynamic/instance-identity/document with that token, answered with AWS's bodies and
// status codes for one instance of the emulated EC2. IMDSv1 (a GET without a token) is never
// answered.
//
// It knows nothing of flow's engine or steps, and reads the emulated EC2 only through the
// Instances interface; it keeps no state of its own.
package imds

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/ec2"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// Options configure a Service.
type Options struct {
	// Dir is the state directory. Instance metadata keeps no state: it is accepted for
	// uniformity with the other services.
	Dir string
	// IDs is accepted for uniformity; instance metadata makes no ids.
	IDs wire.IDs
	// Clock tells the time, for token expiry; nil means time.Now.
	Clock wire.Clock
	// Region is used when an instance has no region of its own; "us-east-1" by default.
	Region string
	// Instances is the emulated EC2. Required.
	Instances Instances
	// Instance is the id of the instance to answer as. Empty means the most recently launched
	// running instance.
	Instance string
	// AccountID is the account in the instance identity document when the instance does not
	// name its own; "123456789012" by default.
	AccountID string
}

// Token limits, as IMDS enforces them.
const (
	minTokenTTL = 1
	maxTokenTTL = 21600

	tokenTTLHeader = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	tokenHeader    = "X-Aws-Ec2-Metadata-Token"
)

// Service is the emulated instance metadata service: an http.Handler for /latest/.
type Service struct {
	instances Instances
	instance  string
	region    string
	accountID string
	now       func() time.Time
	key       []byte // signs tokens; new for every Service
}

// New returns the service. It fails without opts.Instances.
func New(opts Options) (*Service, error) {
	if opts.Instances == nil {
		return nil, errors.New("imds: Options.Instances is required")
	}
	s := &Service{
		instances: opts.Instances,
		instance:  opts.Instance,
		region:    opts.Region,
		accountID: opts.AccountID,
		now:       time.Now,
		key:       make([]byte, 32),
	}
	if opts.Clock != nil {
		s.now = opts.Clock
	}
	if s.region == "" {
		s.region = wire.DefaultRegion
	}
	if s.accountID == "" {
		s.accountID = wire.DefaultAccountID
	}
	if _, err := rand.Read(s.key); err != nil {
		return nil, fmt.Errorf("imds: token key: %w", err)
	}
	return s, nil
}

// Close releases nothing: the service holds no resources. It is there for uniformity.
func (s *Service) Close() error { return nil }

// WriteFault answers r with an injected fault as IMDS does: wire.Throttle is a 429 Too Many
// Requests (which the SDK's default retryer does not retry), wire.ServerError a 500.
func (s *Service) WriteFault(w http.ResponseWriter, r *http.Request, f wire.Fault) {
	if f == wire.Throttle {
		writeError(w, statusError(http.StatusTooManyRequests))
		return
	}
	writeError(w, statusError(http.StatusInternalServerError))
}

// httpError is an answer other than 200. With a detail, the body is that text (the emulator
// explaining itself); without, it is the page IMDS sends for the status.
type httpError struct {
	status int
	detail string
}

func (e *httpError) Error() string {
	if e.detail != "" {
		return e.detail
	}
	return fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
}

func statusError(status int) *httpError { return &httpError{status: status} }

// errorPage is the body IMDS sends with an error status.
const errorPage = `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
  <head>
    <title>%[1]d - %[2]s</title>
  </head>
  <body>
    <h1>%[1]d - %[2]s</h1>
  </body>
</html>`

// writeError answers with err: an *httpError with its status, anything else (a failure of the
// emulated EC2) as a 500 that says what failed.
func writeError(w http.ResponseWriter, err error) {
	var e *httpError
	if !errors.As(err, &e) {
		e = &httpError{status: http.StatusInternalServerError, detail: "imds: " + err.Error()}
	}
	h := w.Header()
	h.Set("Server", "EC2ws")
	if e.status == http.StatusMethodNotAllowed {
		h.Set("Allow", "GET, HEAD, PUT")
	}
	if e.detail != "" {
		h.Set("Content-Type", "text/plain")
		w.WriteHeader(e.status)
		fmt.Fprint(w, e.detail)
		return
	}
	h.Set("Content-Type", "text/html")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, errorPage, e.status, http.StatusText(e.status))
}

// ServeHTTP answers an instance metadata request as Options.Instance, or the most recently
// launched running instance.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.serve(w, r, s.instance); err != nil {
		writeError(w, err)
	}
}

// As returns a handler that answers instance metadata requests as instance id, whatever
// Options.Instance says: what an instance's own metadata address answers. Its tokens are this
// Service's, so a token is good at every address of one Service.
func (s *Service) As(id string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.serve(w, r, id); err != nil {
			writeError(w, err)
		}
	})
}

// serve answers r as instance id; "" means the most recently launched running instance.
func (s *Service) serve(w http.ResponseWriter, r *http.Request, id string) error {
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut {
			return statusError(http.StatusMethodNotAllowed)
		}
		return s.putToken(w, r, id)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return statusError(http.StatusMethodNotAllowed)
	}
	ttl, err := s.checkToken(r.Header.Get(tokenHeader))
	if err != nil {
		return err
	}
	view, err := s.pickInstance(r.Context(), id)
	if err != nil {
		return err
	}
	if !view.MetadataEndpoint {
		return statusError(http.StatusForbidden)
	}
	md := metadata{view: view, region: s.regionOf(view), accountID: view.AccountID}
	if md.accountID == "" {
		md.accountID = s.accountID
	}
	body, contentType, err := answer(md, r.URL.Path)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Server", "EC2ws")
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set(tokenTTLHeader, strconv.Itoa(ttl))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return nil
}

// putToken issues a session token. IMDS refuses a PUT that came through a proxy (it carries
// X-Forwarded-For, even empty) with 403, a missing or out-of-range TTL with 400, and everything with 403 when
// the instance's metadata endpoint is disabled.
func (s *Service) putToken(w http.ResponseWriter, r *http.Request, id string) error {
	if len(r.Header.Values("X-Forwarded-For")) > 0 {
		return statusError(http.StatusForbidden)
	}
	raw := r.Header.Get(tokenTTLHeader)
	ttl, err := strconv.Atoi(raw)
	if raw == "" || err != nil || ttl < minTokenTTL || ttl > maxTokenTTL {
		return statusError(http.StatusBadRequest)
	}
	// An instance whose metadata endpoint is disabled refuses everything. Without an instance
	// the token is still issued: the GET that follows says why there is nothing to answer.
	if view, err := s.pickInstance(r.Context(), id); err == nil && !view.MetadataEndpoint {
		return statusError(http.StatusForbidden)
	}
	token := s.token(s.now().Add(time.Duration(ttl) * time.Second))
	h := w.Header()
	h.Set("Server", "EC2ws")
	h.Set("Content-Type", "text/plain")
	h.Set(tokenTTLHeader, strconv.Itoa(ttl))
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, token)
	return nil
}

// token returns a token valid until expiry: the expiry and an HMAC of it under the service's
// key, so checking one needs no state.
func (s *Service) token(expiry time.Time) string {
	msg := make([]byte, 8, 8+sha256.Size)
	binary.BigEndian.PutUint64(msg, uint64(expiry.UnixNano()))
	mac := hmac.New(sha256.New, s.key)
	mac.Write(msg)
	return base64.StdEncoding.EncodeToString(mac.Sum(msg))
}

// checkToken returns the seconds left on a valid token, and 401 for a missing, forged or
// expired one.
func (s *Service) checkToken(token string) (int, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if token == "" || err != nil || len(raw) != 8+sha256.Size {
		return 0, statusError(http.StatusUnauthorized)
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(raw[:8])
	if !hmac.Equal(mac.Sum(nil), raw[8:]) {
		return 0, statusError(http.StatusUnauthorized)
	}
	left := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8]))).Sub(s.now())
	if left <= 0 {
		return 0, statusError(http.StatusUnauthorized)
	}
	return int((left + time.Second - 1) / time.Second), nil
}

// pickInstance returns the instance to answer as: id, or else the most recently launched
// running one. Without one, or when it is not running, it answers 404 saying why.
func (s *Service) pickInstance(ctx context.Context, id string) (ec2.InstanceView, error) {
	if id == "" {
		view, ok, err := s.instances.LatestRunning(ctx)
		if err != nil {
			return ec2.InstanceView{}, fmt.Errorf("find the running instance: %w", err)
		}
		if !ok {
			return ec2.InstanceView{}, &httpError{status: http.StatusNotFound, detail: "imds: no instance is running in the emulator, so there is no instance metadata to answer with. " +
				"Launch one (ec2 RunInstances, as flow's provision workflow does), or name one with the emulator's instance setting (flow run --local --instance ID, or flow emulate --instance ID)."}
		}
		return view, nil
	}
	view, ok, err := s.instances.Instance(ctx, id)
	if err != nil {
		return ec2.InstanceView{}, fmt.Errorf("find instance %s: %w", id, err)
	}
	if !ok {
		return ec2.InstanceView{}, &httpError{status: http.StatusNotFound, detail: fmt.Sprintf("imds: instance metadata is set to answer as instance %s, which the emulated EC2 does not have. "+
			"Name an instance it has, or leave the setting empty to answer as the most recently launched running instance.", id)}
	}
	if view.State != "running" {
		return ec2.InstanceView{}, &httpError{status: http.StatusNotFound, detail: fmt.Sprintf("imds: instance %s is %s, not running: instance metadata answers only for a running instance. Start it (ec2 StartInstances) or name another.", view.ID, view.State)}
	}
	return view, nil
}

func (s *Service) regionOf(view ec2.InstanceView) string {
	if view.Region != "" {
		return view.Region
	}
	if az := view.AvailabilityZone; len(az) > 1 {
		return strings.TrimRight(az, "abcdefghijklmnopqrstuvwxyz") // ap-northeast-1a → ap-northeast-1
	}
	return s.region
}

var _ wire.Service = (*Service)(nil)
