package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8s "k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/k8stest"
)

// TestPoolAutoscaling, on a real control plane registered as the pool's
// cluster, whose kwok nodes are named after the hosts (the test plays the
// agents' join and leave hooks: a
// member's node is added, a released host's removed): a pod that cannot
// be scheduled scales the pool up; a drain a disruption budget refuses
// says so in the pool's and the host's status, then is forced at its
// deadline; an idle pool scales down after the (short) window, to its
// minimum, and says why it goes no further; a pod filling the node past
// the high-water mark scales it up only once utilisation stayed high for
// pools.scale_up_after.
func TestPoolAutoscaling(t *testing.T) { eachStore(t, testPoolAutoscaling) }

func testPoolAutoscaling(t *testing.T, env ...string) {
	cp := k8stest.StartWithNodes(t, k8stest.Nodes{Count: 1})
	cp.RemoveNode(t, "kwok-node-0")
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(cp.Kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	url, admin := serverHooked(t, hooks{}, []string{"server"}, append(env, "PURSER_POOLS_SWEEP_EVERY", "250ms",
		"PURSER_POOLS_SCALE_DOWN_AFTER", "2s", "PURSER_POOLS_SCALE_UP_COOLDOWN", "2s", "PURSER_POOLS_SCALE_UP_AFTER", "3s")...)
	ctx := context.Background()
	c := client.New(url, admin)
	kc := k8stest.Client(t, cp.Kubeconfig)
	var tok client.NewJoinToken
	if err := json.Unmarshal([]byte(mustAs(t, url, admin, "join-tokens", "create", "--reusable", "-o", "json")), &tok); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		startAgent(t, url, tok.Token, n, "--cores", "4", "--memory", "8GiB")
	}
	eventually(t, "three hosts registered", func() bool {
		l, err := c.ListHosts(ctx, client.ListOptions{Where: `{"state":"READY"}`})
		return err == nil && len(l.Items) == 3
	})
	// The pool's control plane: the test's API server, registered as a
	// cluster; the server reads usage and evicts through it.
	mustAs(t, url, admin, "clusters", "add", "web-cp", "--kubeconfig", kubeconfig)
	mustAs(t, url, admin, "pools", "create", "web", "--cluster", "web-cp", "--cores", "4", "--memory", "8GiB", "--min-hosts", "1", "--max-hosts", "3")

	// hooks plays the join and leave hooks: the pool's members have nodes.
	hooks := func() *client.Pool {
		p, err := c.GetPool(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var have, want []string
		for _, n := range nodes.Items {
			have = append(have, n.Name)
		}
		for _, h := range p.Hosts {
			want = append(want, h.Name)
			if !slices.Contains(have, h.Name) {
				cp.AddNamedNode(t, h.Name, "4", "8Gi")
			}
		}
		for _, n := range have {
			if !slices.Contains(want, n) {
				cp.RemoveNode(t, n)
			}
		}
		return p
	}
	members := func(p *client.Pool) string {
		var out []string
		for _, h := range p.Hosts {
			out = append(out, h.Name)
		}
		return strings.Join(out, ",")
	}
	eventually(t, "n1 a node", func() bool { return members(hooks()) == "n1" })

	// Two pods of 3 cores: one fits n1, the other waits; n2 joins for it.
	big := map[string]string{"app": "big"}
	for _, name := range []string{"big-1", "big-2"} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: big},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3"), corev1.ResourceMemory: resource.MustParse("1Gi")}}}}}}
		if _, err := kc.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "scaled up: both pods running", func() bool {
		p := hooks()
		return members(p) == "n1,n2" && podRunning(t, kc, "big-1") && podRunning(t, kc, "big-2")
	})
	inbox(t, c, "pool.scale_up", "n2 joined")

	// A budget refuses the drain of big-2's node: both statuses say so,
	// until the deadline forces it.
	two := intstr.FromInt32(2)
	if _, err := kc.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "big-pdb"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &two, Selector: &metav1.LabelSelector{MatchLabels: big}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	node := "n2"
	if pod, _ := kc.CoreV1().Pods("default").Get(ctx, "big-2", metav1.GetOptions{}); pod.Spec.NodeName != "n2" {
		node = "n1" // the scheduler took n2 for big-1 (it came first)
	}
	mustAs(t, url, admin, "pools", "drain", "web", node, "--deadline", "6s")
	refused := "disruption budget big-pdb refused eviction of default/big-"
	eventually(t, "the drain says why it waits", func() bool {
		p := hooks()
		return strings.Contains(p.Status, "drain of "+node+" waits: "+refused)
	})
	out := mustAs(t, url, admin, "pools", "get", "web")
	if !strings.Contains(out, refused) || !strings.Contains(out, "DRAINING") {
		t.Fatalf("pools get does not say why the drain waits:\n%s", out)
	}
	t.Logf("pools get web, while the drain waits:\n%s", out)
	eventually(t, "the drain forced at its deadline", func() bool {
		h, err := c.GetHost(ctx, node)
		return err == nil && h.Pool == "" && strings.Contains(h.Reason, "deleted by force")
	})

	// n3 joins by hand; the pods go: after the window the idle pool
	// shrinks to its minimum, and says why it goes no further.
	mustAs(t, url, admin, "pools", "add-node", "web", "n3")
	for _, name := range []string{"big-1", "big-2"} {
		zero := int64(0)
		_ = kc.CoreV1().Pods("default").Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}
	eventually(t, "scaled down to its minimum, saying why no further", func() bool {
		p := hooks()
		return len(p.Hosts) == 1 && strings.HasSuffix(p.ScaleStatus, "at its minimum of 1 hosts")
	})
	inbox(t, c, "pool.scale_down", "left")
	t.Logf("pools get web, scaled down:\n%s", mustAs(t, url, admin, "pools", "get", "web"))

	// A pod that fits but fills the node past the high-water mark: no
	// scale-up until utilisation has stayed high for the window (3 s).
	hot := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hot", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3"), corev1.ResourceMemory: resource.MustParse("7Gi")}}}}}}
	if _, err := kc.CoreV1().Pods("default").Create(ctx, hot, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "high utilisation waits for its window", func() bool {
		p := hooks()
		return len(p.Hosts) == 1 && strings.HasPrefix(p.ScaleStatus, "no scale-up (utilisation 88 % above 80 %): high for ") && strings.HasSuffix(p.ScaleStatus, " of 3s")
	})
	t.Logf("pools get web, utilisation high:\n%s", mustAs(t, url, admin, "pools", "get", "web"))
	eventually(t, "scaled up after utilisation stayed high", func() bool { return len(hooks().Hosts) == 2 })
	eventually(t, "admins told of the scale-up for utilisation", func() bool {
		l, err := c.Inbox(ctx, false, client.ListOptions{Where: `{"event":"pool.scale_up"}`})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range l.Items {
			if strings.Contains(n.Description, "utilisation 88 % above 80 %") {
				return true
			}
		}
		return false
	})
}

func podRunning(t *testing.T, kc *k8s.Clientset, name string) bool {
	t.Helper()
	pod, err := kc.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	return err == nil && pod.Spec.NodeName != "" && pod.Status.Phase == corev1.PodRunning
}

// inbox waits for a notification of event whose title contains title.
func inbox(t *testing.T, c *client.Client, event, title string) {
	t.Helper()
	eventually(t, "admins told: "+event, func() bool {
		l, err := c.Inbox(context.Background(), false, client.ListOptions{Where: `{"event":"` + event + `"}`})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range l.Items {
			if strings.Contains(n.Title, title) {
				return true
			}
		}
		return false
	})
}
