package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/k8stest"
)

// FluxKustomizations is Flux's published scaling figure that the
// Kubernetes stack benchmark is printed beside: 1 000 Kustomizations
// reconciled in 4 min 15 s (its setup and machine differ from this one).
const FluxKustomizations = 4*time.Minute + 15*time.Second

// k8sStackResult is the reconcile of n single-service stacks on a real
// control plane, from the first apply to the last revision applied.
type k8sStackResult struct {
	n            int
	register     time.Duration // n clusters registered (not timed in the figure)
	total        time.Duration // first apply sent -> last revision applied
	p50, p99     time.Duration // per stack: its apply sent -> its revision applied
	serverCPU    time.Duration // the purser process, during total
	machineCPU   time.Duration // every process of the machine, during total
	failed       int
	firstFailure string
	err          error
}

// runStackK8s starts the test control plane (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler, kwok nodes), a purser server
// process on SQLite with stackWorkers stacks rolled out at once, registers
// n kubernetes clusters on that API server (each its own stack namespace),
// then applies one single-service stackfile to each through the API from
// clients clients and waits until every revision is applied: its pod
// scheduled and ready, its Deployment available.
func runStackK8s(ctx context.Context, dir string, n, stackWorkers, clients int) k8stackOut {
	var out k8stackOut
	// k8stest serves tests; testing.Benchmark gives it a testing.TB and
	// stops the control plane when the function returns. The function
	// takes longer than the benchmark time, so it runs once.
	testing.Benchmark(func(b *testing.B) {
		if out.ran {
			return
		}
		out.ran = true
		if _, err := os.Stat(filepath.Join(k8stest.BinDir(), "kwok")); err != nil {
			out.r.err = fmt.Errorf("no kwok in %s (PURSER_K8S_BIN; tools/k8s/build.sh builds it): %w", k8stest.BinDir(), err)
			return
		}
		nodes := (n + 249) / 250
		cp := k8stest.StartWithNodes(b, k8stest.Nodes{Count: nodes, Pods: "300", CPU: "1000", Memory: "4000Gi"})
		out.r = stackK8s(ctx, dir, cp.Kubeconfig, n, stackWorkers, clients)
	})
	if !out.ran && out.r.err == nil {
		out.r.err = fmt.Errorf("the control plane did not start (see the messages above)")
	}
	return out
}

type k8stackOut struct {
	ran bool
	r   k8sStackResult
}

func stackK8s(ctx context.Context, dir, kubeconfig string, n, stackWorkers, clients int) (r k8sStackResult) {
	r.n = n
	bin := filepath.Join(dir, "purser-stack")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/purser").CombinedOutput(); err != nil {
		r.err = fmt.Errorf("go build: %v: %s", err, out)
		return r
	}
	srv, err := startServer(ctx, bin, filepath.Join(dir, "stack-data"), "PURSER_WORKERS_STACKS_MAX="+strconv.Itoa(stackWorkers))
	if err != nil {
		r.err = err
		return r
	}
	defer srv.stop()
	c := client.New(srv.url, srv.token)
	name := func(i int) string { return fmt.Sprintf("bench-%04d", i) }

	start := time.Now()
	if err := parallel(n, clients, func(i int) error {
		_, err := c.CreateCluster(ctx, client.ClusterCreate{Name: name(i), Kind: "kubernetes", Kubeconfig: kubeconfig,
			StackNamespace: name(i), HealthyDeadline: "10m"})
		return err
	}); err != nil {
		r.err = fmt.Errorf("registering the clusters: %w", err)
		return r
	}
	r.register = time.Since(start)

	stackfile := []byte("defaults:\n  memory: 64\nservices:\n  - web:\n      image: nginx:1.27\n      memory: 64\n      desired_count: 1\n")
	sent := make([]time.Time, n)
	cpu0, machine0 := procCPU(srv.pid()), machineCPU()
	start = time.Now()
	if err := parallel(n, clients, func(i int) error {
		sent[i] = time.Now()
		_, err := c.ApplyStack(ctx, name(i), stackfile, client.ApplyOptions{Message: "bench"})
		return err
	}); err != nil {
		r.err = fmt.Errorf("applying the stacks: %w", err)
		return r
	}
	done, err := waitApplied(ctx, c, n, 30*time.Minute)
	r.total = time.Since(start)
	r.serverCPU, r.machineCPU = procCPU(srv.pid())-cpu0, machineCPU()-machine0
	if err != nil {
		r.err = err
		return r
	}
	var lat []time.Duration
	for i := range n {
		m, ok := done[name(i)]
		switch {
		case !ok:
			r.failed++
		case m.failed != "":
			r.failed++
			if r.firstFailure == "" {
				r.firstFailure = name(i) + ": " + m.failed
			}
		default:
			lat = append(lat, m.at.Sub(sent[i]))
		}
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		r.p50, r.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
		// The last revision applied ends the run, not the last poll.
		last := time.Time{}
		for _, m := range done {
			if m.at.After(last) {
				last = m.at
			}
		}
		r.total = last.Sub(start)
	}
	return r
}

// parallel calls f(0..n-1) from clients goroutines; the first error wins.
func parallel(n, clients int, f func(int) error) error {
	var next atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := f(i); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := first.Load().(error); ok {
		return err
	}
	return nil
}

// mark is when a cluster's revision 1 ended, and why it failed.
type mark struct {
	at     time.Time
	failed string
}

// waitApplied reads the audit log's stack.mark events (each status change
// of a revision: applying, then applied or failed) until n revisions have
// ended, and returns when each cluster's did.
func waitApplied(ctx context.Context, c *client.Client, n int, within time.Duration) (map[string]mark, error) {
	deadline := time.Now().Add(within)
	for {
		done := map[string]mark{}
		after, number := "", 1
		for {
			o := client.ListOptions{Where: `{"action":"stack.mark"}`, MaxResults: 100, After: after, Total: "false"}
			if after == "" {
				o.Page = number
			}
			page, err := c.ListEvents(ctx, o)
			if err != nil {
				return nil, err
			}
			for _, e := range page.Items {
				status, _ := e.After["status"].(string)
				switch status {
				case "applied":
					done[e.TargetID] = mark{at: e.Created}
				case "failed":
					reason, _ := e.After["reason"].(string)
					done[e.TargetID] = mark{at: e.Created, failed: reason}
				}
			}
			if _, more := page.Links["next"]; !more {
				break
			}
			after, number = page.NextCursor(), number+1 // numbered when the list gives no cursor
		}
		if len(done) >= n {
			return done, nil
		}
		if time.Now().After(deadline) {
			return done, fmt.Errorf("%d of %d revisions ended after %s", len(done), n, within)
		}
		fmt.Fprintf(os.Stderr, "stack-k8s: %d of %d revisions ended\n", len(done), n)
		time.Sleep(3 * time.Second)
	}
}

// procCPU is a process's user and system CPU time (/proc/PID/stat).
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	b := string(raw)
	f := strings.Fields(b[strings.LastIndexByte(b, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// machineCPU is the CPU time every process of the machine used
// (/proc/stat: user, nice, system, irq, softirq, steal).
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / 100
}
