// Package k8stest runs a real Kubernetes control plane for tests: etcd,
// kube-apiserver (RBAC, TokenRequest, a static admin token) and
// kube-controller-manager (so that deleted namespaces really go away), as
// processes on 127.0.0.1. StartWithNodes adds kube-scheduler and kwok,
// which simulates nodes and the pods on them, so that workloads run: a
// Deployment becomes available, and a pod whose image tag starts with
// "fail-" crash-loops (testdata/pod-fail.yaml). The binaries are built from
// the Go module proxy by tools/k8s/build.sh into a cache outside the
// repository.
package k8stest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Version is the Kubernetes version the harness builds and runs.
const Version = "v1.37.1"

// BinDir returns where the binaries are: $PURSER_K8S_BIN, else the cache
// tools/k8s/build.sh fills.
func BinDir() string {
	if d := os.Getenv("PURSER_K8S_BIN"); d != "" {
		return d
	}
	home, _ := os.UserCacheDir()
	return filepath.Join(home, "purser-k8s", Version)
}

// Require returns the binaries' directory, or skips the test when they are
// not built (and fails it under CI, whose .ci/run builds them).
func Require(t testing.TB) string {
	t.Helper()
	return require(t, "etcd", "kube-apiserver", "kube-controller-manager")
}

// RequireNodes is Require for StartWithNodes: it also needs kube-scheduler,
// kwok and kwok's stages.
func RequireNodes(t testing.TB) string {
	t.Helper()
	return require(t, "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok",
		filepath.Join("kwok-stages", "pod-ready.yaml"))
}

func require(t testing.TB, binaries ...string) string {
	t.Helper()
	dir := BinDir()
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not built in %s (.ci/run runs tools/k8s/build.sh)", b, dir)
			}
			t.Skipf("Kubernetes binaries are not built in %s: run tools/k8s/build.sh", dir)
		}
	}
	return dir
}

