package wire

import "context"

// Record is what the request log keeps of one request: which service answered, which operation
// was asked, and the error code answered, if any. The router puts a Record in the request's
// context, each service fills in what only it knows (the operation is in EC2's form, SSM's
// header, Route 53's path), and the log writes it once the answer is sent. It holds no parameter
// value and no body, so nothing secret can reach the log through it.
type Record struct {
	// Service is the emulated service that answered: ec2, ssm, route53 or imds.
	Service string
	// Operation is the API operation, e.g. RunInstances; empty when the request named none.
	Operation string
	// Code is the AWS error code answered; empty on success.
	Code string
	// Internal is the emulator's own failure behind an internal error, kept for the log only.
	Internal error
}

type recordKey struct{}

// WithRecord returns ctx carrying rec, for the services to fill in.
func WithRecord(ctx context.Context, rec *Record) context.Context {
	return context.WithValue(ctx, recordKey{}, rec)
}

// RecordOf returns the Record ctx carries, or a fresh one that nobody reads when ctx carries
// none (a service used on its own, as in its tests), so callers never check for nil.
func RecordOf(ctx context.Context) *Record {
	if rec, ok := ctx.Value(recordKey{}).(*Record); ok {
		return rec
	}
	return new(Record)
}
