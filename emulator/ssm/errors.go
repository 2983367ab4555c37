package ssm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// errorCode is an AWS error code of the SSM API. It knows the HTTP status it is answered with and
// the member its message goes in (SSM's model spells it "message" for most errors and "Message"
// for a few, and the SDK reads only the spelling the model gives).
type errorCode string

const (
	codeAccessDenied           errorCode = "AccessDeniedException"
	codeHierarchyLevelLimit    errorCode = "HierarchyLevelLimitExceededException"
	codeInternalServerError    errorCode = "InternalServerError"
	codeInvalidAllowedPattern  errorCode = "InvalidAllowedPatternException"
	codeInvalidFilterKey       errorCode = "InvalidFilterKey"
	codeInvalidFilterOption    errorCode = "InvalidFilterOption"
	codeInvalidFilterValue     errorCode = "InvalidFilterValue"
	codeInvalidNextToken       errorCode = "InvalidNextToken"
	codeParameterAlreadyExists errorCode = "ParameterAlreadyExists"
	codeParameterLimitExceeded errorCode = "ParameterLimitExceeded"
	codeParameterNotFound      errorCode = "ParameterNotFound"
	codePatternMismatch        errorCode = "ParameterPatternMismatchException"
	codeVersionNotFound        errorCode = "ParameterVersionNotFound"
	codeThrottling             errorCode = "ThrottlingException"
	codeValidation             errorCode = "ValidationException"

	// The service framework's own errors, answered before an operation runs. AWS prefixes them
	// with the framework's namespace; clients keep what follows the '#'.
	codeUnknownOperation errorCode = "com.amazon.coral.service#UnknownOperationException"
	codeSerialization    errorCode = "com.amazon.coral.service#SerializationException"
	codeInvalidSignature errorCode = "InvalidSignatureException"
)

// status is the HTTP status AWS answers the code with.
func (c errorCode) status() int {
	if c == codeInternalServerError {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// messageKey is the JSON member the code's message is written in.
func (c errorCode) messageKey() string {
	switch c {
	case codeAccessDenied, codeInternalServerError, codeInvalidFilterValue, codeInvalidNextToken,
		codeThrottling, codeValidation, codeSerialization, codeUnknownOperation, codeInvalidSignature:
		return "Message"
	}
	return "message"
}

// newError returns the error SSM answers with code, with its status and a message formatted
// when args are given.
func newError(code errorCode, format string, args ...any) *wire.Error {
	if len(args) > 0 {
		format = fmt.Sprintf(format, args...)
	}
	return &wire.Error{Code: string(code), Status: code.status(), Message: format}
}

// internalServerError is SSM's answer for a failure of the emulator itself; what failed goes to
// the request log, not to the client.
func internalServerError() *wire.Error {
	return newError(codeInternalServerError, "An internal error occurred. Try the request again.")
}

// writeError answers r with err in the awsJson1_1 error shape, as wire.Reply decides: the code
// in the body's __type and in the X-Amzn-ErrorType header, the message in the member the model
// names.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := wire.Reply(r.Context(), err, internalServerError())
	code := errorCode(e.Code)
	body := map[string]string{"__type": e.Code}
	if e.Message != "" {
		body[code.messageKey()] = e.Message
	}
	data, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-ErrorType", e.Code[strings.LastIndexByte(e.Code, '#')+1:])
	w.WriteHeader(e.Status)
	w.Write(data)
}