// ControlPlane is a running control plane.
type ControlPlane struct {
	URL        string
	AdminToken string
	CA         []byte
	// Kubeconfig is an admin kubeconfig for it.
	Kubeconfig string
	// NodeNames are the kwok nodes StartWithNodes made, in order.
	NodeNames []string
	procs     []*exec.Cmd
	dir       string
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (cp *ControlPlane) start(t testing.TB, dir, name string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(BinDir(), name), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	cp.procs = append(cp.procs, cmd)
}

// Stop stops the processes and removes their files.
func (cp *ControlPlane) Stop() {
	if cp == nil {
		return
	}
	for i := len(cp.procs) - 1; i >= 0; i-- {
		p := cp.procs[i]
		_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		_ = p.Wait()
	}
	cp.procs = nil
	if cp.dir != "" {
		_ = os.RemoveAll(cp.dir)
	}
}

// waitFor polls url until it answers 200 or the deadline passes.
func waitFor(t testing.TB, c *http.Client, url, token string, timeout time.Duration, logFile string) {
	t.Helper()
	waitForBody(t, c, url, token, "", timeout, logFile)
}

// Start starts a control plane that stops when the test ends.
func Start(t testing.TB) *ControlPlane {
	t.Helper()
	cp := startIn(t, nil)
	t.Cleanup(cp.Stop)
	return cp
}

// StartShared starts a control plane that outlives the test starting it,
// for several tests of a package to share: call Stop from TestMain.
func StartShared(t testing.TB) *ControlPlane {
	t.Helper()
	return startIn(t, nil)
}

// Nodes describes the fake nodes StartWithNodes makes.
type Nodes struct {
	// Count is how many nodes; 1 when zero.
	Count int
	// CPU, Memory and Pods are each node's capacity and allocatable
	// (quantities: "8", "32Gi", "110"); "8", "32Gi" and "110" when empty.
	CPU, Memory, Pods string
}

// StartWithNodes starts a control plane where pods run: Start's, plus the
// deployment, replicaset, daemonset and statefulset controllers,
// kube-scheduler, and kwok managing n.Count fake Ready nodes named
// kwok-node-0, kwok-node-1... A pod becomes Running and Ready about at
// once, unless one of its containers' image tag starts with "fail-"
// (nginx:fail-1): then it is Running, never ready, its containers waiting
// in CrashLoopBackOff. It stops when the test ends.
func StartWithNodes(t testing.TB, n Nodes) *ControlPlane {
	t.Helper()
	cp := startIn(t, &n)
	t.Cleanup(cp.Stop)
	return cp
}

// StartSharedWithNodes is StartWithNodes for a control plane that outlives
// the test starting it: call Stop from TestMain.
func StartSharedWithNodes(t testing.TB, n Nodes) *ControlPlane {
	t.Helper()
	return startIn(t, &n)
}

func startIn(t testing.TB, nodes *Nodes) (cp *ControlPlane) {
	t.Helper()
	if nodes != nil {
		RequireNodes(t)
	} else {
		Require(t)
	}
	dir, err := os.MkdirTemp("", "purser-k8s-")
	if err != nil {
		t.Fatal(err)
	}
	cp = &ControlPlane{AdminToken: "purser-admin-" + strconv.FormatInt(time.Now().UnixNano(), 36), dir: dir}
	defer func() {
		if t.Failed() {
			cp.Stop()
		}
	}()

	etcdPort, peerPort := freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	cp.start(t, dir, "etcd", "--data-dir", filepath.Join(dir, "etcd"), "--name", "default",
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", peerPort),
		"--unsafe-no-fsync", "--quota-backend-bytes", "1073741824")
	waitFor(t, http.DefaultClient, etcdURL+"/health", "", time.Minute, filepath.Join(dir, "etcd.log"))

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	saKey := write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	saPub := write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	tokens := write("tokens.csv", []byte(cp.AdminToken+",admin,admin-uid,system:masters\n"))
	certDir := filepath.Join(dir, "certs")
	port := freePort(t)
	cp.URL = fmt.Sprintf("https://127.0.0.1:%d", port)
	cp.start(t, dir, "kube-apiserver", "--etcd-servers", etcdURL, "--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1", "--secure-port", strconv.Itoa(port), "--cert-dir", certDir,
		"--endpoint-reconciler-type=none", "--token-auth-file", tokens, "--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", saPub,
		"--service-account-signing-key-file", saKey, "--service-cluster-ip-range", "10.0.0.0/24",
		"--enable-priority-and-fairness=false", "--watch-cache=false")
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the cert is made by the apiserver under test
	waitFor(t, insecure, cp.URL+"/readyz", cp.AdminToken, 2*time.Minute, filepath.Join(dir, "kube-apiserver.log"))
	if cp.CA, err = os.ReadFile(filepath.Join(certDir, "apiserver.crt")); err != nil {
		t.Fatal(err)
	}
	cp.Kubeconfig = Kubeconfig(cp.URL, cp.CA, cp.AdminToken, "default")
	kcm := write("admin.kubeconfig", []byte(cp.Kubeconfig))
	controllers := "namespace-controller,garbage-collector-controller,serviceaccount-controller,clusterrole-aggregation-controller,resourcequota-controller"
	if nodes != nil {
		controllers += ",deployment-controller,replicaset-controller,daemonset-controller,statefulset-controller"
	}
	cp.start(t, dir, "kube-controller-manager", "--kubeconfig", kcm, "--leader-elect=false",
		"--controllers", controllers, "--secure-port", "0",
		"--use-service-account-credentials=false")
	// Ready when the controllers have aggregated the built-in roles (edit
	// is empty until then) and the default namespace's service account
	// machinery runs.
	waitForBody(t, insecure, cp.URL+"/apis/rbac.authorization.k8s.io/v1/clusterroles/edit", cp.AdminToken, `"configmaps"`,
		2*time.Minute, filepath.Join(dir, "kube-controller-manager.log"))
	if nodes != nil {
		cp.startNodes(t, kcm, *nodes)
	}
	return cp
}

// waitForBody polls url until it answers 200 with a body containing want.
func waitForBody(t testing.TB, c *http.Client, url, token, want string, timeout time.Duration, logFile string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if resp, err := c.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				return
			}
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(logFile)
			if len(log) > 4000 {
				log = log[len(log)-4000:]
			}
			t.Fatalf("%s never showed %s in %s; the log ends:\n%s", url, want, timeout, log)
		case <-tick.C:
		}
	}
}

// Kubeconfig returns a kubeconfig for a server, CA and token.
func Kubeconfig(server string, ca []byte, token, ns string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: test
  user:
    token: %s
contexts:
- name: test
  context: {cluster: test, user: test, namespace: %s}
current-context: test
`, server, b64(ca), token, ns)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Client returns a clientset acting with a kubeconfig (an admin's, or one
// Purser issued).
func Client(t testing.TB, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
