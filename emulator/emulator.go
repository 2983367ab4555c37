// Package emulator is flow's embedded AWS: EC2, SSM Parameter Store, Route 53 and instance
// metadata (IMDSv2) on their real wire protocols, as one http.Handler, so the real SDKs and the
// AWS CLI talk to it as to AWS. Each service is its own package (ec2, ssm, route53, imds); this
// one routes requests to them by protocol, wires them to each other (EC2's resolve:ssm image ids
// read Parameter Store; instance metadata answers as an EC2 instance; private zones check their
// VPC), and injects faults. It knows nothing about flow's engine or steps.
package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/flow-infra/flow/emulator/ec2"
	"github.com/flow-infra/flow/emulator/imds"
	"github.com/flow-infra/flow/emulator/internal/wire"
	"github.com/flow-infra/flow/emulator/route53"
	"github.com/flow-infra/flow/emulator/ssm"
)

// Options configure an Emulator.
type Options struct {
	// Dir holds the state of every service, shared by every process that opens it; "" keeps
	// the state in memory.
	Dir string
	// Seed makes ids (instances, zones, changes) and private IPs reproducible; "" makes them
	// random.
	Seed string
	// Region is the region of requests not signed for one, and of local mode's own clients;
	// "" means us-east-1. Each request is served in the region it is signed for (see CheckRegion
	// for the regions emulated), each region with its own state; Route 53 is global.
	Region string
	// AccountID owns every resource; "" means 123456789012.
	AccountID string
	// Instance is the id of the instance that instance metadata answers as; "" means the most
	// recently launched running instance.
	Instance string
	// Faults are injected into answers, to test clients' retries.
	Faults Faults
	// Limits are the request rates enforced, shared by every process on Dir: NoLimits, or
	// AWSLimits (AWS's default per-account quotas).
	Limits Limits
	// PendingFor is how long an instance stays pending (and stopping, shutting-down) by the
	// clock; 0 means any request after the launch sees it running.
	PendingFor time.Duration
	// ChangeDelay is how long a Route 53 change stays PENDING; 0 means INSYNC at once.
	ChangeDelay time.Duration
	// Clock tells the time; nil means time.Now.
	Clock func() time.Time
	// Policy, when set, is the identity-based IAM policy every EC2, SSM and Route 53 request is
	// evaluated against (see ParsePolicy); nil allows everything.
	Policy *Policy
}

// Emulator serves the emulated services on one handler.
type Emulator struct {
	ec2     *ec2.Service
	ssm     *ssm.Service
	route53 *route53.Service
	imds    *imds.Service
	fleet   *fleet   // each instance's own metadata port
	limits  *limiter // nil without limits
	region  string
	account string
	policy  *Policy // nil: every request is allowed
	faults  Faults
	closers []interface{ Close() error } // the services opened, in order

	mu  sync.Mutex // guards rng
	rng *rand.Rand
}

// New opens the emulator's state in opts.Dir, creating it if needed.
func New(opts Options) (*Emulator, error) {
	if opts.Region == "" {
		opts.Region = wire.DefaultRegion
	}
	if err := CheckRegion(opts.Region); err != nil {
		return nil, err
	}
	if err := opts.Faults.validate(); err != nil {
		return nil, err
	}
	ids := wire.IDs{Seed: opts.Seed}
	clock := wire.Clock(opts.Clock)
	if opts.AccountID == "" {
		opts.AccountID = wire.DefaultAccountID
	}
	e := &Emulator{region: opts.Region, account: opts.AccountID, policy: opts.Policy, faults: opts.Faults}
	var err error
	fail := func(service string, err error) (*Emulator, error) {
		e.Close()
		return nil, fmt.Errorf("emulator: %s: %w", service, err)
	}
	if e.ssm, err = ssm.New(ssm.Options{Dir: opts.Dir, IDs: ids, Clock: clock, Region: opts.Region, AccountID: opts.AccountID, Public: publicParameters}); err != nil {
		return fail("ssm", err)
	}
	e.closers = append(e.closers, e.ssm)
	if e.ec2, err = ec2.New(ec2.Options{Dir: opts.Dir, IDs: ids, Clock: clock, Region: opts.Region, AccountID: opts.AccountID, Parameters: e.ssm, PendingFor: opts.PendingFor}); err != nil {
		return fail("ec2", err)
	}
	e.closers = append(e.closers, e.ec2)
	if e.route53, err = route53.New(route53.Options{Dir: opts.Dir, IDs: ids, Clock: clock, AccountID: opts.AccountID, VPCs: e.ec2, ChangeDelay: opts.ChangeDelay}); err != nil {
		return fail("route53", err)
	}
	e.closers = append(e.closers, e.route53)
	if e.imds, err = imds.New(imds.Options{Clock: clock, Region: opts.Region, AccountID: opts.AccountID, Instances: e.ec2, Instance: opts.Instance}); err != nil {
		return fail("imds", err)
	}
	e.closers = append(e.closers, e.imds)
	if e.fleet, err = openFleet(opts.Dir); err != nil {
		return fail("imds", err)
	}
	e.closers = append(e.closers, e.fleet)
	if opts.Limits != NoLimits {
		if e.limits, err = openLimiter(opts.Dir, opts.Limits, clock, e.ec2.Actions()); err != nil {
			return fail("limits", err)
		}
		e.closers = append(e.closers, e.limits)
	}
	seed := uint64(time.Now().UnixNano())
	if opts.Seed != "" {
		seed = uint64(ids.Int("faults", 0, 1<<62))
	}
	e.rng = rand.New(rand.NewPCG(seed, seed>>1|1))
	return e, nil
}

