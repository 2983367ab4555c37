package ec2

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// code is an EC2 error code as it appears in <Code>. It knows the HTTP status AWS sends with it.
type code string

const (
	codeDependencyViolation          code = "DependencyViolation"
	codeDryRunOperation              code = "DryRunOperation"
	codeFilterLimitExceeded          code = "FilterLimitExceeded"
	codeIdempotentInstanceTerminated code = "IdempotentInstanceTerminated"
	codeIdempotentParameterMismatch  code = "IdempotentParameterMismatch"
	codeIncorrectInstanceState       code = "IncorrectInstanceState"
	codeInsufficientFreeAddresses    code = "InsufficientFreeAddressesInSubnet"
	codeInternalError                code = "InternalError"
	codeInvalidAction                code = "InvalidAction"
	codeInvalidAMIIDMalformed        code = "InvalidAMIID.Malformed"
	codeInvalidAMIIDNotFound         code = "InvalidAMIID.NotFound"
	codeInvalidGroupIDMalformed      code = "InvalidGroupId.Malformed"
	codeInvalidGroupNotFound         code = "InvalidGroup.NotFound"
	codeInvalidID                    code = "InvalidID"
	codeInvalidInstanceIDMalformed   code = "InvalidInstanceID.Malformed"
	codeInvalidInstanceIDNotFound    code = "InvalidInstanceID.NotFound"
	codeInvalidIPAddressInUse        code = "InvalidIPAddress.InUse"
	codeInvalidNetworkInterfaceID    code = "InvalidNetworkInterfaceID.NotFound"
	codeInvalidPaginationToken       code = "InvalidPaginationToken"
	codeInvalidParameter             code = "InvalidParameter"
	codeInvalidParameterCombination  code = "InvalidParameterCombination"
	codeInvalidParameterValue        code = "InvalidParameterValue"
	codeInvalidSubnetConflict        code = "InvalidSubnet.Conflict"
	codeInvalidSubnetIDNotFound      code = "InvalidSubnetID.NotFound"
	codeInvalidSubnetRange           code = "InvalidSubnet.Range"
	codeInvalidVolumeNotFound        code = "InvalidVolume.NotFound"
	codeInvalidVpcIDNotFound         code = "InvalidVpcID.NotFound"
	codeInvalidVpcRange              code = "InvalidVpc.Range"
	codeMissingAction                code = "MissingAction"
	codeMalformedQueryString         code = "MalformedQueryString"
	codeMissingInput                 code = "MissingInput"
	codeMissingParameter             code = "MissingParameter"
	codeOperationNotPermitted        code = "OperationNotPermitted"
	codeRequestLimitExceeded         code = "RequestLimitExceeded"
	codeSsmInvalidParameter          code = "SsmInvalidParameter"
	codeTagLimitExceeded             code = "TagLimitExceeded"
	codeUnsupportedOperation         code = "UnsupportedOperation"
	codeVPCIDNotSpecified            code = "VPCIdNotSpecified"
)

// status is the HTTP status EC2 answers with for c: 500 for its own failures, 503 when it
// throttles, 412 for a dry run and 400 for everything the client got wrong.
func (c code) status() int {
	switch c {
	case codeInternalError:
		return http.StatusInternalServerError
	case codeRequestLimitExceeded:
		return http.StatusServiceUnavailable
	case codeDryRunOperation:
		return http.StatusPreconditionFailed
	}
	return http.StatusBadRequest
}

// apiError is an error EC2 reports to the client: handlers and the backend return it, and
// writeError turns it into the protocol's error document.
type apiError struct {
	Code    code
	Message string
}

func (e *apiError) Error() string { return string(e.Code) + ": " + e.Message }

// errorf returns an apiError with code c and a formatted message.
func errorf(c code, format string, args ...any) *apiError {
	return &apiError{Code: c, Message: fmt.Sprintf(format, args...)}
}

// errorResponse is EC2's error document. Unlike the success documents it has no namespace and
// spells the request id RequestID.
type errorResponse struct {
	XMLName   xml.Name     `xml:"Response"`
	Errors    []errorEntry `xml:"Errors>Error"`
	RequestID string       `xml:"RequestID"`
}

type errorEntry struct {
	Code    code   `xml:"Code"`
	Message string `xml:"Message"`
}

// writeError answers with err in EC2's error shape. An error that is not an apiError is a bug or
// a failure of the state store: it becomes InternalError, and its text is not shown.
func writeError(w http.ResponseWriter, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = errorf(codeInternalError, "An internal error has occurred")
	}
	body, _ := xml.Marshal(errorResponse{
		Errors:    []errorEntry{{Code: e.Code, Message: e.Message}},
		RequestID: wire.RequestID(),
	})
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Code.status())
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// faultError is the error EC2 would send for an injected fault.
func faultError(f wire.Fault) *apiError {
	if f == wire.Throttle {
		return errorf(codeRequestLimitExceeded, "Request limit exceeded.")
	}
	return errorf(codeInternalError, "An internal error has occurred")
}
