package ec2

import (
	"encoding/xml"
	"fmt"
	"net/http"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// code is an EC2 error code as it appears in <Code>. It knows the HTTP status AWS sends with it.
type code string

const (
	codeAuthFailure                  code = "AuthFailure"
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
	codeInvalidAMIIDUnavailable      code = "InvalidAMIID.Unavailable"
	codeInvalidAMINameDuplicate      code = "InvalidAMIName.Duplicate"
	codeInvalidAMINameMalformed      code = "InvalidAMIName.Malformed"
	codeInvalidBlockDeviceMapping    code = "InvalidBlockDeviceMapping"
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
	codeInvalidSnapshotNotFound      code = "InvalidSnapshot.NotFound"
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

// errorf returns the error EC2 answers with code c, with its status and a formatted message.
func errorf(c code, format string, args ...any) *wire.Error {
	return &wire.Error{Code: string(c), Status: c.status(), Message: fmt.Sprintf(format, args...)}
}

// internalError is EC2's answer for a failure of the emulator itself; what failed goes to the
// request log, not to the client.
func internalError() *wire.Error {
	return errorf(codeInternalError, "An internal error has occurred")
}

// errorResponse is EC2's error document. Unlike the success documents it has no namespace and
// spells the request id RequestID.
type errorResponse struct {
	XMLName   xml.Name     `xml:"Response"`
	Errors    []errorEntry `xml:"Errors>Error"`
	RequestID string       `xml:"RequestID"`
}

type errorEntry struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// writeError answers r with err in EC2's error shape, as wire.Reply decides.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := wire.Reply(r.Context(), err, internalError())
	body, _ := xml.Marshal(errorResponse{
		Errors:    []errorEntry{{Code: e.Code, Message: e.Message}},
		RequestID: wire.RequestID(),
	})
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// faultError is the error EC2 would send for an injected fault.
func faultError(f wire.Fault) *wire.Error {
	if f == wire.Throttle {
		return errorf(codeRequestLimitExceeded, "Request limit exceeded.")
	}
	return internalError()
}
