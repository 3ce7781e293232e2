// Package awsclient builds the AWS SDK configuration of an ecs cluster
// from the cluster's own sealed credentials, and from nothing else: never
// the server's environment, shared files or instance role (DESIGN.md,
// security model). The ECS target and the ECR tag lister share it.
package awsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/purserhq/purser"
)

// Config returns the SDK configuration for calls to AWS in region with c's
// access key, at c's endpoint when it names one; hc, when not nil, makes
// the calls. A cluster that reaches AWS by a role only is ENOTIMPLEMENTED:
// assuming the role would take Purser's own AWS identity, which only the
// server's environment holds, and that is never read. what says what the
// caller would do, for that error.
func Config(c *purser.Cluster, region string, hc aws.HTTPClient, retries int, what string) (aws.Config, error) {
	if c.AccessKeyID == "" {
		return aws.Config{}, purser.Errorf(purser.ENOTIMPLEMENTED,
			"cluster %s reaches AWS by a role; %s by assuming a role is not supported yet: give the cluster an access key", c.Name, what)
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Source: "purser cluster " + c.Name}, nil
		}),
		RetryMaxAttempts: retries,
	}
	if c.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(c.Endpoint)
	}
	if hc != nil {
		cfg.HTTPClient = hc
	}
	return cfg, nil
}
