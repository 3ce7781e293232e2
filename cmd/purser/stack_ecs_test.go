package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/awstest"
)

// TestStackOnECS: a stack on an ecs cluster (ECS on moto, a real AWS API
// emulator; it runs no containers, so a new service counts the running
// tasks MOTO_ECS_SERVICE_RUNNING says): applied, an image missing from
// ECR failed and rolled back automatically with its revision blocked, a
// removed service gone from ECS, and a count changed behind Purser's back
// reported as drift and corrected in correct mode.
func TestStackOnECS(t *testing.T) { eachStore(t, testStackOnECS) }

func testStackOnECS(t *testing.T, env ...string) {
	t.Setenv("MOTO_ECS_SERVICE_RUNNING", "1")
	endpoint := awstest.Start(t)
	awsCall := func(service, target, body string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		// moto routes by the credential scope's service; it checks no signature.
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+awstest.AccessKeyID+"/20261201/"+awstest.Region+"/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", service, target, resp.StatusCode, b)
		}
		return string(b)
	}
	ecsCall := func(action, body string) string {
		t.Helper()
		return awsCall("ecs", "AmazonEC2ContainerServiceV20141113."+action, body)
	}
	// web's image is in ECR, tag v1 only.
	awsCall("ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", `{"repositoryName":"web"}`)
	awsCall("ecr", "AmazonEC2ContainerRegistry_V20150921.PutImage", `{"repositoryName":"web","imageTag":"v1","imageManifest":`+
		`"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",`+
		`\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":100,\"digest\":\"sha256:`+strings.Repeat("a", 64)+`\"},`+
		`\"layers\":[]}"}`)
	web := awstest.Account + ".dkr.ecr." + awstest.Region + ".amazonaws.com/web"
	if out := ecsCall("CreateCluster", `{"clusterName":"prod"}`); !strings.Contains(out, "clusterArn") {
		t.Fatalf("CreateCluster: %s", out)
	}

	url, admin := server(t, env...)
	must := func(args ...string) string { t.Helper(); return mustAs(t, url, admin, args...) }
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	stack := filepath.Join(dir, "stack.yaml")
	_ = os.WriteFile(secret, []byte(awstest.SecretAccessKey), 0o600)
	_ = os.WriteFile(stack, []byte(`defaults:
  memory: 256
services:
  - web:
      image: `+web+`:v1
      memory: 256
      desired_count: 1
  - worker:
      image: busybox:1.36
      memory: 128
      desired_count: 1
`), 0o600)
	must("clusters", "add", "prod", "--kind", "ecs", "--region", awstest.Region, "--ecs-cluster", "prod", "--endpoint", endpoint,
		"--access-key-id", awstest.AccessKeyID, "--secret-access-key-file", secret, "--healthy-deadline", "20s")
	if out := must("stacks", "apply", "prod", "-f", stack, "--wait", "--timeout", "2m"); !strings.Contains(out, "Revision 1 of prod is applied") {
		t.Fatalf("apply --wait:\n%s", out)
	}
	if svc := must("stacks", "services", "prod"); strings.Count(svc, "in_sync") != 2 {
		t.Fatalf("services on ECS:\n%s", svc)
	}
	if td := ecsCall("DescribeTaskDefinition", `{"taskDefinition":"prod-web"}`); !strings.Contains(td, `"`+web+`:v1"`) || !strings.Contains(td, `"memory": 256`) && !strings.Contains(td, `"memory":256`) {
		t.Fatalf("the web task definition: %s", td)
	}

	// A tag ECR does not have: the rollout fails at once, is rolled back
	// automatically, and the failed revision is blocked.
	code, out, errOut := asUser(t, url, admin, "stacks", "set-image", "prod", "web", "fail-1", "--wait")
	if code != 1 || !strings.Contains(errOut, "revision 2 of prod failed") || !strings.Contains(errOut, "image "+web+":fail-1 not found in ECR repository web") ||
		!strings.Contains(errOut, "revision 3 rolls it back to revision 1") {
		t.Fatalf("an image missing from ECR: exit %d\n%s%s", code, out, errOut)
	}
	waitStatus(t, url, admin, "prod", 3, "applied")
	if hist := must("stacks", "history", "prod"); !strings.Contains(hist, "blocked by 3") {
		t.Fatalf("the failed revision is not blocked:\n%s", hist)
	}
	if td := ecsCall("DescribeTaskDefinition", `{"taskDefinition":"prod-web"}`); !strings.Contains(td, `"`+web+`:v1"`) {
		t.Fatalf("web's task definition after the rollback: %s", td)
	}

	must("stacks", "rm", "prod", "worker", "--wait")
	if d := ecsCall("DescribeServices", `{"cluster":"prod","services":["worker"]}`); strings.Contains(d, `"status": "ACTIVE"`) || strings.Contains(d, `"status":"ACTIVE"`) {
		t.Fatalf("worker is still active on ECS: %s", d)
	}

	// Behind Purser's back: web scaled to 3.
	ecsCall("UpdateService", `{"cluster":"prod","service":"web","desiredCount":3}`)
	if out := must("stacks", "drift", "prod", "--scan"); !strings.Contains(out, "prod differs from revision 4") || !strings.Contains(out, "desired_count") {
		t.Fatalf("the drift:\n%s", out)
	}
	must("clusters", "update", "prod", "--drift", "correct")
	must("stacks", "drift", "prod", "--scan")
	count := regexp.MustCompile(`"desiredCount":\s*(\d+)`)
	deadline := time.Now().Add(time.Minute)
	for {
		m := count.FindStringSubmatch(ecsCall("DescribeServices", `{"cluster":"prod","services":["web"]}`))
		if m != nil && m[1] == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("correct mode did not restore web's count: %v", m)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
