// Package ssm emulates AWS Systems Manager Parameter Store over its real wire protocol (AWS JSON
// 1.1), so that the real SDK clients and the AWS CLI can create, read, list and delete parameters
// with AWS's shapes, semantics and errors. SecureString values are encrypted at rest with a key
// kept beside the state.
//
// It knows only Parameter Store: nothing of the workflow engine, nor of the other emulated
// services, which reach it through the methods they need (ParameterValue for EC2's
// resolve:ssm image ids).
package ssm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/flow-infra/flow/emulator/internal/regions"
	"github.com/flow-infra/flow/emulator/internal/store"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

const (
	contentType    = "application/x-amz-json-1.1"
	targetPrefix   = "AmazonSSM."
	stateName      = "ssm"     // the state document: ssm.json and ssm.lock in the state directory
	keyFile        = "ssm.key" // the AES-256 key of the SecureString values, mode 0600
	maxRequestBody = 1 << 20
)

// Options configures a Service.
type Options struct {
	// Dir is the state directory, shared by every process that opens it; "" keeps the state and
	// the encryption key in memory.
	Dir string
	// IDs is accepted for uniformity with the other services; Parameter Store makes no ids.
	IDs wire.IDs
	// Clock gives the parameters' LastModifiedDate; nil means time.Now.
	Clock wire.Clock
	// Region is the region of requests that are not signed for one (see wire.Region); "" means
	// us-east-1. Every region has its own parameters, opened on its first request, and its
	// region in their ARNs.
	Region string
	// AccountID is the account in the parameters' ARNs; "" means 123456789012.
	AccountID string
	// Public gives each region's AWS public parameters (name -> value), such as
	// /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64. They are read-only
	// String parameters, answered by GetParameter(s) and GetParametersByPath but not listed by
	// DescribeParameters, and never written to Dir. Every name must begin with /aws/. nil
	// means none.
	Public func(region string) map[string]string
}

// Service is the emulated Parameter Store of one region: an http.Handler speaking AWS JSON 1.1.
// Every region's Service answers any request, in the region the request is signed for.
type Service struct {
	backend *backend
	ops     map[string]operation // the dispatch table
	all     *allRegions          // every region's Service
}

// allRegions is the Services of every region, and the region of unsigned requests.
type allRegions struct {
	set      *regions.Set[*Service]
	fallback string
}

