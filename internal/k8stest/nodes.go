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
