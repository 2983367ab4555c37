package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/flow-infra/flow/engine"
)

// AWS is how the AWS steps reach AWS. cmd/flow puts one in a run's context (WithAWS); the
// configuration is loaded on first use, so a workflow with no AWS step never loads it, and kept
// once a load succeeded. A load that failed (a step's short timeout, a blip while asking instance
// metadata for the region) is not kept: the next step that needs AWS, or a retry, loads again.
// It is safe for concurrent use; one load runs at a time.
type AWS struct {
	// Load returns the SDK configuration: region, credentials, endpoints, retryer, HTTP client.
	Load func(ctx context.Context) (aws.Config, error)
	// IMDS adjusts the instance metadata client (endpoint, HTTP client) after the endpoint
	// settings of the environment and the shared config file are applied (see imdsClient).
	IMDS []func(*imds.Options)
	// Retry is how instance metadata reads are retried; its zero fields take BootRetry's values.
	// (Load applies a Retry of its own to the SDK configuration: see Retry.Configure.)
	Retry Retry

	mu      sync.Mutex
	loaded  bool // cfg holds a configuration that loaded
	cfg     aws.Config
	loading chan struct{} // holds a token while a Load runs; made on first use

	// md is the run's one instance metadata client, so that every read shares its session
	// token; instanceID is this instance's id once a read of instance metadata gave it.
	md         *imds.Client
	instanceID string
}

// DefaultAWS is AWS as the SDK's standard chain finds it: AWS_PROFILE, AWS_REGION, the shared
// config and credentials files, SSO, the environment, AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>. On an instance with no region configured, the region comes from
// instance metadata. Calls are retried as r says, where AWS_RETRY_MODE and AWS_MAX_ATTEMPTS (or
// retry_mode and max_attempts in the profile) do not say otherwise.
func DefaultAWS(r Retry) *AWS {
	a := &AWS{Retry: r}
	a.Load = func(ctx context.Context) (aws.Config, error) {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return cfg, err
		}
		cfg = r.Configure(cfg)
		if cfg.Region != "" {
			return cfg, nil
		}
		// No region configured: on an instance, instance metadata knows it. The lookup uses
		// flow's own metadata client, IMDSv2 only, like every other read.
		md, err := a.metadataClient(ctx)
		if err != nil {
			return cfg, err
		}
		out, err := md.GetRegion(ctx, &imds.GetRegionInput{})
		if err != nil {
			return cfg, fmt.Errorf("no AWS region is configured (set AWS_REGION or a region in the profile), and instance metadata could not give one: %w", err)
		}
		cfg.Region = out.Region
		return cfg, nil
	}
	return a
}

type awsKey struct{}

// WithAWS returns a context whose AWS steps use a.
func WithAWS(ctx context.Context, a *AWS) context.Context {
	return context.WithValue(ctx, awsKey{}, a)
}

// awsFrom returns the run's AWS, or an error naming the step type that needed it.
func awsFrom(ctx context.Context) (*AWS, error) {
	a, ok := ctx.Value(awsKey{}).(*AWS)
	if !ok || a == nil {
		return nil, errors.New("this step needs AWS, and the run was started without it")
	}
	return a, nil
}

// Config returns the SDK configuration, loading it unless a load already succeeded. Callers
// arriving while another loads wait for that load (or for ctx), then use its configuration or, if
// it failed, load themselves.
func (a *AWS) Config(ctx context.Context) (aws.Config, error) {
	a.mu.Lock()
	if a.loaded {
		defer a.mu.Unlock()
		return a.cfg, nil
	}
	if a.loading == nil {
		a.loading = make(chan struct{}, 1)
	}
	loading := a.loading
	a.mu.Unlock()

	select {
	case loading <- struct{}{}: // nobody is loading: go ahead, whatever ctx says (Load honours it)
	default:
		select {
		case loading <- struct{}{}:
		case <-ctx.Done():
			return aws.Config{}, fmt.Errorf("waiting for the AWS configuration to load: %w", context.Cause(ctx))
		}
	}
	defer func() { <-loading }()
	a.mu.Lock()
	loaded, cfg := a.loaded, a.cfg
	a.mu.Unlock()
	if loaded {
		return cfg, nil
	}
	cfg, err := a.Load(ctx)
	if err != nil {
		return cfg, err
	}
	a.mu.Lock()
	a.cfg, a.loaded = cfg, true
	a.mu.Unlock()
	return cfg, nil
}

