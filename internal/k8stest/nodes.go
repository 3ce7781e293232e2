package k8stest

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podFailStage is Purser's kwok stage that makes pods whose image tag
// starts with "fail-" crash-loop.
//
//go:embed testdata/pod-fail.yaml
var podFailStage []byte

// kwokStages are kwok's own stages, which tools/k8s/build.sh copies from
// its module next to the binaries: nodes become Ready, pods Running and
// Ready, Jobs' pods complete, deleted pods go away.
var kwokStages = []string{"node-initialize.yaml", "pod-ready.yaml", "pod-complete.yaml", "pod-delete.yaml"}

// kwokNodeAnnotation marks the nodes kwok manages.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// startNodes starts kube-scheduler and kwok, makes the nodes and waits
// for kwok to make them Ready.
func (cp *ControlPlane) startNodes(t testing.TB, kubeconfig string, n Nodes) {
	t.Helper()
	cp.start(t, cp.dir, "kube-scheduler", "--kubeconfig", kubeconfig, "--leader-elect=false", "--secure-port", "0")

	fail := filepath.Join(cp.dir, "pod-fail.yaml")
	if err := os.WriteFile(fail, podFailStage, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--kubeconfig", kubeconfig, "--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector", kwokNodeAnnotation + "=fake", "--cidr", "10.244.0.0/16",
		"--config", fail}
	for _, s := range kwokStages {
		args = append(args, "--config", filepath.Join(BinDir(), "kwok-stages", s))
	}
	cp.start(t, cp.dir, "kwok", args...)

	if n.Count <= 0 {
		n.Count = 1
	}
	quantity := func(s, def, field string) resource.Quantity {
		if s == "" {
			s = def
		}
		q, err := resource.ParseQuantity(s)
		if err != nil {
			t.Fatalf("k8stest.Nodes.%s: %v", field, err)
		}
		return q
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    quantity(n.CPU, "8", "CPU"),
		corev1.ResourceMemory: quantity(n.Memory, "32Gi", "Memory"),
		corev1.ResourcePods:   quantity(n.Pods, "110", "Pods"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nodes := Client(t, cp.Kubeconfig).CoreV1().Nodes()
	for i := range n.Count {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{kwokNodeAnnotation: "fake"},
				Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
					"kubernetes.io/arch": "amd64", "type": "kwok"},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create node %s: %v", name, err)
		}
		cp.NodeNames = append(cp.NodeNames, name)
	}

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		list, err := nodes.List(ctx, metav1.ListOptions{})
		ready := 0
		if err == nil {
			for _, node := range list.Items {
				for _, c := range node.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
		}
		if ready == n.Count {
			break
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(filepath.Join(cp.dir, "kwok.log"))
			if len(log) > 4000 {
				log = log[len(log)-4000:]
			}
			t.Fatalf("%d of %d kwok nodes Ready after 2m (%v); kwok's log ends:\n%s", ready, n.Count, err, log)
		case <-tick.C:
		}
	}
	// The apiserver taints a new node not-ready; the node lifecycle
	// controller, which is not run (it would need kwok's heartbeats),
	// would lift the taint once the node is Ready.
	for _, name := range cp.NodeNames {
		if _, err := nodes.Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"taints":null}}`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("untaint node %s: %v", name, err)
		}
	}
}

// AddNamedNode adds a kwok node named name with cpu and memory as its
// capacity and allocatable ("8", "32Gi"), as a machine joining the
// cluster would, and waits until it is Ready and untainted. It needs a
// control plane StartWithNodes started.
func (cp *ControlPlane) AddNamedNode(t testing.TB, name, cpu, memory string) {
	t.Helper()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory), corev1.ResourcePods: resource.MustParse("110"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nodes := Client(t, cp.Kubeconfig).CoreV1().Nodes()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{kwokNodeAnnotation: "fake"},
			Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if _, err := nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err == nil && nodeReady(got) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("node %s not Ready after 1m (%v)", name, err)
		case <-tick.C:
		}
	}
	if _, err := nodes.Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"taints":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("untaint node %s: %v", name, err)
	}
}

// RemoveNode deletes a node, as a machine leaving the cluster would; its
// pods are deleted with it (kwok runs no kubelet to evict them).
func (cp *ControlPlane) RemoveNode(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := Client(t, cp.Kubeconfig)
	if err := c.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete node %s: %v", name, err)
	}
	pods, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + name})
	if err != nil {
		t.Fatalf("pods of node %s: %v", name, err)
	}
	zero := int64(0)
	for _, p := range pods.Items {
		_ = c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
