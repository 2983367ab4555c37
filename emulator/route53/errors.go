package route53

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// code is a Route 53 error code. It knows the HTTP status AWS answers it with.
type code string

// The error codes the emulator answers with, as botocore's model and AWS name them.
const (
	codeConflictingDomainExists  code = "ConflictingDomainExists"
	codeHostedZoneAlreadyExists  code = "HostedZoneAlreadyExists"
	codeHostedZoneNotEmpty       code = "HostedZoneNotEmpty"
	codeInternalFailure          code = "InternalFailure"
	codeInvalidChangeBatch       code = "InvalidChangeBatch"
	codeInvalidDomainName        code = "InvalidDomainName"
	codeInvalidInput             code = "InvalidInput"
	codeInvalidPaginationToken   code = "InvalidPaginationToken"
	codeInvalidVPCID             code = "InvalidVPCId"
	codeLastVPCAssociation       code = "LastVPCAssociation"
	codeLimitsExceeded           code = "LimitsExceeded"
	codeNoSuchChange             code = "NoSuchChange"
	codeNoSuchDelegationSet      code = "NoSuchDelegationSet"
	codeNoSuchHostedZone         code = "NoSuchHostedZone"
	codeNotImplemented           code = "NotImplemented"
	codePublicZoneVPCAssociation code = "PublicZoneVPCAssociation"
	codeThrottling               code = "Throttling"
	codeVPCAssociationNotFound   code = "VPCAssociationNotFound"

	codeTooManyVPCAssociationAuthorizations code = "TooManyVPCAssociationAuthorizations"
	codeVPCAssociationAuthorizationNotFound code = "VPCAssociationAuthorizationNotFound"
)

// status is the HTTP status AWS sends with c (botocore's model, service-2.json).
func (c code) status() int {
	switch c {
	case codeHostedZoneAlreadyExists:
		return http.StatusConflict
	case codeNoSuchChange, codeNoSuchHostedZone, codeVPCAssociationNotFound, codeVPCAssociationAuthorizationNotFound:
		return http.StatusNotFound
	case codeInternalFailure:
		return http.StatusInternalServerError
	case codeNotImplemented:
		return http.StatusNotImplemented
	default:
		return http.StatusBadRequest
	}
}

func errorf(c code, format string, args ...any) *wire.Error {
	return &wire.Error{Code: string(c), Status: c.status(), Message: fmt.Sprintf(format, args...)}
}

// internalFailure is Route 53's answer for a failure of the emulator itself; what failed goes to
// the request log, not to the client.
func internalFailure() *wire.Error {
	return errorf(codeInternalFailure, "We encountered an internal error. Please try again.")
}

// invalidChangeBatch is the error for a rejected change batch. AWS sends it in the standard error
// shape with every problem in one message, bracketed and comma-separated:
// "[Tried to create resource record set [name='a.local.', type='A'] but it already exists]".
// (The SDKs still parse an older <InvalidChangeBatch><Messages> shape; AWS no longer sends it.)
func invalidChangeBatch(messages []string) *wire.Error {
	return errorf(codeInvalidChangeBatch, "%s", "["+strings.Join(messages, ", ")+"]")
}

func noSuchHostedZone(id string) *wire.Error {
	return errorf(codeNoSuchHostedZone, "No hosted zone found with ID: %s", id)
}

// xmlDeclaration opens every Route 53 answer, errors included.
const xmlDeclaration = "<?xml version=\"1.0\"?>\n"

// errorResponse is Route 53's error shape.
type errorResponse struct {
	XMLName   xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// writeError answers r with err in Route 53's error shape, as wire.Reply decides.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := wire.Reply(r.Context(), err, internalFailure())
	id := wire.RequestID()
	body, _ := xml.Marshal(errorResponse{Type: e.Fault(), Code: e.Code, Message: e.Message, RequestID: id})
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", id)
	w.WriteHeader(e.Status)
	w.Write([]byte(xmlDeclaration))
	w.Write(body)
}
