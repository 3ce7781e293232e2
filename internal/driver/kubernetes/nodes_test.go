package kubernetes

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/k8stest"
)

// podSpec is a pod's spec bound to node (or left to the scheduler when
// node is ""), requesting cpu and memory.
func podSpec(node, cpu, memory string) corev1.PodSpec {
	return corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "nginx",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}}}}}
}

func poolPod(name, node, cpu, memory string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels}, Spec: podSpec(node, cpu, memory)}
}

// waitUntil polls ok every 100 ms for a minute.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for !ok() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("never: %s", what)
		}
	}
}

// TestPoolNodes runs a pool's API against a real control plane with kwok
// nodes named after hosts: usage counts the pods' requests against the
// members' allocatable and the unschedulable pods; a drain cordons the
// node, evicts what it may, is refused by a disruption budget (and says
// which), deletes by force at the deadline, and leaves DaemonSets' pods;
// uncordon undoes only Purser's cordon.
func TestPoolNodes(t *testing.T) {
	cp := k8stest.StartWithNodes(t, k8stest.Nodes{Count: 1})
	cp.RemoveNode(t, "kwok-node-0")
	cp.AddNamedNode(t, "h1", "4", "8Gi")
	cp.AddNamedNode(t, "h2", "4", "8Gi")
	ctx := context.Background()
	kc := k8stest.Client(t, cp.Kubeconfig)
	create := func(p *corev1.Pod) {
		t.Helper()
		if _, err := kc.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	web := map[string]string{"app": "web"}
	create(poolPod("web-1", "h1", "1", "1Gi", web))
	create(poolPod("batch-1", "h1", "500m", "512Mi", nil))
	create(poolPod("big-1", "", "16", "1Gi", nil))
	agent := map[string]string{"app": "agent"}
	if _, err := kc.AppsV1().DaemonSets("default").Create(ctx, &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: agent},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: agent}, Spec: podSpec("", "100m", "64Mi")}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	agents := func(node string) int {
		l, err := kc.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=agent", FieldSelector: "spec.nodeName=" + node})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Items)
	}
	one := intstr.FromInt32(1)
	if _, err := kc.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web-pdb"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: web}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	cfg := mustRESTConfig(t, cp)
	n, err := NewPoolNodes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var u purser.PoolUsage
	waitUntil(t, "big-1 unschedulable, the DaemonSet's pods on h1 and h2", func() bool {
		if agents("h1") != 1 || agents("h2") != 1 {
			return false
		}
		u, err = n.Usage(ctx, []string{"h1", "h2", "h3"})
		return err == nil && u.Pending == 1
	})
	// 1 + 0.5 + 2 x 0.1 cores: 2 rounded up.
	want := purser.PoolUsage{Pending: 1, PendingNeed: purser.Resources{Cores: 16, Memory: purser.GiB},
		Requested: purser.Resources{Cores: 2, Memory: purser.GiB + 512<<20 + 2*64<<20}, Allocatable: purser.Resources{Cores: 8, Memory: 16 * purser.GiB},
		Pods: map[string]int{"h1": 2}, Unready: []string{"h3"}}
	if u.PendingNeed != want.PendingNeed || u.Requested != want.Requested || u.Allocatable != want.Allocatable ||
		u.Pods["h1"] != 2 || len(u.Pods) != 1 || len(u.Unready) != 1 || u.Unready[0] != "h3" || len(u.Cordoned) != 0 {
		t.Fatalf("usage %+v, want %+v", u, want)
	}

	// A first pass: batch-1 is evicted, web-1 is refused by its budget.
	s, err := n.Drain(ctx, "h1", false)
	if err != nil || s.Left != 2 || s.Wait != "disruption budget web-pdb refused eviction of default/web-1" {
		t.Fatalf("drain: %+v %v", s, err)
	}
	if node, _ := kc.CoreV1().Nodes().Get(ctx, "h1", metav1.GetOptions{}); !node.Spec.Unschedulable {
		t.Fatal("h1 not cordoned")
	}
	waitUntil(t, "batch-1 evicted", func() bool {
		s, err = n.Drain(ctx, "h1", false)
		return err == nil && s.Left == 1
	})
	// The deadline: web-1 is deleted by force; the DaemonSet's pod stays.
	if s, err = n.Drain(ctx, "h1", true); err != nil || s.Left != 0 || s.Forced != 1 {
		t.Fatalf("forced drain: %+v %v", s, err)
	}
	if agents("h1") != 1 {
		t.Fatal("the DaemonSet's pod left h1")
	}
	if s, err = n.Drain(ctx, "gone", false); err != nil || s != (purser.DrainStep{}) {
		t.Fatalf("a missing node: %+v %v", s, err)
	}

	// h1 is a member again: Purser's cordon is lifted; an operator's stays.
	if u, err = n.Usage(ctx, []string{"h1", "h2"}); err != nil || len(u.Cordoned) != 1 || u.Cordoned[0] != "h1" {
		t.Fatalf("cordoned: %+v %v", u.Cordoned, err)
	}
	cordon(t, kc, "h2")
	for _, node := range []string{"h1", "h2"} {
		if err := n.Uncordon(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	for node, want := range map[string]bool{"h1": false, "h2": true} {
		if got, _ := kc.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); got.Spec.Unschedulable != want {
			t.Fatalf("%s unschedulable %v, want %v", node, got.Spec.Unschedulable, want)
		}
	}
}

