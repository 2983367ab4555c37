package emulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Faults are failures the emulator injects at given rates, each in the protocol's own shape, so
// that clients' retries can be tested: EC2's RequestLimitExceeded (503), SSM's
// ThrottlingException, Route 53's Throttling, instance metadata's 429; or a 500; and added
// latency.
type Faults struct {
	// Throttle is the fraction of requests (0 to 1) answered with the throttling error.
	Throttle float64
	// ServerError is the fraction of requests answered with a 500.
	ServerError float64
	// Latency is added to a LatencyRate fraction of requests (all of them when LatencyRate is 0).
	Latency     time.Duration
	LatencyRate float64
}

// ParseFaults reads faults written as comma-separated settings, the form of --faults and
// FLOW_EMULATOR_FAULTS: "throttle=0.1,error=0.05,latency=200ms" or "latency=200ms@0.5" (half the
// requests). An empty string is no faults.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return Faults{}, fmt.Errorf("fault %q: expected NAME=VALUE (throttle=0.1, error=0.05, latency=200ms[@0.5])", part)
		}
		var err error
		switch key {
		case "throttle":
			f.Throttle, err = rate(val)
		case "error":
			f.ServerError, err = rate(val)
		case "latency":
			d, r, hasRate := strings.Cut(val, "@")
			if f.Latency, err = time.ParseDuration(d); err == nil && hasRate {
				f.LatencyRate, err = rate(r)
			}
		default:
			return Faults{}, fmt.Errorf("fault %q: unknown kind %q; the kinds are throttle, error and latency", part, key)
		}
		if err != nil {
			return Faults{}, fmt.Errorf("fault %q: %v", part, err)
		}
	}
	return f, f.validate()
}

func rate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 || r > 1 {
		return 0, fmt.Errorf("%q is not a rate between 0 and 1", s)
	}
	return r, nil
}

func (f Faults) validate() error {
	for _, r := range []float64{f.Throttle, f.ServerError, f.LatencyRate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("emulator: fault rate %v is not between 0 and 1", r)
		}
	}
	if f.Latency < 0 {
		return fmt.Errorf("emulator: negative latency %s", f.Latency)
	}
	return nil
}

func (f Faults) latencyRate() float64 {
	if f.LatencyRate == 0 {
		return 1
	}
	return f.LatencyRate
}

// String writes the faults back in ParseFaults' form.
func (f Faults) String() string {
	var parts []string
	if f.Throttle > 0 {
		parts = append(parts, fmt.Sprintf("throttle=%g", f.Throttle))
	}
	if f.ServerError > 0 {
		parts = append(parts, fmt.Sprintf("error=%g", f.ServerError))
	}
	if f.Latency > 0 {
		l := "latency=" + f.Latency.String()
		if f.LatencyRate > 0 {
			l += fmt.Sprintf("@%g", f.LatencyRate)
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, ",")
}
