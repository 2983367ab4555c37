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
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

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
	// Region is the region in the parameters' ARNs; "" means us-east-1.
	Region string
	// AccountID is the account in the parameters' ARNs; "" means 123456789012.
	AccountID string
	// Public seeds AWS's public parameters (name -> value), such as
	// /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64. They are read-only
	// String parameters, answered by GetParameter(s) and GetParametersByPath but not listed by
	// DescribeParameters, and never written to Dir. Every name must begin with /aws/.
	Public map[string]string
}

// Service is the emulated Parameter Store: an http.Handler speaking AWS JSON 1.1.
type Service struct {
	backend *backend
	ops     map[string]operation // the dispatch table
}

// New opens the Parameter Store whose state is in o.Dir, creating the state and the encryption
// key on first use.
func New(o Options) (*Service, error) {
	if o.Region == "" {
		o.Region = wire.DefaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = wire.DefaultAccountID
	}
	clock := o.Clock
	if clock == nil {
		clock = time.Now
	}
	doc, err := store.Open(o.Dir, stateName, func(st *state) { st.Parameters = map[string]*storedParameter{} })
	if err != nil {
		return nil, err
	}
	sealer, err := openSealer(o.Dir)
	if err != nil {
		doc.Close()
		return nil, err
	}
	b := &backend{
		doc: doc, sealer: sealer, clock: clock, region: o.Region, account: o.AccountID,
		public: make(map[string]*storedParameter, len(o.Public)),
		limits: tierLimits{standard: maxStandardParams, advanced: maxAdvancedParams},
	}
	seeded := clock()
	for name, value := range o.Public {
		key := paramKey(name)
		if !strings.HasPrefix(name, "/aws/") || value == "" {
			doc.Close()
			return nil, fmt.Errorf("public parameter %q: the name must begin with /aws/ and the value must not be empty", name)
		}
		b.public[key] = &storedParameter{Name: name, Versions: []storedVersion{{
			Version: 1, Type: typeString, Value: value, DataType: dataTypeText, Tier: tierStandard, Modified: seeded,
		}}}
		b.publicIdx = append(b.publicIdx, key)
	}
	slices.Sort(b.publicIdx)
	s := &Service{backend: b}
	s.ops = s.operations()
	return s, nil
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

// Close releases the state directory. The Service must not be used afterwards.
func (s *Service) Close() error {
	return s.backend.doc.Close()
}

// ServeHTTP answers one AWS JSON 1.1 request: POST / with X-Amz-Target AmazonSSM.<Operation>.
// Any signature, or none, is accepted.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", wire.RequestID())
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
// ":version"), among the account's parameters and the public ones; ok is false when there is
// none. A SecureString is not resolvable either (AWS resolves only plain parameters in place of an
// image id, and no other service may see a secret's plaintext): it gives ok=false too, so that EC2
// answers it as it answers a missing parameter. It returns ctx's error when ctx is done before
// the state could be read. It satisfies ec2.Parameters.
func (s *Service) ParameterValue(ctx context.Context, name string) (value string, ok bool, err error) {
	return s.backend.plainValue(ctx, name)
}

var _ wire.Service = (*Service)(nil)
