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
// 30s of waiting on average and never more than 90s.
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
	cfg.RetryMode, cfg.RetryMaxAttempts = r.Mode, r.MaxAttempts
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
	if r.Mode == aws.RetryModeAdaptive {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, opts)
		})
	}
	return retry.NewStandard(opts)
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
