package kubernetes

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/k8stest"
)

var (
	cpOnce sync.Once
	shared *k8stest.ControlPlane
)

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Stop()
	os.Exit(code)
}

// controlPlane starts one control plane for the package's tests.
func controlPlane(t *testing.T) *k8stest.ControlPlane {
	t.Helper()
	k8stest.Require(t)
	cpOnce.Do(func() { shared = k8stest.StartShared(t) })
	if shared == nil {
		t.Fatal("the control plane did not start")
	}
	return shared
}

func driverFor(cps map[string]*k8stest.ControlPlane) *Driver {
	return &Driver{DeleteTimeout: 2 * time.Minute, Clusters: func(ctx context.Context, name string) (*purser.Cluster, error) {
		cp, ok := cps[name]
		if !ok {
			return nil, purser.Errorf(purser.ENOTFOUND, "cluster %s not found", name)
		}
		return &purser.Cluster{Name: name, Kind: purser.ClusterKubernetes, Kubeconfig: cp.Kubeconfig}, nil
	}}
}

func configMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": "v"}}
}

// TestAccessNotObjects proves what the issued kubeconfig lets a developer
// do, not merely that objects exist.
func TestAccessNotObjects(t *testing.T) {
	cp := controlPlane(t)
	d := driverFor(map[string]*k8stest.ControlPlane{"one": cp})
	ctx := context.Background()
	admin := k8stest.Client(t, cp.Kubeconfig)
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "someone-else"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	env := purser.Environment{RequestID: "6b02aaaa00000000deadbeef", Owner: "Dev.User", Template: "ns",
		Params: map[string]any{"cluster": "one"}, Footprint: purser.Footprint{Cores: 1, Memory: 1}, ExpiresBy: time.Now().Add(2 * time.Hour)}
	out, err := d.Provision(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if out["namespace"] != "dev-user-deadbeef" {
		t.Fatalf("namespace %q", out["namespace"])
	}
	ns := out["namespace"]
	dev := k8stest.Client(t, out["kubeconfig"])

	t.Run("CanWorkInItsNamespace", func(t *testing.T) {
		if _, err := dev.CoreV1().ConfigMaps(ns).Create(ctx, configMap("mine"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ForbiddenInAnotherNamespace", func(t *testing.T) {
		_, err := dev.CoreV1().ConfigMaps("someone-else").Create(ctx, configMap("theirs"), metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("err %v, want forbidden", err)
		}
	})
	t.Run("ForbiddenAtClusterScope", func(t *testing.T) {
		if _, err := dev.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Fatalf("listing namespaces: %v, want forbidden", err)
		}
		if _, err := dev.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Fatalf("listing nodes: %v, want forbidden", err)
		}
	})
	t.Run("RefusedPastTheResourceQuota", func(t *testing.T) {
		big := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "big"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}}}}
		_, err := dev.CoreV1().Pods(ns).Create(ctx, big, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota") {
			t.Fatalf("a pod over the quota: %v", err)
		}
	})
	t.Run("ProvisioningTwiceConverges", func(t *testing.T) {
		again, err := d.Provision(ctx, env)
		if err != nil || again["namespace"] != ns {
			t.Fatalf("second provision: %v %v", again, err)
		}
		if _, err := k8stest.Client(t, again["kubeconfig"]).CoreV1().ConfigMaps(ns).Get(ctx, "mine", metav1.GetOptions{}); err != nil {
			t.Fatalf("the re-issued kubeconfig: %v", err)
		}
	})
	t.Run("LosesAccessAfterPurge", func(t *testing.T) {
		if err := d.Destroy(ctx, env); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("namespace after purge: %v", err)
		}
		_, err := dev.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		if !apierrors.IsUnauthorized(err) && !apierrors.IsForbidden(err) {
			t.Fatalf("the kubeconfig still works after purge: %v", err)
		}
		if err := d.Destroy(ctx, env); err != nil {
			t.Fatalf("destroying twice: %v", err)
		}
	})
}

func TestPurgeFailsWhenSomethingIsLeft(t *testing.T) {
	cp := controlPlane(t)
	d := driverFor(map[string]*k8stest.ControlPlane{"one": cp})
	ctx := context.Background()
	env := purser.Environment{RequestID: "6b02aaaa00000000cafe0001", Owner: "dev", Params: map[string]any{"cluster": "one"},
		ExpiresBy: time.Now().Add(time.Hour)}
	if _, err := d.Provision(ctx, env); err != nil {
		t.Fatal(err)
	}
	// Someone labelled another namespace with the request.
	admin := k8stest.Client(t, cp.Kubeconfig)
	stray := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "stray-cafe0001", Labels: map[string]string{LabelRequest: env.RequestID}}}
	if _, err := admin.CoreV1().Namespaces().Create(ctx, stray, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := d.Destroy(ctx, env)
	if err == nil || !strings.Contains(err.Error(), "namespace/stray-cafe0001") {
		t.Fatalf("purge with a stray object: %v", err)
	}
}

func TestUnreachableClusterFailsClearly(t *testing.T) {
	d := &Driver{Clusters: func(ctx context.Context, name string) (*purser.Cluster, error) {
		return &purser.Cluster{Name: name, Kind: purser.ClusterKubernetes, Server: "https://127.0.0.1:1", Token: "x"}, nil
	}}
	_, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Owner: "o", Params: map[string]any{"cluster": "gone"}})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err %v", err)
	}
}