// client returns a service client made by newClient from the run's SDK configuration. In a dry
// run (engine.DryRun) the client refuses every operation that does not read, before it is sent.
func client[C, O any](ctx context.Context, newClient func(aws.Config, ...func(*O)) *C) (*C, error) {
	a, err := awsFrom(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := a.Config(ctx)
	if err != nil {
		return nil, err
	}
	if engine.DryRun(ctx) {
		cfg = cfg.Copy()
		cfg.APIOptions = append(cfg.APIOptions, readsOnly)
	}
	return newClient(cfg), nil
}

// readsOnly makes an operation that does not read fail before it is sent: a dry run's clients
// call only operations whose names say they read (Describe..., Get..., List...), whatever a step
// asks of them.
func readsOnly(stack *middleware.Stack) error {
	op := stack.ID() // the operation's name
	for _, verb := range []string{"Describe", "Get", "List"} {
		if rest, ok := strings.CutPrefix(op, verb); ok && rest != "" {
			return nil
		}
	}
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("flowDryRunReadsOnly",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("a dry run changes nothing: %s was refused (only Describe, Get and List calls are made)", op)
		}), middleware.Before)
}

func ec2Client(ctx context.Context) (*ec2.Client, error) { return client(ctx, ec2.NewFromConfig) }

func ssmClient(ctx context.Context) (*ssm.Client, error) { return client(ctx, ssm.NewFromConfig) }

func route53Client(ctx context.Context) (*route53.Client, error) {
	return client(ctx, route53.NewFromConfig)
}

// imdsClient returns the instance metadata client of the run's AWS: its IMDS options over the
// endpoint settings of the environment and the shared config file
// (AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE, ...), IMDSv2 only
// (the IMDSv1 fallback off), retried as the AWS's Retry says (AWS_MAX_ATTEMPTS wins), 429
// included like a 5xx. It does not need the SDK
// configuration, which may itself need instance metadata for the region. (imds.New alone reads
// only AWS_EC2_METADATA_SERVICE_ENDPOINT and leaves the fallback on.)
func imdsClient(ctx context.Context) (*imds.Client, error) {
	a, err := awsFrom(ctx)
	if err != nil {
		return nil, err
	}
	return a.metadataClient(ctx)
}

// metadataClient returns the instance metadata client described at imdsClient, made on first
// use and then shared by the whole run, so that its reads share one session token.
func (a *AWS) metadataClient(ctx context.Context) (*imds.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.md != nil {
		return a.md, nil
	}
	sources, err := imdsConfigSources(ctx)
	if err != nil {
		return nil, err
	}
	r := a.Retry
	if env := sources[0].(config.EnvConfig); env.RetryMaxAttempts > 0 {
		r.MaxAttempts = env.RetryMaxAttempts // AWS_MAX_ATTEMPTS
	}
	opts := make([]func(*imds.Options), 0, len(a.IMDS)+2)
	opts = append(opts, func(o *imds.Options) {
		o.DisableDefaultMaxBackoff = true // imds.New would cap the waits at 1s
		o.Retryer = r.metadataRetryer()
		// The SDK gives a metadata read 5s, retries included: an instance busy at boot (every
		// unit starting at once) can take that to answer, and the boot would fail for it.
		o.DisableDefaultTimeout = true
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(imdsOperationTimeout{}, middleware.Before)
		})
	})
	opts = append(opts, a.IMDS...)
	if err := imdsDisabled(opts); err != nil {
		return nil, err
	}
	opts = append(opts, func(o *imds.Options) {
		o.EnableFallback = aws.FalseTernary
		o.Retryer = imdsThrottleRetryer{o.Retryer}
	})
	a.md = imds.NewFromConfig(aws.Config{ConfigSources: sources}, opts...)
	return a.md, nil
}

// imdsReadTimeout bounds one instance metadata read, its retries included. Each attempt still
// has the SDK's own short limits (a quarter second to connect, half a second to the first byte),
// so where there is no instance metadata at all a run fails as soon as the retries run out.
const imdsReadTimeout = 30 * time.Second

// imdsOperationTimeout is the middleware that gives an instance metadata operation
// imdsReadTimeout, in place of the SDK's 5s.
type imdsOperationTimeout struct{}

func (imdsOperationTimeout) ID() string { return "flowIMDSOperationTimeout" }

