package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/k8stest"
)

// kwokJoin and kwokLeave are a pool's hooks for a test control plane: the
// join registers the host as a Node that kwok manages (it makes it
// Ready), the leave deletes it. Both reach the API server the pool's
// cluster names ({{ server }}) with the admin kubeconfig given.
const (
	kwokJoin = `#!/bin/sh
set -e
kc=$1 server=$2 host=$3 pool=$4
echo "registering $host in pool $pool at $server"
kubectl --kubeconfig "$kc" --server "$server" apply -f - <<NODE
apiVersion: v1
kind: Node
metadata:
  name: $host
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: $host, type: kwok, purser.dev/pool: $pool}
status:
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
NODE
`
	kwokLeave = `#!/bin/sh
set -e
kubectl --kubeconfig "$1" --server "$2" delete node "$3" --ignore-not-found
`
)

// agentProcess is `purser agent` in a child process (the test binary as
// purser), so that it can be killed with SIGKILL.
type agentProcess struct{ cmd *exec.Cmd }

func startAgentProcess(t *testing.T, url, joinToken, name string) *agentProcess {
	t.Helper()
	args := []string{"agent", "--server", url, "--join-token", joinToken, "--name", name, "--interval", "200ms", "--cores", "8", "--memory", "32GiB"}
	if os.Geteuid() == 0 {
		args = append(args, "--run-as", "purser-exec")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PURSER_TEST_AS_BINARY=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &agentProcess{cmd}
}

func (a *agentProcess) kill9(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
}

// poolNodes lists the control plane's nodes of pool, by name.
func poolNodes(t *testing.T, kube *kubernetes.Clientset, pool string) string {
	t.Helper()
	l, err := kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: "purser.dev/pool=" + pool})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range l.Items {
		out = append(out, n.Name)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// TestPoolOnKubernetes is issue 14's "done when": agents (child processes)
// join a server; a pool whose cluster is a real test control plane is
// created, resized and destroyed, its join and leave hooks registering and
// deleting the hosts as Nodes (managed by kwok), seen through the
// Kubernetes API; kill -9 of a member's agent makes it SUSPECT, then
// UNHEALTHY, and the spare replaces it (its join hook makes its Node), the
// admins told; killing half of the pool's agents halts remediation and
// pages the admins with the reason.
func TestPoolOnKubernetes(t *testing.T) {
	k8stest.RequireNodes(t)
	cp := k8stest.StartWithNodes(t, k8stest.Nodes{Count: 1})
	eachStore(t, func(t *testing.T, env ...string) { testPoolOnKubernetes(t, cp, env...) })
}

func testPoolOnKubernetes(t *testing.T, cp *k8stest.ControlPlane, env ...string) {
	url, admin := server(t, append(env, "PURSER_POOLS_SUSPECT_AFTER", "1s", "PURSER_POOLS_UNHEALTHY_AFTER", "3s",
		"PURSER_POOLS_SWEEP_EVERY", "200ms", "PURSER_POOLS_JOIN_TIMEOUT", "30s")...)
	ctx := context.Background()
	c := client.New(url, admin)
	must := func(args ...string) string { t.Helper(); return mustAs(t, url, admin, args...) }
	kube := k8stest.Client(t, cp.Kubeconfig)
	prefix := strings.ToLower(t.Name()[strings.LastIndex(t.Name(), "/")+1:])[:1] // s or p: both stores share the control plane

	dir := hookDir(t)
	kc := filepath.Join(dir, "kubeconfig")
	for name, body := range map[string]string{kc: cp.Kubeconfig, filepath.Join(dir, "join.sh"): kwokJoin, filepath.Join(dir, "leave.sh"): kwokLeave} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, 0o644); err != nil { // readable by the hooks' user, whatever the umask
			t.Fatal(err)
		}
	}
	hook := func(script string) string {
		b, _ := json.Marshal([]string{"/bin/sh", filepath.Join(dir, script), kc, "{{ server }}", "{{ host }}", "{{ pool }}"})
		return string(b)
	}
	must("clusters", "add", prefix+"-pools", "--kubeconfig", kc)

	var tok client.NewJoinToken
	if err := json.Unmarshal([]byte(must("join-tokens", "create", "--reusable", "-o", "json")), &tok); err != nil {
		t.Fatal(err)
	}
	h := func(i int) string { return prefix + "-h" + string(rune('0'+i)) }
	agents := map[string]*agentProcess{}
	for i := 1; i <= 6; i++ {
		agents[h(i)] = startAgentProcess(t, url, tok.Token, h(i))
	}
	eventually(t, "six hosts registered", func() bool {
		l, err := c.ListHosts(ctx, client.ListOptions{Where: `{"state":"READY"}`})
		return err == nil && len(l.Items) == 6
	})

	// Create, grow, shrink, destroy: the nodes come and go.
	web := prefix + "-web"
	must("pools", "create", web, "--cores", "16", "--memory", "64GiB", "--cluster", prefix+"-pools",
		"--join-hook", hook("join.sh"), "--leave-hook", hook("leave.sh"))
	eventually(t, "two nodes", func() bool { return poolNodes(t, kube, web) == h(1)+","+h(2) })
	eventually(t, "kwok made "+h(1)+" Ready", func() bool {
		n, err := kube.CoreV1().Nodes().Get(ctx, h(1), metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	})
	must("pools", "resize", web, "--cores", "24", "--memory", "96GiB")
	eventually(t, "three nodes", func() bool { return poolNodes(t, kube, web) == h(1)+","+h(2)+","+h(3) })
	must("pools", "resize", web, "--cores", "16", "--memory", "64GiB", "--yes")
	eventually(t, "two nodes again", func() bool { return strings.Count(poolNodes(t, kube, web), ",") == 1 })
	must("pools", "destroy", web, "--yes")
	eventually(t, "no node, no pool", func() bool {
		_, err := c.GetPool(ctx, web)
		return poolNodes(t, kube, web) == "" && client.StatusCode(err) == 404
	})

	// Self-healing: four members and a spare.
	heal := prefix + "-heal"
	must("pools", "create", heal, "--cores", "32", "--memory", "128GiB", "--spares", "1", "--cluster", prefix+"-pools",
		"--join-hook", hook("join.sh"), "--leave-hook", hook("leave.sh"))
	p, err := c.GetPool(ctx, heal)
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	spare := ""
	for _, ph := range p.Hosts {
		if ph.Spare {
			spare = ph.Name
		} else {
			members = append(members, ph.Name)
		}
	}
	eventually(t, "four nodes", func() bool { return poolNodes(t, kube, heal) == strings.Join(members, ",") })
	if spare == "" || strings.Contains(poolNodes(t, kube, heal), spare) {
		t.Fatalf("spare %q is a node before it replaces anyone", spare)
	}

	victim := members[0]
	agents[victim].kill9(t)
	eventually(t, victim+" SUSPECT", func() bool {
		hh, err := c.GetHost(ctx, victim)
		return err == nil && (hh.State == "SUSPECT" || hh.State == "UNHEALTHY")
	})
	eventually(t, "the spare's node joined", func() bool { return strings.Contains(poolNodes(t, kube, heal), spare) })
	eventually(t, "admins told of the replacement", func() bool {
		l, err := c.Inbox(ctx, false, client.ListOptions{Where: `{"event":"pool.replace"}`})
		return err == nil && len(l.Items) > 0 && strings.Contains(l.Items[0].Title, victim+" replaced by "+spare)
	})
	if hh, _ := c.GetHost(ctx, victim); hh.State != "UNHEALTHY" || hh.Pool != "" {
		t.Fatalf("%s after its replacement: %+v", victim, hh)
	}

	// Half of the pool's agents die: remediation halts and pages. (The
	// last free host goes under maintenance first: were the two to turn
	// unhealthy in two sweeps, the first would be replaced by it.)
	free, err := c.ListHosts(ctx, client.ListOptions{Where: `{"state":"READY","pool":""}`})
	if err != nil || len(free.Items) != 1 {
		t.Fatalf("free hosts: %v %+v", err, free)
	}
	must("hosts", "maintenance", free.Items[0].Name)
	agents[members[1]].kill9(t)
	agents[members[2]].kill9(t)
	eventually(t, "remediation halted", func() bool {
		p, err := c.GetPool(ctx, heal)
		return err == nil && p.Halted && p.Status == "halted: 2 of 4 unhealthy > 40 %"
	})
	eventually(t, "admins paged with the reason", func() bool {
		l, err := c.Inbox(ctx, false, client.ListOptions{Where: `{"event":"pool.heal_halted"}`})
		return err == nil && len(l.Items) > 0 && strings.Contains(l.Items[0].Description, "halted: 2 of 4 unhealthy > 40 %")
	})
}
