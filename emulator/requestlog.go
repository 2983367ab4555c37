package emulator

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// LogRequests wraps next so that every request it answers writes one line to out once the
// answer is sent: the time it arrived (UTC, to the millisecond), the service, the operation, the
// HTTP status, AWS's error code ("-" for none) and how long it took, e.g.
//
//	2026-01-02T03:04:05.678Z ssm GetParameter 400 ParameterNotFound 412µs
//
// A failure of the emulator itself, answered to the client as a generic internal error, is
// written after the line's fields as "internal: WHAT". No parameter value, header or body is
// ever written, so no secret a request or answer carries can reach the log. clock tells the
// time; nil means time.Now. Lines of concurrent requests are written whole, one at a time.
func LogRequests(next http.Handler, out io.Writer, clock func() time.Time) http.Handler {
	if clock == nil {
		clock = time.Now
	}
	var mu sync.Mutex // one line at a time
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := clock()
		rec := new(wire.Record)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(wire.WithRecord(r.Context(), rec)))
		took := clock().Sub(start)
		line := fmt.Sprintf("%s %s %s %d %s %s", wire.Timestamp(start), orDash(rec.Service), orDash(rec.Operation),
			sw.status(), orDash(rec.Code), took.Round(time.Microsecond))
		if rec.Internal != nil {
			line += " internal: " + rec.Internal.Error()
		}
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(out, line+"\n")
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// status is the status sent: 200 when the handler wrote nothing, as net/http answers then.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap gives http.ResponseController the writer underneath, for flushing and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