// New opens the Parameter Store whose state is in o.Dir, creating the state and the encryption
// key on first use, and returns the Service of o.Region. The parameters of the region the
// directory was first used for are in the document ssm.json, each other region's in
// ssm-REGION.json (see package regions); one key encrypts them all.
func New(o Options) (*Service, error) {
	if o.Region == "" {
		o.Region = wire.DefaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = wire.DefaultAccountID
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	sealer, err := openSealer(o.Dir)
	if err != nil {
		return nil, err
	}
	all := &allRegions{fallback: o.Region}
	open := func(region, name string) (*Service, string, error) { return openRegion(o, sealer, all, region, name) }
	set, err := regions.Open(o.Dir, stateName, o.Region, open, func(s *Service) error { return s.backend.doc.Close() })
	if err != nil {
		return nil, err
	}
	all.set = set
	return set.Get(o.Region)
}

// openRegion opens the document name, which holds region's parameters if it is new, and returns
// the Service of the region it holds. A document written before regions holds the parameters of
// the region it is first opened for, as it did.
func openRegion(o Options, sealer *sealer, all *allRegions, region, name string) (*Service, string, error) {
	doc, err := store.Open(o.Dir, name, func(st *state) { st.Region, st.Parameters = region, map[string]*storedParameter{} })
	if err != nil {
		return nil, "", err
	}
	err = doc.Update(context.Background(), func(st *state) error {
		if st.Region == "" {
			st.Region = region
		}
		region = st.Region
		return nil
	})
	if err != nil {
		doc.Close()
		return nil, "", err
	}
	var public map[string]string
	if o.Public != nil {
		public = o.Public(region)
	}
	b := &backend{
		doc: doc, sealer: sealer, clock: o.Clock, region: region, account: o.AccountID,
		public: make(map[string]*storedParameter, len(public)),
		limits: tierLimits{standard: maxStandardParams, advanced: maxAdvancedParams},
	}
	seeded := o.Clock()
	for name, value := range public {
		key := paramKey(name)
		if !strings.HasPrefix(name, "/aws/") || value == "" {
			doc.Close()
			return nil, "", fmt.Errorf("public parameter %q: the name must begin with /aws/ and the value must not be empty", name)
		}
		b.public[key] = &storedParameter{Name: name, Versions: []storedVersion{{
			Version: 1, Type: typeString, Value: value, DataType: dataTypeText, Tier: tierStandard, Modified: seeded,
		}}}
		b.publicIdx = append(b.publicIdx, key)
	}
	slices.Sort(b.publicIdx)
	s := &Service{backend: b, all: all}
	s.ops = s.operations()
	return s, region, nil
}

// operation answers one SSM operation: the request's context and its JSON body in, the answer
// to encode out.
type operation func(ctx context.Context, body []byte) (any, error)

// operations is the dispatch table: each operation Parameter Store answers, by the name a request
// gives after AmazonSSM. in X-Amz-Target.
func (s *Service) operations() map[string]operation {
	return map[string]operation{
		"PutParameter":        s.putParameter,
		"GetParameter":        s.getParameter,
		"GetParameters":       s.getParameters,
		"GetParametersByPath": s.getParametersByPath,
		"DeleteParameter":     s.deleteParameter,
		"DeleteParameters":    s.deleteParameters,
		"DescribeParameters":  s.describeParameters,
	}
}

// Close releases the state directory: every region's document. No Service of any region may be
// used afterwards.
func (s *Service) Close() error { return s.all.set.Close() }

// Region returns the region of this Service's parameters.
func (s *Service) Region() string { return s.backend.region }

// ServeHTTP answers one AWS JSON 1.1 request: POST / with X-Amz-Target AmazonSSM.<Operation>, in
// the region its signature is for (unsigned, Options.Region). Any signature, or none, is
// accepted; one for a region the emulator does not emulate is InvalidSignatureException.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", wire.RequestID())
	region := wire.Region(r, s.all.fallback)
	target, err := s.all.set.Get(region)
	if errors.Is(err, regions.ErrUnknownRegion) {
		err = newError(codeInvalidSignature, "Credential should be scoped to a valid region, not '%s'.", region)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	target.serve(w, r)
}

// serve answers one request in this Service's region.
func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	name := strings.TrimPrefix(target, targetPrefix)
	wire.RecordOf(r.Context()).Operation = name
	op := s.ops[name]
	if r.Method != http.MethodPost || !strings.HasPrefix(target, targetPrefix) || op == nil {
		writeError(w, r, newError(codeUnknownOperation, "Unknown operation %q.", target))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		writeError(w, r, newError(codeSerialization, "Could not read the request body: %v", err))
		return
	}
	out, err := op(r.Context(), body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, out)
}

// WriteFault answers r with the injected fault f in SSM's error shape: ThrottlingException (400,
// which the SDKs retry as throttling) or InternalServerError (500).
func (s *Service) WriteFault(w http.ResponseWriter, r *http.Request, f wire.Fault) {
	w.Header().Set("X-Amzn-RequestId", wire.RequestID())
	switch f {
	case wire.Throttle:
		writeError(w, r, newError(codeThrottling, "Rate exceeded"))
	default:
		writeError(w, r, internalServerError())
	}
}

// ParameterValue returns the value of the parameter name selects (a name or ARN, optionally with
// ":version") in region, among the account's parameters and the public ones; ok is false when
// there is none (in a region the emulator does not emulate, none is). A SecureString is not resolvable either (AWS resolves only plain parameters in place of an
// image id, and no other service may see a secret's plaintext): it gives ok=false too, so that EC2
// answers it as it answers a missing parameter. It returns ctx's error when ctx is done before
// the state could be read. It satisfies ec2.Parameters.
func (s *Service) ParameterValue(ctx context.Context, region, name string) (value string, ok bool, err error) {
	target, err := s.all.set.Get(region)
	if errors.Is(err, regions.ErrUnknownRegion) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return target.backend.plainValue(ctx, name)
}

var _ wire.Service = (*Service)(nil)
