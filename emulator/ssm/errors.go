package ssm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
		codeThrottling, codeValidation, codeSerialization, codeUnknownOperation:
		return "Message"
	}
	return "message"
}

// apiError is a failure answered to the client as an AWS error. Backend methods return it; any
// other error reaching the handler is answered as an InternalServerError.
type apiError struct {
	code    errorCode
	message string // may be empty: AWS sends ParameterNotFound with no message
}

func newError(code errorCode, format string, args ...any) *apiError {
	if len(args) > 0 {
		format = fmt.Sprintf(format, args...)
	}
	return &apiError{code: code, message: format}
}

func (e *apiError) Error() string {
	if e.message == "" {
		return string(e.code)
	}
	return string(e.code) + ": " + e.message
}

// validationError is the service framework's message for a request that breaks a constraint of
// the API model, e.g. `Value '11' at 'maxResults' failed to satisfy constraint: Member must have
// value less than or equal to 10`.
func validationError(value, field, constraint string) *apiError {
	return newError(codeValidation, "1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s",
		value, field, constraint)
}

// writeError answers err in the awsJson1_1 error shape: the code in the body's __type and in the
// X-Amzn-ErrorType header, the message in the member the model names.
func writeError(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = newError(codeInternalServerError, "%v", err)
	}
	body := map[string]string{"__type": string(e.code)}
	if e.message != "" {
		body[e.code.messageKey()] = e.message
	}
	data, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-ErrorType", string(e.code[strings.LastIndexByte(string(e.code), '#')+1:]))
	w.WriteHeader(e.code.status())
	w.Write(data)
}
