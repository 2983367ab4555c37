package steps

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retry is how the AWS steps retry a call that was throttled or met a 5xx or a broken
// connection: the SDK's retry modes, with defaults fitted to a boot, where a fleet rebooting at
// once meets throttling and a boot that gives up is an outage. The defaults are the adaptive
// mode (the SDK slows its own calls down while AWS throttles them), 10 attempts a call, and
// waits of up to 10s between them (exponential, with full jitter): a call gives up after about
// 30s of waiting on average and never more than 90s. A throttled call is tried four times as
// often (40 attempts by default, about 3 minutes of waiting on average, 6.5 at most): a fleet
// rebooting at once queues behind the account's request rate (1,000 first boots want 3,000
// Route 53 calls, 5 minutes of them at 10 a second), and a boot that waits its turn is not an
// outage; an endpoint that is down or refusing fails as soon as before.
type Retry struct {
	// Mode is aws.RetryModeStandard or aws.RetryModeAdaptive; "" means adaptive.
	Mode aws.RetryMode
	// MaxAttempts is how often a call is tried in all; 0 means 10.
	MaxAttempts int
	// MaxBackoff caps each wait between attempts; 0 means 10s.
	MaxBackoff time.Duration
}

// The defaults of Retry's fields.
const (
	retryDefaultMode        = aws.RetryModeAdaptive
	retryDefaultMaxAttempts = 10
	retryDefaultMaxBackoff  = 10 * time.Second
	// throttledAttemptsFactor is how many times MaxAttempts a throttled call is tried.
	throttledAttemptsFactor = 4
)

// orDefaults returns r with its zero fields given the defaults.
func (r Retry) orDefaults() Retry {
	if r.Mode == "" {
		r.Mode = retryDefaultMode
	}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = retryDefaultMaxAttempts
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = retryDefaultMaxBackoff
	}
	return r
}

// Configure returns cfg with r's retryer, where cfg does not choose already: a retry mode or a
// number of attempts that the SDK's configuration loaded (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS,
// retry_mode and max_attempts in the profile) wins over r's.
func (r Retry) Configure(cfg aws.Config) aws.Config {
	if cfg.RetryMode != "" {
		r.Mode = cfg.RetryMode
	}
	if cfg.RetryMaxAttempts > 0 {
		r.MaxAttempts = cfg.RetryMaxAttempts
	}
	r = r.orDefaults()
	// The retryer carries the attempts: a client given RetryMaxAttempts would wrap it in one that
	// caps every call, throttled or not, at that number.
	cfg.RetryMode, cfg.RetryMaxAttempts = r.Mode, 0
	cfg.Retryer = r.retryer
	return cfg
}

// retryer returns a new retryer of r's mode.
func (r Retry) retryer() aws.Retryer {
	r = r.orDefaults()
	opts := func(so *retry.StandardOptions) {
		so.MaxAttempts = r.MaxAttempts
		so.MaxBackoff = r.MaxBackoff
		so.Backoff = retry.NewExponentialJitterBackoff(r.MaxBackoff)
	}
	var base aws.RetryerV2 = retry.NewStandard(opts)
	if r.Mode == aws.RetryModeAdaptive {
		base = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, opts)
		})
	}
	return patientWithThrottling{RetryerV2: base, attempts: r.MaxAttempts}
}

// patientWithThrottling is a retryer that tries a throttled call throttledAttemptsFactor times
// as often as any other: it offers that many attempts to the SDK, and stops a call whose error
// is not throttling once it has had its own attempts, as the SDK would have.
type patientWithThrottling struct {
	aws.RetryerV2
	attempts int // the attempts of a call that is not throttled
}

func (p patientWithThrottling) MaxAttempts() int { return p.attempts * throttledAttemptsFactor }

func (p patientWithThrottling) RetryDelay(attempt int, err error) (time.Duration, error) {
	if attempt >= p.attempts && !isThrottling(err) {
		return 0, &retry.MaxAttemptsError{Attempt: attempt, Err: err}
	}
	return p.RetryerV2.RetryDelay(attempt, err)
}

// isThrottling reports whether err is AWS asking the caller to slow down.
func isThrottling(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

// metadataRetryer returns the retryer of instance metadata reads: r's attempts and waits, with
// no retry quota (the quota keeps a client from adding load to a remote service that is failing;
// instance metadata is the instance's own, and its reads are few). 429 is added by the caller.
func (r Retry) metadataRetryer() aws.Retryer {
	r = r.orDefaults()
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = r.MaxAttempts
		so.MaxBackoff = r.MaxBackoff
		so.Backoff = retry.NewExponentialJitterBackoff(r.MaxBackoff)
		so.RateLimiter = ratelimit.None
	})
}
