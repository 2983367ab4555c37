// Package wire holds what the emulated services share on the wire and nothing else: the error
// contract (Error, and Reply's one policy for the emulator's own failures), the Record each
// request leaves for the request log, the kinds of injected fault, the id source, request ids,
// the defaults of every service's Options, and the few formats more than one service writes
// (timestamps, AMI ids). It knows no service's shapes.
package wire

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// The defaults of every service's Options.
const (
	// DefaultRegion is the region emulated when none is given.
	DefaultRegion = "us-east-1"
	// DefaultAccountID is the account that owns every resource when none is given.
	DefaultAccountID = "123456789012"
)

// Timestamp formats t as the XML protocols (EC2's Query answers, Route 53) write times: ISO 8601
// in UTC, with milliseconds, e.g. 2025-06-01T09:00:00.000Z.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// imageID is the form of an AMI id: ami- and 8 or 17 hex digits.
var imageID = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// IsImageID reports whether id has the form of an AMI id, ami- and 8 or 17 lower-case hex
// digits, as EC2 checks an ImageId and Parameter Store an aws:ec2:image value.
func IsImageID(id string) bool { return imageID.MatchString(id) }

// Fault is a failure the emulator injects in place of a real answer, so that clients' retries can
// be tested. Each service writes it in its own protocol's error shape.
type Fault int

const (
	// Throttle is the protocol's throttling error (EC2 RequestLimitExceeded, SSM
	// ThrottlingException, Route 53 Throttling, ...).
	Throttle Fault = iota + 1
	// ServerError is an HTTP 500 InternalError/InternalFailure.
	ServerError
)

// Service is what one emulated protocol gives the router: a handler, and a writer of injected
// faults in its error shape.
type Service interface {
	http.Handler
	// WriteFault answers r with fault f in the protocol's error shape.
	WriteFault(w http.ResponseWriter, r *http.Request, f Fault)
}

// IDs makes resource ids. With a seed, an id depends only on the seed, its kind and its sequence
// number, so a run is reproducible across processes as long as the sequence numbers are kept in
// the shared state; without one, ids are random.
type IDs struct {
	Seed string
}

// Hex returns n lower-case hex digits for the seq'th id of kind.
func (s IDs) Hex(kind string, seq uint64, n int) string {
	return hex.EncodeToString(s.bytes(kind, seq, (n+1)/2))[:n]
}

// Alnum returns n upper-case letters and digits for the seq'th id of kind (Route 53's style).
func (s IDs) Alnum(kind string, seq uint64, n int) string {
	return AlnumOf(s.bytes(kind, seq, n))
}

// AlnumOf writes b as upper-case letters and digits, one for each byte: the alphabet of Route 53's
// and IAM's ids.
func AlnumOf(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var out strings.Builder
	out.Grow(len(b))
	for _, c := range b {
		out.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return out.String()
}

// Int returns a number in [0, max) for the seq'th draw of kind.
func (s IDs) Int(kind string, seq uint64, max int) int {
	b := s.bytes(kind, seq, 8)
	return int(binary.LittleEndian.Uint64(b) % uint64(max))
}

func (s IDs) bytes(kind string, seq uint64, n int) []byte {
	out := make([]byte, 0, n)
	if s.Seed == "" {
		out = out[:n]
		rand.Read(out)
		return out
	}
	for block := uint64(0); len(out) < n; block++ {
		h := sha256.New()
		var num [16]byte
		binary.LittleEndian.PutUint64(num[:8], seq)
		binary.LittleEndian.PutUint64(num[8:], block)
		h.Write([]byte(s.Seed))
		h.Write([]byte{0})
		h.Write([]byte(kind))
		h.Write(num[:])
		out = append(out, h.Sum(nil)...)
	}
	return out[:n]
}

// Clock returns the current time; services take one so tests can fix it.
type Clock func() time.Time

// RequestID returns a random request id in the UUID form AWS uses.
func RequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
