package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awstest"
)

// pushImage puts an image tagged tag in the emulator's ECR repository
// repo (created when missing), and returns the image's reference.
func (e *env) pushImage(repo, tag string) string {
	e.t.Helper()
	ctx := context.Background()
	c := ecr.New(ecr.Options{Region: awstest.Region, BaseEndpoint: aws.String(e.cluster.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey}, nil
		})})
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil &&
		!strings.Contains(err.Error(), "RepositoryAlreadyExists") {
		e.t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":100,"digest":"sha256:%064x"},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":10,"digest":"sha256:%064x"}]}`, len(tag), len(repo))
	if _, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest), ImageTag: aws.String(tag)}); err != nil {
		e.t.Fatal(err)
	}
	return awstest.Account + ".dkr.ecr." + awstest.Region + ".amazonaws.com/" + repo + ":" + tag
}

// An image missing from its ECR repository fails the rollout before ECS
// is asked to run it; its service keeps the image it had.
func TestMissingECRImageFailsTheRollout(t *testing.T) {
	e := newEnv(t, "1")
	good := e.pushImage("email-worker", "v1")
	desired := e.seed(func(sf *purser.Stackfile) {
		sf.Services = sf.Services[2:]
		sf.Services[0].Image = good
	})
	e.deploy(desired, nil)

	ctx := context.Background()
	for _, c := range []struct{ image, reason string }{
		{strings.TrimSuffix(good, ":v1") + ":fail-1", "image " + strings.TrimSuffix(good, ":v1") + ":fail-1 not found in ECR repository email-worker"},
		{strings.Replace(good, "email-worker", "nowhere", 1), "there is no ECR repository nowhere"},
	} {
		bad := *desired
		bad.Services = []purser.StackService{desired.Services[0]}
		bad.Services[0].Image = c.image
		start := time.Now()
		err := e.target.Apply(ctx, e.cluster, purser.ServicePlan{Service: "email-worker", Action: purser.PlanUpdate, Rollout: true},
			purser.ApplyInput{Stack: &bad, Service: &bad.Services[0], Healthy: 10 * time.Second})
		var re *purser.RolloutError
		if !errors.As(err, &re) || re.Service != "email-worker" || !strings.Contains(re.Reason, c.reason) {
			t.Fatalf("%s: err %v, want a rollout error saying %q", c.image, err, c.reason)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: failed after %s, before the 10 s healthy deadline", c.image, d)
		}
		if img := aws.ToString(e.td("email-worker").ContainerDefinitions[0].Image); img != good {
			t.Errorf("%s: the service's image is %s, want %s still", c.image, img, good)
		}
	}
	// An image in another registry is not checked.
	if err := e.target.checkImage(ctx, e.cluster, "x", "nginx:1.27"); err != nil {
		t.Errorf("nginx: %v", err)
	}
}

// A stopped task of the rollout's task definition that could not pull its
// image fails the rollout; a pull that may succeed later does not.
func TestPullFailure(t *testing.T) {
	td := "arn:aws:ecs:us-east-1:123456789012:task-definition/prod-web:2"
	task := func(def, reason string) types.Task {
		return types.Task{TaskDefinitionArn: aws.String(def), StoppedReason: aws.String(reason)}
	}
	for _, c := range []struct {
		name  string
		tasks []types.Task
		want  bool
	}{
		{"none", nil, false},
		{"not found", []types.Task{task(td, "CannotPullContainerError: pull image manifest has been retried 5 time(s): 123.dkr.ecr/web:fail-1: not found")}, true},
		{"manifest unknown", []types.Task{task(td, "CannotPullContainerError: Error response from daemon: manifest unknown")}, true},
		{"an older revision", []types.Task{task(td[:len(td)-1]+"1", "CannotPullContainerError: not found")}, false},
		{"a timeout", []types.Task{task(td, "CannotPullContainerError: context deadline exceeded")}, false},
		{"essential container exited", []types.Task{task(td, "Essential container in task exited")}, false},
	} {
		if got := pullFailure(c.tasks, td); (got != "") != c.want {
			t.Errorf("%s: %q, want failure %v", c.name, got, c.want)
		}
	}
}
