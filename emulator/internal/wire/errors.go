package wire

import (
	"context"
	"errors"
	"net/http"
)

// Error is the one shape of failure every emulated service answers a client with: AWS's error
// code, the HTTP status AWS sends it with, and AWS's message (which may be empty: SSM sends
// ParameterNotFound without one). Handlers and backends return it, wrapped or not; each protocol
// has one writer that turns it into that protocol's error document.
//
// Any other error that reaches a writer is the emulator's own failure (a bug, or the state store
// failing), not the client's doing: Reply answers it with the service's internal error, records
// its text for the request log, and never sends that text to the client.
type Error struct {
	// Code is AWS's error code, e.g. InvalidInstanceID.NotFound.
	Code string
	// Status is the HTTP status AWS answers the code with.
	Status int
	// Message is AWS's message for the case.
	Message string
}

// Error returns "CODE: MESSAGE", or the code alone when there is no message.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Fault says who is to blame, as AWS's XML error documents write it in <Type>: "Sender" for a
// 4xx status (the request was wrong), "Receiver" for a 5xx (the service failed).
func (e *Error) Fault() string {
	if e.Status >= http.StatusInternalServerError {
		return "Receiver"
	}
	return "Sender"
}

// Reply returns what to answer err with: the *Error that err is or wraps; for any other error,
// internal (the service's own "internal error" answer), after recording err in ctx's request
// Record so that the request log shows it. err's text is never returned to be sent.
func Reply(ctx context.Context, err error, internal *Error) *Error {
	var e *Error
	if errors.As(err, &e) {
		RecordOf(ctx).Code = e.Code
		return e
	}
	rec := RecordOf(ctx)
	rec.Code, rec.Internal = internal.Code, err
	return internal
}
