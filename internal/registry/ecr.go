package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awsclient"
)

// MaxECRPages bounds how many pages of DescribeImages (1,000 images each)
// one listing reads.
const MaxECRPages = 20

// ecrTags lists an ECR repository's tagged images with the cluster's
// credentials: one row per tag, with its image's push time and digest.
func (s *Source) ecrTags(ctx context.Context, c *purser.Cluster, r ecrRepo) ([]purser.ImageTag, error) {
	var hc aws.HTTPClient
	if s.ECRClient != nil {
		hc = s.ECRClient
	}
	cfg, err := awsclient.Config(c, r.Region, hc, 2, "reading ECR")
	if err != nil {
		return nil, err
	}
	client := ecr.NewFromConfig(cfg)
	p := ecr.NewDescribeImagesPaginator(client, &ecr.DescribeImagesInput{
		RepositoryName: aws.String(r.Name),
		RegistryId:     aws.String(r.Account),
		Filter:         &types.DescribeImagesFilter{TagStatus: types.TagStatusTagged},
		MaxResults:     aws.Int32(1000),
	})
	var tags []purser.ImageTag
	for page := 0; p.HasMorePages() && page < MaxECRPages; page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, ecrError(err)
		}
		for _, d := range out.ImageDetails {
			for _, tag := range d.ImageTags {
				t := purser.ImageTag{Name: tag, Digest: aws.ToString(d.ImageDigest)}
				if d.ImagePushedAt != nil {
					t.Pushed = d.ImagePushedAt.UTC()
				}
				tags = append(tags, t)
			}
		}
	}
	return tags, nil
}

// ecrError keeps what AWS said (its code and message), without the
// request's plumbing.
func ecrError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("DescribeImages: %s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return fmt.Errorf("DescribeImages: %w", err)
}