func (imdsOperationTimeout) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	ctx, cancel := context.WithTimeout(ctx, imdsReadTimeout)
	defer cancel()
	return next.HandleInitialize(ctx, in)
}

// rememberInstance keeps this instance's id as instance metadata gave it, for the rest of the run.
func (a *AWS) rememberInstance(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.instanceID = id
}

// knownInstance returns this instance's id if a read of instance metadata already gave it.
func (a *AWS) knownInstance() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.instanceID
}

// imdsDisabled returns an error naming AWS_EC2_METADATA_DISABLED when that variable turns off
// the instance metadata client opts build, as the SDK reads it, so that the failure says what
// to change rather than the SDK's "access disabled to EC2 IMDS via client option".
func imdsDisabled(opts []func(*imds.Options)) error {
	var o imds.Options
	for _, fn := range opts {
		fn(&o)
	}
	if o.ClientEnableState == imds.ClientDefaultEnableState && strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return errors.New("instance metadata is turned off by AWS_EC2_METADATA_DISABLED=true in the environment; " +
			"unset it where flow must read instance metadata (flow run --local reads the embedded emulator's whatever it says)")
	}
	return nil
}

// imdsConfigSources are the settings the SDK reads instance metadata's endpoint from: the
// environment (first, a config.EnvConfig), then the profile (AWS_PROFILE, else default) of the shared config file
// (AWS_CONFIG_FILE, else ~/.aws/config), if there is one.
func imdsConfigSources(ctx context.Context) ([]any, error) {
	env, err := config.NewEnvConfig()
	if err != nil {
		return nil, fmt.Errorf("instance metadata settings in the environment: %w", err)
	}
	sources := []any{env}
	profile := env.SharedConfigProfile
	if profile == "" {
		profile = "default"
	}
	shared, err := config.LoadSharedConfigProfile(ctx, profile, func(o *config.LoadSharedConfigOptions) {
		if env.SharedConfigFile != "" {
			o.ConfigFiles = []string{env.SharedConfigFile}
		}
		o.CredentialsFiles = []string{} // no credentials needed: do not read them
	})
	var missing config.SharedConfigProfileNotExistError
	switch {
	case err == nil:
		sources = append(sources, shared)
	case errors.As(err, &missing):
	default:
		return nil, fmt.Errorf("instance metadata settings in the shared config file: %w", err)
	}
	return sources, nil
}

// imdsThrottleRetryer retries what its retryer retries and also IMDS's 429 Too Many Requests,
// which the SDK's retryers do not (aws/aws-sdk-go-v2#1995).
type imdsThrottleRetryer struct{ aws.Retryer }

func (r imdsThrottleRetryer) IsErrorRetryable(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusTooManyRequests {
		return true
	}
	return r.Retryer.IsErrorRetryable(err)
}

// ---- errors from AWS calls (shared by the AWS steps) and from instance metadata

// awsCode returns the AWS error code of err ("ParameterAlreadyExists"), or "".
func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// awsCallError is an AWS call that failed: its message says what was attempted, the AWS error code
// and AWS's message; it unwraps to the SDK's error.
type awsCallError struct {
	msg string
	err error
}

func (e *awsCallError) Error() string { return e.msg }
func (e *awsCallError) Unwrap() error { return e.err }

// awsFail describes a failed call: the action (format, args), then "CODE: message" from AWS, or the
// SDK's error when AWS did not answer (cancelled, no network). Secrets are masked.
func awsFail(rt *engine.Runtime, err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae):
		msg += ": " + ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" {
			msg += ": " + m
		}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		msg += ": stopped: " + err.Error()
	default:
		msg += ": " + err.Error()
	}
	return &awsCallError{msg: rt.Mask(msg), err: err}
}

// awsErrorf describes a failed call in words of its own (format, args), for an error code a step
// explains better than AWS's message does. Secrets are masked; it unwraps to err.
func awsErrorf(rt *engine.Runtime, err error, format string, args ...any) error {
	return &awsCallError{msg: rt.Mask(fmt.Sprintf(format, args...)), err: err}
}

// batches cuts items into slices of at most n, in order: the calls of an API that takes at most n
// names a call (GetParameters, DeleteParameters, TerminateInstances).
func batches(items []string, n int) [][]string {
	var out [][]string
	for rest := items; len(rest) > 0; {
		batch := rest[:min(n, len(rest))]
		rest = rest[len(batch):]
		out = append(out, batch)
	}
	return out
}
