package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awstest"
	"github.com/purserhq/purser/internal/registry"
)

// ecsCluster is an ecs cluster whose endpoint is the emulator.
func ecsCluster(endpoint string) *purser.Cluster {
	return &purser.Cluster{Name: "prod", Kind: purser.ClusterECS, Region: awstest.Region, ECSCluster: "prod", Endpoint: endpoint,
		AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey}
}

// ecrImage is the image of repo in the emulator's account.
func ecrImage(repo string) string {
	return awstest.Account + ".dkr.ecr." + awstest.Region + ".amazonaws.com/" + repo
}

// ecrPusher puts images in the emulator's repositories.
type ecrPusher struct {
	t *testing.T
	c *ecr.Client
	n int
}

func newECRPusher(t *testing.T, endpoint string, repos ...string) *ecrPusher {
	c := ecr.New(ecr.Options{Region: awstest.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey}, nil
		})})
	for _, r := range repos {
		if _, err := c.CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String(r)}); err != nil {
			t.Fatal(err)
		}
	}
	return &ecrPusher{t: t, c: c}
}

// push puts a new image tagged tags[0] (and the other tags on the same
// image) and returns its digest.
func (p *ecrPusher) push(repo string, tags ...string) string {
	p.t.Helper()
	p.n++
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":100,"digest":"sha256:%064x"},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":10,"digest":"sha256:%064x"}]}`, p.n, p.n)
	var digest string
	for _, tag := range tags {
		out, err := p.c.PutImage(context.Background(), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest), ImageTag: aws.String(tag)})
		if err != nil {
			p.t.Fatal(err)
		}
		digest = aws.ToString(out.Image.ImageId.ImageDigest)
	}
	return digest
}

// nextSecond waits for the wall clock's next second: the emulator records
// push times in whole seconds.
func nextSecond(t *testing.T) {
	start := time.Now().Unix()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if time.Now().Unix() > start {
			return
		}
	}
}

func TestECRTags(t *testing.T) {
	t.Parallel()
	endpoint := awstest.Start(t)
	p := newECRPusher(t, endpoint, "routing-service")
	first := p.push("routing-service", "a-first", "b-alias")
	nextSecond(t)
	second := p.push("routing-service", "z-second")
	if first == second {
		t.Fatal("the emulator gave both images one digest")
	}
	src := &registry.Source{Cluster: func(_ context.Context, name string) (*purser.Cluster, error) {
		if name != "prod" {
			return nil, purser.Errorf(purser.ENOTFOUND, "cluster %s not found", name)
		}
		return ecsCluster(endpoint), nil
	}}
	ctx := context.Background()

	t.Run("NewestFirstOneRowPerTag", func(t *testing.T) {
		l, err := src.ImageTags(ctx, purser.TagQuery{Cluster: "prod", Image: ecrImage("routing-service:xxx"), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tg := range l.Tags {
			got = append(got, tg.Name+" "+tg.Digest)
		}
		want := []string{"z-second " + second, "a-first " + first, "b-alias " + first}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if !l.Tags[0].Pushed.After(l.Tags[1].Pushed) || time.Since(l.Tags[0].Pushed) > time.Hour {
			t.Errorf("push times %v, %v: want the second after the first, both now", l.Tags[0].Pushed, l.Tags[1].Pushed)
		}
	})
	t.Run("Limit", func(t *testing.T) {
		l, err := src.ImageTags(ctx, purser.TagQuery{Cluster: "prod", Image: ecrImage("routing-service"), Limit: 1})
		if err != nil || len(l.Tags) != 1 || l.Tags[0].Name != "z-second" {
			t.Fatalf("limit 1: %+v, %v; want z-second alone", l, err)
		}
	})
	t.Run("ErrNoRepository", func(t *testing.T) {
		_, err := src.ImageTags(ctx, purser.TagQuery{Cluster: "prod", Image: ecrImage("nope:1"), Limit: 10})
		var re *purser.RegistryError
		if !errors.As(err, &re) || !strings.Contains(re.Registry, "dkr.ecr") || !strings.Contains(err.Error(), "RepositoryNotFound") {
			t.Fatalf("a missing repository: %v; want a RegistryError naming the registry and RepositoryNotFoundException", err)
		}
	})
	t.Run("ErrNotECSCluster", func(t *testing.T) {
		sim := &registry.Source{Cluster: func(context.Context, string) (*purser.Cluster, error) {
			return &purser.Cluster{Name: "staging", Kind: purser.ClusterSim}, nil
		}}
		_, err := sim.ImageTags(ctx, purser.TagQuery{Cluster: "staging", Image: ecrImage("routing-service"), Limit: 10})
		if purser.ErrorCode(err) != purser.ECONFLICT || !strings.Contains(purser.ErrorMessage(err), "needs an ecs cluster's credentials") {
			t.Fatalf("ECR on a sim cluster: %v; want ECONFLICT saying ECR needs an ecs cluster's credentials", err)
		}
	})
}
