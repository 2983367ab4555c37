// Package wire holds what the emulated services share on the wire and nothing else: the kinds of
// injected fault, the id source, and request ids. It knows no service's shapes.
package wire

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

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
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := s.bytes(kind, seq, n)
	var out strings.Builder
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