// CheckRegion returns an error naming the regions emulated when name is not one of them: the
// commercial regions of AWS's standard partition.
func CheckRegion(name string) error {
	if !wire.KnownRegion(name) {
		return fmt.Errorf("region %q is not one the emulator emulates: %s", name, strings.Join(wire.KnownRegions(), ", "))
	}
	return nil
}

// publicParameters are the public Parameter Store parameters of region: the ids of its Amazon
// Linux images, under the names AWS publishes them.
func publicParameters(region string) map[string]string {
	public := map[string]string{}
	for _, im := range ec2.PublicImages(region) {
		for _, p := range im.Parameters {
			public[p] = im.ID
		}
	}
	return public
}

// Close releases the services' state files.
func (e *Emulator) Close() error {
	var errs []error
	for _, c := range e.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Region returns the region of requests that are not signed for one, and of local mode's own
// clients.
func (e *Emulator) Region() string { return e.region }

// EC2 returns the emulated EC2, for callers that need to know which instance instance metadata
// answers as (its LatestRunning and Instance).
func (e *Emulator) EC2() *ec2.Service { return e.ec2 }

// ServeHTTP routes a request to the service whose protocol it speaks: instance metadata by its
// /latest/ paths, Route 53 by its /2013-04-01/ REST paths, SSM by its X-Amz-Target header, and
// EC2's Query protocol (a form with Action=) otherwise.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, svc := e.route(r)
	rec := wire.RecordOf(r.Context())
	rec.Service = name
	if name == "imds" {
		rec.Operation = r.URL.Path // instance metadata has no operation names, only paths
	}
	if svc == nil {
		http.Error(w, "flow emulator: this request is for no service it emulates: it serves EC2 (Query protocol, POST with Action=...), "+
			"SSM (X-Amz-Target: AmazonSSM.*), Route 53 (/2013-04-01/...) and instance metadata (/latest/...)", http.StatusBadRequest)
		return
	}
	if !e.authorize(w, r, svc) {
		return
	}
	e.serve(w, r, svc, svc, name, "")
	if svc == wire.Service(e.ec2) {
		e.fleet.poke() // it may have launched or terminated instances
	}
}

// serve answers r with h after the limits and the injected faults, which svc writes in its
// protocol's shape. name is the service's; instance, for instance metadata, the instance it
// answers as ("" for the main address).
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request, svc wire.Service, h http.Handler, name, instance string) {
	if e.limits != nil {
		ok, err := e.withinLimits(r, name, instance)
		switch {
		case err != nil:
			svc.WriteFault(w, r, wire.ServerError)
			return
		case !ok:
			svc.WriteFault(w, r, wire.Throttle)
			return
		}
	}
	if fault := e.fault(); fault != 0 || e.faults.Latency > 0 {
		if e.faults.Latency > 0 && e.roll(e.faults.latencyRate()) {
			select {
			case <-time.After(e.faults.Latency):
			case <-r.Context().Done():
				return
			}
		}
		if fault != 0 {
			svc.WriteFault(w, r, fault)
			return
		}
	}
	h.ServeHTTP(w, r)
}

// route returns the service a request is for and its name in the request log.
// withinLimits takes r's tokens from the buckets it counts against, in the region it is signed
// for (Route 53's are global); false when one has too few.
func (e *Emulator) withinLimits(r *http.Request, name, instance string) (bool, error) {
	if name == "imds" {
		return e.limits.allowInstance(instance), nil
	}
	c := claims(r, name)
	if len(c) == 0 {
		return true, nil
	}
	region := wire.Region(r, e.region)
	if name != "route53" && !wire.KnownRegion(region) {
		return true, nil // the service refuses the region itself
	}
	return e.limits.allow(r.Context(), name, region, c)
}

func (e *Emulator) route(r *http.Request) (string, wire.Service) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/latest/") || r.URL.Path == "/latest":
		return "imds", e.imds
	case strings.HasPrefix(r.URL.Path, "/2013-04-01/"):
		return "route53", e.route53
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM."):
		return "ssm", e.ssm
	case r.Method == http.MethodPost || r.URL.Query().Get("Action") != "":
		return "ec2", e.ec2
	}
	return "", nil
}

// fault decides whether this request gets an injected fault.
func (e *Emulator) fault() wire.Fault {
	switch {
	case e.faults.Throttle > 0 && e.roll(e.faults.Throttle):
		return wire.Throttle
	case e.faults.ServerError > 0 && e.roll(e.faults.ServerError):
		return wire.ServerError
	}
	return 0
}

func (e *Emulator) roll(rate float64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rng.Float64() < rate
}

// Transport returns an http.RoundTripper that serves requests with this emulator in-process: no
// socket, no port. SDK clients given an http.Client with it talk to the emulator directly.
func (e *Emulator) Transport() http.RoundTripper { return transport{e} }

type transport struct{ h http.Handler }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	if in.Body == nil {
		in.Body = http.NoBody
	}
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	rec := &recorder{header: http.Header{}}
	t.h.ServeHTTP(rec, in)
	if req.Body != nil {
		req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err // as a network client would: the answer, if any, came too late
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

// recorder is the http.ResponseWriter of an in-process request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
