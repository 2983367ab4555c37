package steps

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// AWS is how the AWS steps reach AWS. cmd/flow puts one in a run's context (WithAWS); the
// configuration is loaded once, on first use, so a workflow with no AWS step never loads it.
type AWS struct {
	// Load returns the SDK configuration: region, credentials, endpoints, retryer, HTTP client.
	Load func(ctx context.Context) (aws.Config, error)
	// IMDS adjusts the instance metadata client (endpoint, HTTP client); none means the SDK's
	// defaults, which honour AWS_EC2_METADATA_SERVICE_ENDPOINT.
	IMDS []func(*imds.Options)

	once sync.Once
	cfg  aws.Config
	err  error
}

// DefaultAWS is AWS as the SDK's standard chain finds it: AWS_PROFILE, AWS_REGION, the shared
// config and credentials files, SSO, the environment, AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>. On an instance with no region configured, the region comes from
// instance metadata. Throttling and 5xx answers are retried with backoff and jitter, up to 5
// tries.
func DefaultAWS() *AWS {
	return &AWS{Load: func(ctx context.Context) (aws.Config, error) {
		return config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion(), config.WithRetryMaxAttempts(5))
	}}
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

// Config returns the SDK configuration, loading it on first use.
func (a *AWS) Config(ctx context.Context) (aws.Config, error) {
	a.once.Do(func() {
		a.cfg, a.err = a.Load(ctx)
	})
	return a.cfg, a.err
}

func ec2Client(ctx context.Context) (*ec2.Client, error) {
	a, err := awsFrom(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := a.Config(ctx)
	if err != nil {
		return nil, err
	}
	return ec2.NewFromConfig(cfg), nil
}

func ssmClient(ctx context.Context) (*ssm.Client, error) {
	a, err := awsFrom(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := a.Config(ctx)
	if err != nil {
		return nil, err
	}
	return ssm.NewFromConfig(cfg), nil
}

func route53Client(ctx context.Context) (*route53.Client, error) {
	a, err := awsFrom(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := a.Config(ctx)
	if err != nil {
		return nil, err
	}
	return route53.NewFromConfig(cfg), nil
}

// imdsClient returns an instance metadata client. It does not need the SDK configuration (which
// may itself need instance metadata for the region).
func imdsClient(ctx context.Context) (*imds.Client, error) {
	a, err := awsFrom(ctx)
	if err != nil {
		return nil, err
	}
	return imds.New(imds.Options{}, a.IMDS...), nil
}