func cordon(t *testing.T, kc *k8s.Clientset, node string) {
	t.Helper()
	got, err := kc.CoreV1().Nodes().Get(context.Background(), node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Spec.Unschedulable = true
	if _, err := kc.CoreV1().Nodes().Update(context.Background(), got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func mustRESTConfig(t *testing.T, cp *k8stest.ControlPlane) *rest.Config {
	t.Helper()
	cfg, err := RESTConfig(&purser.Cluster{Name: "pool", Kind: purser.ClusterKubernetes, Kubeconfig: cp.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPoolClusters: a pool's API is the cluster it names; none
// is ENOTFOUND (the sweep then says so in the pool's status), a cluster
// of another kind EINVALID.
func TestPoolClusters(t *testing.T) {
	t.Parallel()
	clusters := func(_ context.Context, name string) (*purser.Cluster, error) {
		kind := purser.ClusterKubernetes
		switch name {
		case "fleet":
			kind = purser.ClusterECS
		case "gone":
			return nil, purser.Errorf(purser.ENOTFOUND, "cluster gone not found")
		}
		return &purser.Cluster{Name: name, Kind: kind, Server: "https://127.0.0.1:6443", Token: "t"}, nil
	}
	for cluster, code := range map[string]string{"": purser.ENOTFOUND, "fleet": purser.EINVALID, "gone": purser.EINVALID, "kube": ""} {
		pc := &PoolClusters{Clusters: clusters}
		api, err := pc.Client(context.Background(), &purser.Pool{Name: "web", Cluster: cluster})
		if purser.ErrorCode(err) != code || (code == "") != (api != nil) {
			t.Fatalf("cluster %q: %v %v", cluster, api, err)
		}
	}
}

// TestBudgetRefusal: the budget is named from the cause the API server
// gives, in both of its wordings (TestPoolNodes meets one on a real
// server); without one the server's message is kept.
func TestBudgetRefusal(t *testing.T) {
	t.Parallel()
	refusal := func(cause string) error {
		err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
		if cause != "" {
			err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: "DisruptionBudget", Message: cause})
		}
		return err
	}
	for cause, want := range map[string]string{
		"The disruption budget web-pdb needs 2 healthy pods and has 2 currently": "disruption budget web-pdb refused eviction of default/web-1",
		"The disruption budget web-pdb is still being processed by the server.":  "disruption budget web-pdb refused eviction of default/web-1",
		"": "eviction of default/web-1 refused: Cannot evict pod as it would violate the pod's disruption budget.",
	} {
		if got := budgetRefusal(refusal(cause), "default/web-1"); got != want {
			t.Errorf("%q: %q, want %q", cause, got, want)
		}
	}
}

// TestPodRequests: a pod holds the larger of its containers' sum and its
// largest init container, plus its overhead.
func TestPodRequests(t *testing.T) {
	t.Parallel()
	var p podDoc
	c := func(cpu, mem string) podContainer {
		var pc podContainer
		pc.Resources.Requests = map[string]string{"cpu": cpu, "memory": mem}
		return pc
	}
	p.Spec.Containers = []podContainer{c("500m", "1Gi"), c("250m", "1Gi")}
	p.Spec.InitContainers = []podContainer{c("1", "512Mi")}
	p.Spec.Overhead = map[string]string{"cpu": "100m"}
	if got := p.requests(); got != (milli{1100, 2 << 30}) {
		t.Fatalf("requests %+v", got)
	}
}
