package steps

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// localEndpoint is the base endpoint of LocalAWS's clients. Its transport serves every request,
// so the host is never resolved.
const localEndpoint = "http://flow-emulator.invalid"

// LocalAWS returns an *AWS whose SDK clients and instance metadata client send every request
// through transport, in region: the embedded emulator's in-process transport, for `flow run
// --local` and the steps' tests. Nothing comes from the user's AWS configuration but
// AWS_RETRY_MODE and AWS_MAX_ATTEMPTS, so a local run can never reach a real account.
// Credentials are fixed ("local"); calls are retried as its Retry says (read at each load), as
// DefaultAWS's are. It takes a transport, not an emulator, so this package does not depend on
// the emulator. Instance metadata is asked whatever AWS_EC2_METADATA_DISABLED says.
func LocalAWS(transport http.RoundTripper, region string) *AWS {
	client := &http.Client{Transport: transport}
	a := &AWS{
		IMDS: []func(*imds.Options){func(o *imds.Options) {
			o.Endpoint = localEndpoint
			o.HTTPClient = client
			// The embedded instance metadata is the emulator's: AWS_EC2_METADATA_DISABLED, which
			// many shells set to keep the AWS CLI from probing for a real one, is not about it.
			o.ClientEnableState = imds.ClientEnabled
		}},
	}
	a.Load = func(context.Context) (aws.Config, error) {
		env, err := config.NewEnvConfig()
		if err != nil {
			return aws.Config{}, err
		}
		return a.Retry.Configure(aws.Config{
			Region:           region,
			Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
			HTTPClient:       client,
			BaseEndpoint:     aws.String(localEndpoint),
			RetryMode:        env.RetryMode,
			RetryMaxAttempts: env.RetryMaxAttempts,
		}), nil
	}
	return a
}
