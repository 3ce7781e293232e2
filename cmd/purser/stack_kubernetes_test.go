package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/k8stest"
)

// TestStackOnKubernetes: the seed's stackfile on a real kube-apiserver
// whose pods run (kube-scheduler and kwok nodes): applied and available,
// AWS-only fields noted in the plan, a bad image rolled back
// automatically with its revision blocked, a removed service gone from
// the cluster, and a change made behind Purser's back reported as drift
// and corrected in correct mode.
func TestStackOnKubernetes(t *testing.T) {
	k8stest.RequireNodes(t)
	cp := k8stest.StartWithNodes(t, k8stest.Nodes{Count: 2})
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(cp.Kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	eachStore(t, func(t *testing.T, env ...string) { testStackOnKubernetes(t, cp, kc, env...) })
}

func testStackOnKubernetes(t *testing.T, cp *k8stest.ControlPlane, kc string, env ...string) {
	url, admin := server(t, env...)
	must := func(args ...string) string { t.Helper(); return mustAs(t, url, admin, args...) }
	ns := "shop-" + strings.ToLower(t.Name()[strings.LastIndex(t.Name(), "/")+1:])
	seed := filepath.Join("..", "..", "internal", "stackfile", "testdata", "seed.yaml")
	must("clusters", "add", "k8s", "--kubeconfig", kc, "--stack-namespace", ns, "--healthy-deadline", "20s")

	if plan := must("stacks", "plan", "k8s", "-f", seed, "-o", "json"); !strings.Contains(plan, `"field": "vpc"`) {
		t.Fatalf("the plan does not note the AWS-only vpc:\n%s", plan)
	}
	if out := must("stacks", "apply", "k8s", "-f", seed, "--wait"); !strings.Contains(out, "Revision 1 of k8s is applied") {
		t.Fatalf("apply --wait:\n%s", out)
	}
	svc := must("stacks", "services", "k8s")
	if strings.Count(svc, "in_sync") != 3 || !regexp.MustCompile(`user-service\s+in_sync\s+latest\s+latest\s+1/1`).MatchString(svc) {
		t.Fatalf("services on kubernetes:\n%s", svc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kube := k8stest.Client(t, cp.Kubeconfig)
	if d, err := kube.AppsV1().Deployments(ns).Get(ctx, "user-service", metav1.GetOptions{}); err != nil || d.Status.AvailableReplicas != 1 {
		t.Fatalf("the user-service deployment: %v %+v", err, d)
	}

	// A bad image: not available within the healthy deadline, rolled back.
	code, out, errOut := asUser(t, url, admin, "stacks", "set-image", "k8s", "user-service", "fail-1", "--wait")
	if code != 1 || !strings.Contains(errOut, "revision 2 of k8s failed") || !strings.Contains(errOut, "revision 3 rolls it back to revision 1") {
		t.Fatalf("a failing image: exit %d\n%s%s", code, out, errOut)
	}
	waitStatus(t, url, admin, "k8s", 3, "applied")
	if hist := must("stacks", "history", "k8s"); !strings.Contains(hist, "blocked by 3") {
		t.Fatalf("the failed revision is not blocked:\n%s", hist)
	}
	if d, err := kube.AppsV1().Deployments(ns).Get(ctx, "user-service", metav1.GetOptions{}); err != nil || !strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":latest") {
		t.Fatalf("user-service was not rolled back: %v %+v", err, d)
	}

	// A removed service is gone from the cluster.
	must("stacks", "rm", "k8s", "email-worker", "--wait")
	if _, err := kube.AppsV1().Deployments(ns).Get(ctx, "email-worker", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("email-worker's deployment after rm: %v", err)
	}

	// Behind Purser's back: kubectl set image.
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"xxx.dkr.ecr.us-east-1.amazonaws.com/routing-service:hotfix"}]}}}}`
	if _, err := kube.AppsV1().Deployments(ns).Patch(ctx, "routing-service", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if out := must("stacks", "drift", "k8s", "--scan"); !strings.Contains(out, "differs from revision 4") || !strings.Contains(out, "hotfix") {
		t.Fatalf("the drift:\n%s", out)
	}
	must("clusters", "update", "k8s", "--drift", "correct")
	must("stacks", "drift", "k8s", "--scan")
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := kube.AppsV1().Deployments(ns).Get(ctx, "routing-service", metav1.GetOptions{})
		if err == nil && strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":latest") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("correct mode did not restore routing-service: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
