package wire

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err        Error
		text, kind string
	}{
		{Error{Code: "InvalidInput", Status: 400, Message: "bad name"}, "InvalidInput: bad name", "Sender"},
		{Error{Code: "ParameterNotFound", Status: 400}, "ParameterNotFound", "Sender"},
		{Error{Code: "NoSuchHostedZone", Status: 404, Message: "No hosted zone"}, "NoSuchHostedZone: No hosted zone", "Sender"},
		{Error{Code: "InternalFailure", Status: 500, Message: "oops"}, "InternalFailure: oops", "Receiver"},
		{Error{Code: "RequestLimitExceeded", Status: 503}, "RequestLimitExceeded", "Receiver"},
	} {
		if got := tc.err.Error(); got != tc.text {
			t.Errorf("Error() = %q, want %q", got, tc.text)
		}
		if got := tc.err.Fault(); got != tc.kind {
			t.Errorf("%s %d: Fault() = %s, want %s", tc.err.Code, tc.err.Status, got, tc.kind)
		}
	}
}

// Reply answers an AWS error as it is, wrapped or not, and anything else as the internal error,
// keeping what failed for the log and out of the answer.
func TestReply(t *testing.T) {
	internal := &Error{Code: "InternalError", Status: 500, Message: "An internal error has occurred"}
	notFound := &Error{Code: "InvalidVpcID.NotFound", Status: 400, Message: "The vpc ID 'vpc-1' does not exist"}

	rec := new(Record)
	ctx := WithRecord(context.Background(), rec)
	if got := Reply(ctx, fmt.Errorf("delete: %w", notFound), internal); got != notFound {
		t.Errorf("a wrapped AWS error is answered as %v, want itself", got)
	}
	if rec.Code != "InvalidVpcID.NotFound" || rec.Internal != nil {
		t.Errorf("record = %+v, want the code and no internal error", rec)
	}

	rec = new(Record)
	ctx = WithRecord(context.Background(), rec)
	failure := errors.New("write state: /var/lib/flow/ec2.json: no space left on device")
	got := Reply(ctx, failure, internal)
	if got != internal {
		t.Fatalf("a failure of the emulator is answered as %v, want the internal error", got)
	}
	if strings.Contains(got.Error(), "no space") {
		t.Errorf("the answer %q carries the failure's text", got)
	}
	if rec.Code != "InternalError" || !errors.Is(rec.Internal, failure) {
		t.Errorf("record = %+v, want InternalError and the failure for the log", rec)
	}

	// Without a Record in the context nothing is kept, and nothing fails.
	if got := Reply(context.Background(), failure, internal); got != internal {
		t.Errorf("without a record: %v", got)
	}
	RecordOf(context.Background()).Operation = "Ignored"
	if RecordOf(context.Background()).Operation != "" {
		t.Error("the record of a context without one is shared")
	}
}

// Seeded ids depend on the seed, the kind and the sequence number only; unseeded ones are random.
func TestIDs(t *testing.T) {
	a, b := IDs{Seed: "s"}, IDs{Seed: "s"}
	if a.Hex("instance", 1, 17) != b.Hex("instance", 1, 17) {
		t.Error("one seed gives two ids")
	}
	seen := map[string]bool{}
	for _, id := range []string{
		a.Hex("instance", 1, 17), a.Hex("instance", 2, 17), a.Hex("vpc", 1, 17), (IDs{Seed: "t"}).Hex("instance", 1, 17),
	} {
		if seen[id] {
			t.Errorf("id %s made twice from different inputs", id)
		}
		seen[id] = true
		if !regexp.MustCompile(`^[0-9a-f]{17}$`).MatchString(id) {
			t.Errorf("Hex = %q, want 17 lower-case hex digits", id)
		}
	}
	// Ids longer than one hash are as reproducible.
	if long := a.Alnum("zone", 3, 80); long != b.Alnum("zone", 3, 80) || !regexp.MustCompile(`^[A-Z0-9]{80}$`).MatchString(long) {
		t.Errorf("Alnum = %q", long)
	}
	if first, second := (IDs{}).Hex("instance", 1, 17), (IDs{}).Hex("instance", 1, 17); first == second {
		t.Error("unseeded ids repeat")
	}
	for seq := range uint64(100) {
		if n := a.Int("ip", seq, 7); n < 0 || n >= 7 {
			t.Fatalf("Int = %d, want [0, 7)", n)
		}
	}
}

func TestFormats(t *testing.T) {
	at := time.Date(2025, 6, 1, 11, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	if got := Timestamp(at); got != "2025-06-01T09:00:00.123Z" {
		t.Errorf("Timestamp = %s", got)
	}
	for id, ok := range map[string]bool{
		"ami-12345678": true, "ami-0123456789abcdef0": true,
		"ami-1234567": false, "ami-0123456789ABCDEF0": false, "ami-0123456789abcdef01": false, "i-12345678": false,
	} {
		if IsImageID(id) != ok {
			t.Errorf("IsImageID(%s) = %v", id, !ok)
		}
	}
	if id := RequestID(); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) || id == RequestID() {
		t.Errorf("RequestID = %s, want a fresh UUID", id)
	}
}
