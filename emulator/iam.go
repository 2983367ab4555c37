package emulator

import (
	"bytes"
	"io"
	"net/http"

	"github.com/flow-infra/flow/emulator/internal/iam"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// Policy is an identity-based IAM policy document, as ParsePolicy reads it. An emulator given
// one (Options.Policy) evaluates every request to EC2, SSM and Route 53 against it, as AWS
// evaluates the policy of the caller's identity.
type Policy = iam.Policy

// ParsePolicy reads an identity-based policy document (JSON, as IAM takes it): Version,
// Statement with Effect, Action or NotAction, Resource or NotResource, and Condition with the
// string, Bool, ARN and Null operators. Every problem is reported, each saying where.
func ParsePolicy(data []byte) (*Policy, error) { return iam.Parse(data) }

// authorized is a service whose requests IAM evaluates: it says what a request is authorized as
// (its actions on its resources' ARNs, in the region the request is for) and writes a denial in
// its protocol's shape. Instance metadata is not one: IAM does not control it.
type authorized interface {
	Access(r *http.Request, body []byte, region string) []iam.Request
	WriteDenied(w http.ResponseWriter, r *http.Request, message string)
}

// maxAuthorizedBody is how much of a request's body is read to authorize it: every service
// refuses a larger one anyway.
const maxAuthorizedBody = 1 << 20

// authorize evaluates r against the policy, if there is one, and answers a request it does not
// allow with the service's AccessDenied; false then. r's body stays readable for the service.
func (e *Emulator) authorize(w http.ResponseWriter, r *http.Request, svc any) bool {
	a, ok := svc.(authorized)
	if e.policy == nil || !ok {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAuthorizedBody+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil {
		return true // the service fails to read it too, and says so
	}
	region := wire.Region(r, e.region)
	reqs := a.Access(r, body, region)
	for i := range reqs {
		ctx := map[string][]string{"aws:RequestedRegion": {region}}
		for k, v := range reqs[i].Context {
			ctx[k] = v
		}
		reqs[i].Context = ctx
	}
	if d := e.policy.Authorize(reqs); d != nil {
		a.WriteDenied(w, r, d.Message(e.principal(r)))
		return false
	}
	return true
}

// principal is the ARN a denial names: the user of the request's access key (the emulator has no
// IAM users, so the key id stands for the user's name), or anonymous for an unsigned request.
func (e *Emulator) principal(r *http.Request) string {
	key := wire.AccessKeyID(r)
	if key == "" {
		return "anonymous"
	}
	return "arn:aws:iam::" + e.account + ":user/" + key
}

// readCloser reads the body already read, then the rest, and closes the original.
type readCloser struct {
	io.Reader
	io.Closer
}
