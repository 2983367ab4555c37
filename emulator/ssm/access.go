package ssm

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/flow-infra/flow/emulator/internal/iam"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// access is what IAM evaluates one operation of the dispatch table as (see operations): its
// action, ssm:<Operation>, on the ARNs of the parameters it names, as AWS's service authorization
// reference lists Parameter Store's resource types: arn:aws:ssm:REGION:ACCOUNT:parameter/NAME
// (no account for AWS's public /aws/ parameters); GetParametersByPath on the path itself
// (parameter/clients/acme for /clients/acme); DescribeParameters, which supports no
// resource-level permission, on arn:aws:ssm:REGION:ACCOUNT:* as AWS's denials name it.
var access = map[string]func(body []byte) []string{
	"PutParameter":        nameOf,
	"GetParameter":        nameOf,
	"DeleteParameter":     nameOf,
	"GetParameters":       namesOf,
	"DeleteParameters":    namesOf,
	"GetParametersByPath": pathOf,
}

func nameOf(body []byte) []string {
	var in struct{ Name *string }
	json.Unmarshal(body, &in)
	if in.Name == nil {
		return nil
	}
	return []string{strings.TrimSpace(*in.Name)}
}

func namesOf(body []byte) []string {
	var in struct{ Names []string }
	json.Unmarshal(body, &in)
	return in.Names
}

func pathOf(body []byte) []string {
	var in struct{ Path *string }
	json.Unmarshal(body, &in)
	if in.Path == nil {
		return nil
	}
	return []string{*in.Path}
}

// Access returns what IAM authorizes the request as, in region: one iam.Request for each
// parameter it names, or one on the account's "*" for an operation on no parameter (or a
// request too malformed to name one, which the operation then refuses). A parameter given as an
// ARN, with or without a :version selector, is evaluated on its ARN without the selector.
func (s *Service) Access(r *http.Request, body []byte, region string) []iam.Request {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	action := "ssm:" + op
	var names []string
	if f, ok := access[op]; ok {
		names = f(body)
	}
	if len(names) == 0 {
		return []iam.Request{{Action: action, Resource: "arn:aws:ssm:" + region + ":" + s.backend.account + ":*"}}
	}
	reqs := make([]iam.Request, 0, len(names))
	for _, n := range names {
		reqs = append(reqs, iam.Request{Action: action, Resource: s.parameterARN(n, region)})
	}
	return reqs
}

// parameterARN is the ARN IAM evaluates a parameter named n (a name, or an ARN) on.
func (s *Service) parameterARN(n, region string) string {
	if strings.HasPrefix(n, "arn:") {
		if i := strings.Index(n, ":parameter/"); i >= 0 {
			if j := strings.LastIndexByte(n[i+len(":parameter/"):], ':'); j >= 0 {
				return n[:i+len(":parameter/")+j]
			}
		}
		return n
	}
	if i := strings.LastIndexByte(n, ':'); i > 0 {
		n = n[:i] // a :version or :label selector
	}
	account := s.backend.account
	if strings.HasPrefix(paramKey(n), "/aws/") {
		account = ""
	}
	return "arn:aws:ssm:" + region + ":" + account + ":parameter/" + arnName(n)
}

// WriteDenied answers r with AccessDeniedException (HTTP 400), SSM's answer to a request IAM
// does not allow, with message.
func (s *Service) WriteDenied(w http.ResponseWriter, r *http.Request, message string) {
	w.Header().Set("X-Amzn-RequestId", wire.RequestID())
	writeError(w, r, newError(codeAccessDenied, "%s", message))
}
