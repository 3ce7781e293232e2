package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/k8stest"
)

// TestKubernetesNamespaceEndToEnd: two clusters registered through the
// CLI; a request from the catalog ends DEPLOYED with a kubeconfig that
// works, then PURGED with nothing left; a cluster that goes away makes its
// provisions fail clearly and touches nothing on the other.
func TestKubernetesNamespaceEndToEnd(t *testing.T) {
	k8stest.Require(t)
	// The two control planes start side by side: most of a start is
	// waiting for the apiserver and its controllers to be ready.
	var one, two *k8stest.ControlPlane
	t.Run("StartClusters", func(t *testing.T) {
		t.Run("One", func(t *testing.T) { t.Parallel(); one = k8stest.StartShared(t) })
		t.Run("Two", func(t *testing.T) { t.Parallel(); two = k8stest.StartShared(t) })
	})
	for _, cp := range []*k8stest.ControlPlane{one, two} {
		if cp != nil {
			t.Cleanup(cp.Stop)
		}
	}
	if one == nil || two == nil {
		t.FailNow()
	}
	url, token := server(t, "PURSER_WORKERS_MAX_ATTEMPTS", "2", "PURSER_WORKERS_RETRY_BASE", "100ms")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	for name, cp := range map[string]*k8stest.ControlPlane{"one": one, "two": two} {
		kc := filepath.Join(dir, name+".kubeconfig")
		os.WriteFile(kc, []byte(cp.Kubeconfig), 0o600)
		code, out, errOut := cli(t, "clusters", "add", name, "--kubeconfig", kc, "--server", url, "--token", token)
		if code != 0 || !strings.Contains(out, "yes") || !strings.Contains(out, "v1.37.1") {
			t.Fatalf("clusters add %s: %d\n%s%s", name, code, out, errOut)
		}
	}
	admin := client.New(url, token)
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "team-namespace", "name": "Team namespace", "driver": "kubernetes-namespace",
		"params": []any{
			map[string]any{"name": "cluster", "type": "enum", "options": []string{"one", "two"}, "default": "one"},
			map[string]any{"name": "cpu", "type": "number", "default": 1, "min": 0.5, "max": 8},
		},
		"footprint": map[string]any{"cores": "cpu", "memory": "cpu * 2"}}); err != nil {
		t.Fatal(err)
	}
	dev, _ := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	devc := client.New(url, devTok.Token)

	provision := func(cluster string) *client.Request {
		t.Helper()
		r, err := devc.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "team-namespace", ResourceParameters: map[string]any{"cluster": cluster}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.ActOnRequest(ctx, r.ID, "approve", ""); err != nil {
			t.Fatal(err)
		}
		return r
	}
	onOne, onTwo := provision("one"), provision("two")
	for _, r := range []*client.Request{onOne, onTwo} {
		if got, err := devc.WaitRequest(ctx, r.ID, nil, "DEPLOYED", "FAILED"); err != nil || got.Status != "DEPLOYED" {
			t.Fatalf("%s ended %+v: %v", r.ID, got, err)
		}
	}
	// The owner's kubeconfig works, through the CLI.
	code, kc, errOut := cli(t, "request", "kubeconfig", onOne.ID, "--server", url, "--token", devTok.Token)
	if code != 0 {
		t.Fatalf("request kubeconfig: %d %s", code, errOut)
	}
	ns := regexp.MustCompile(`namespace: (\S+)`).FindStringSubmatch(kc)[1]
	if _, err := k8stest.Client(t, kc).CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hello"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the developer cannot use its namespace: %v", err)
	}
	if code, _, errOut := cli(t, "clusters", "remove", "one", "--server", url, "--token", token); code == 0 || !strings.Contains(errOut, "409") {
		t.Fatalf("removing a cluster with environments: %d %s", code, errOut)
	}

	// Cluster two goes away: a provision there fails clearly and is
	// retried; cluster one is untouched.
	two.Stop()
	failing := provision("two")
	got, err := devc.WaitRequest(ctx, failing.ID, nil, "FAILED", "DEPLOYED")
	hist, _ := devc.RequestLogs(context.Background(), failing.ID, 0)
	if err != nil || got.Status != "FAILED" || !strings.Contains(got.LastError, "cluster two") && !strings.Contains(got.LastError, "127.0.0.1") {
		var lines []string
		for _, l := range hist.Items {
			lines = append(lines, l.Time.Format("15:04:05.000")+" "+l.Line)
		}
		t.Fatalf("provision on a vanished cluster: status %s, last error %q, %v\nlog:\n%s", got.Status, got.LastError, err, strings.Join(lines, "\n"))
	}
	attempts := 0
	for _, l := range hist.Items {
		if strings.HasPrefix(l.Line, "provision: attempt") {
			attempts++
		}
	}
	if attempts != 2 {
		t.Fatalf("%d attempts logged, want 2 (retried)", attempts)
	}
	if _, err := k8stest.Client(t, kc).CoreV1().ConfigMaps(ns).Get(ctx, "hello", metav1.GetOptions{}); err != nil {
		t.Fatalf("cluster one was disturbed: %v", err)
	}

	// Purge: nothing left, and the kubeconfig stops working.
	if _, err := devc.ActOnRequest(ctx, onOne.ID, "purge", ""); err != nil {
		t.Fatal(err)
	}
	if got, err := devc.WaitRequest(ctx, onOne.ID, nil, "PURGED", "PURGE_FAILED"); err != nil || got.Status != "PURGED" {
		t.Fatalf("purge ended %+v: %v", got, err)
	}
	adminK := k8stest.Client(t, one.Kubeconfig)
	if _, err := adminK.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace %s after purge: %v", ns, err)
	}
	left, _ := adminK.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "purser.dev/request=" + onOne.ID})
	if len(left.Items) != 0 {
		t.Fatalf("left behind: %v", left.Items)
	}
	if _, err := k8stest.Client(t, kc).CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) && !apierrors.IsForbidden(err) {
		t.Fatalf("the kubeconfig works after purge: %v", err)
	}
}
