package k8stest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/k8stest"
)

// eventually polls check until it returns true or the deadline passes; the
// failure names what was awaited and check's last word.
func eventually(t *testing.T, timeout time.Duration, what string, check func(context.Context) (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ok, last := check(ctx)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s; last: %s", what, timeout, last)
		}
		<-tick.C
	}
}

func labels(app string) map[string]string { return map[string]string{"app": app} }

func podSpec(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels("web")},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}},
	}
}

func deployment(name, image string, replicas int32) *appsv1.Deployment {
	tmpl := podSpec(image)
	tmpl.Labels = labels(name)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels(name)},
			Template: tmpl},
	}
}

func TestWorkloadsRunOnKwokNodes(t *testing.T) {
	k8stest.RequireNodes(t)
	start := time.Now()
	cp := k8stest.StartWithNodes(t, k8stest.Nodes{Count: 2, CPU: "8", Memory: "32Gi"})
	t.Logf("control plane with %d kwok nodes up in %s", len(cp.NodeNames), time.Since(start).Round(time.Millisecond))
	cs := k8stest.Client(t, cp.Kubeconfig)
	ctx := context.Background()

	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 2 {
		t.Fatalf("%d nodes, want 2", len(nodes.Items))
	}
	for _, n := range nodes.Items {
		if got := n.Status.Allocatable.Cpu().String(); got != "8" {
			t.Errorf("node %s allocatable cpu %s, want 8", n.Name, got)
		}
		if got := n.Status.Allocatable.Memory().String(); got != "32Gi" {
			t.Errorf("node %s allocatable memory %s, want 32Gi", n.Name, got)
		}
	}

	t.Run("DeploymentBecomesAvailable", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		if _, err := cs.AppsV1().Deployments("default").Create(ctx, deployment("good", "nginx:1.27", 2), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "deployment good available", func(ctx context.Context) (bool, string) {
			d, err := cs.AppsV1().Deployments("default").Get(ctx, "good", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return d.Status.AvailableReplicas == 2, statusOf(d)
		})
		t.Logf("2 replicas available in %s", time.Since(start).Round(time.Millisecond))
		pods := podsOf(t, cs, "good")
		for _, p := range pods {
			if p.Status.Phase != corev1.PodRunning || !slices.Contains(cp.NodeNames, p.Spec.NodeName) || p.Status.PodIP == "" {
				t.Errorf("pod %s: phase %s on node %q with IP %q; want Running on a kwok node with an IP", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
			}
		}
	})

	t.Run("FailingImageNeverBecomesReady", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		d := deployment("bad", "nginx:fail-1", 1)
		deadline := int32(2)
		d.Spec.ProgressDeadlineSeconds = &deadline
		if _, err := cs.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// What a rollout watcher sees: the deployment stops progressing
		// without any ready replica, its pod crash-looping.
		eventually(t, 30*time.Second, "deployment bad past its progress deadline, its pod crash-looping", func(ctx context.Context) (bool, string) {
			d, err := cs.AppsV1().Deployments("default").Get(ctx, "bad", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if d.Status.ReadyReplicas != 0 || d.Status.AvailableReplicas != 0 {
				t.Fatalf("a failing pod counted ready: %s", statusOf(d))
			}
			exceeded := false
			for _, c := range d.Status.Conditions {
				exceeded = exceeded || c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded"
			}
			pods := podsOf(t, cs, "bad")
			if len(pods) != 1 || len(pods[0].Status.ContainerStatuses) != 1 {
				return false, fmt.Sprintf("%s; %d pods", statusOf(d), len(pods))
			}
			p := pods[0]
			c := p.Status.ContainerStatuses[0]
			crashing := !c.Ready && c.State.Waiting != nil && c.State.Waiting.Reason == "CrashLoopBackOff" && c.RestartCount > 0
			return exceeded && crashing, fmt.Sprintf("%s; pod %s phase %s, container %+v", statusOf(d), p.Name, p.Status.Phase, c)
		})
		t.Logf("progress deadline exceeded, pod crash-looping, in %s", time.Since(start).Round(time.Millisecond))
	})

	t.Run("DaemonSetRunsOnePodPerNode", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		ds := &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "agent"},
			Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels("agent")}, Template: podSpec("busybox:1.37")},
		}
		ds.Spec.Template.Labels = labels("agent")
		if _, err := cs.AppsV1().DaemonSets("default").Create(ctx, ds, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "daemonset agent ready on every node", func(ctx context.Context) (bool, string) {
			ds, err := cs.AppsV1().DaemonSets("default").Get(ctx, "agent", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			s := ds.Status
			return s.DesiredNumberScheduled == 2 && s.NumberReady == 2, daemonSetStatus(s)
		})
		t.Logf("daemonset ready on 2 nodes in %s", time.Since(start).Round(time.Millisecond))
		var on []string
		for _, p := range podsOf(t, cs, "agent") {
			on = append(on, p.Spec.NodeName)
		}
		slices.Sort(on)
		if !slices.Equal(on, cp.NodeNames) {
			t.Errorf("daemonset pods on nodes %v, want one on each of %v", on, cp.NodeNames)
		}
	})
}

func podsOf(t *testing.T, cs *kubernetes.Clientset, app string) []corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func statusOf(d *appsv1.Deployment) string {
	s := d.Status
	out := fmt.Sprintf("replicas %d, ready %d, available %d, conditions", s.Replicas, s.ReadyReplicas, s.AvailableReplicas)
	for _, c := range s.Conditions {
		out += fmt.Sprintf(" %s=%s(%s)", c.Type, c.Status, c.Reason)
	}
	return out
}

func daemonSetStatus(s appsv1.DaemonSetStatus) string {
	return fmt.Sprintf("desired %d, scheduled %d, ready %d", s.DesiredNumberScheduled, s.CurrentNumberScheduled, s.NumberReady)
}
