package ecs

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awsclient"
)

// checkImage makes sure, before a service rolls out, that its image is in
// its ECR repository, with the cluster's credentials: an image that is not
// there would leave ECS retrying a pull that cannot succeed
// (CannotPullContainerError) until the healthy deadline. It fails the
// rollout when ECR says the image or the repository does not exist. An
// image in another registry is not checked, and neither is one ECR does
// not answer for (no permission, a network error): ECS pulls with its own
// execution role, which may see more than the cluster's key.
func (t *StackTarget) checkImage(ctx context.Context, c *purser.Cluster, service, image string) error {
	repoRef, ref := awsclient.SplitImage(image)
	repo, ok := awsclient.ParseECR(repoRef)
	if !ok {
		return nil
	}
	var hc aws.HTTPClient
	if t.HTTPClient != nil {
		hc = t.HTTPClient
	}
	cfg, err := awsclient.Config(c, repo.Region, hc, 2, "checking an image in ECR")
	if err != nil {
		return nil
	}
	id := ecrtypes.ImageIdentifier{ImageTag: aws.String(ref)}
	if strings.HasPrefix(ref, "sha256:") {
		id = ecrtypes.ImageIdentifier{ImageDigest: aws.String(ref)}
	}
	_, err = ecr.NewFromConfig(cfg).DescribeImages(ctx, &ecr.DescribeImagesInput{
		RepositoryName: aws.String(repo.Name), RegistryId: aws.String(repo.Account), ImageIds: []ecrtypes.ImageIdentifier{id}})
	return missingImage(service, image, repo, err)
}

// missingImage is the RolloutError for an image ECR said is not there, or
// nil for any other answer.
func missingImage(service, image string, repo awsclient.ECRRepository, err error) error {
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) {
		return nil
	}
	where := "ECR repository " + repo.Name + " (account " + repo.Account + ", " + repo.Region + ")"
	switch ae.ErrorCode() {
	case "ImageNotFoundException":
		return &purser.RolloutError{Service: service, Reason: "image " + image + " not found in " + where}
	case "RepositoryNotFoundException":
		return &purser.RolloutError{Service: service, Reason: "image " + image + ": there is no " + where}
	}
	return nil
}
