package sim

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/purserhq/purser"
)

func TestIdempotentAndDurable(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	env := purser.Environment{RequestID: "r1", Owner: "bbb"}
	out1, err := d.Provision(context.Background(), env)
	if err != nil || out1["simulated"] == "" {
		t.Fatalf("provision: %v %v", out1, err)
	}
	// A new process replays the ledger and converges on the same environment.
	d2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	out2, err := d2.Provision(context.Background(), env)
	if err != nil || out2["password"] != out1["password"] {
		t.Fatalf("second provision made another environment: %v vs %v (%v)", out2, out1, err)
	}
	if err := d2.Destroy(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if err := d2.Destroy(context.Background(), env); err != nil {
		t.Fatalf("destroying twice: %v", err)
	}
	entries, _ := ReadLedger(dir + "/ledger.jsonl")
	var results []string
	for _, e := range entries {
		results = append(results, e.Op+":"+e.Result)
	}
	want := "provision:created provision:existed destroy:destroyed destroy:absent"
	if got := join(results); got != want {
		t.Fatalf("ledger %q, want %q", got, want)
	}
}

func TestFailureRate(t *testing.T) {
	d, _ := Open(t.TempDir())
	_, err := d.Provision(context.Background(), purser.Environment{RequestID: "r", Config: map[string]any{"failure_rate": 1.0}})
	if err == nil {
		t.Fatal("failure_rate 1 succeeded")
	}
	if d.Exists("r") {
		t.Fatal("a failed provision left an environment")
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// A simulated KUBERNETES environment has a kubeconfig that kubectl can
// load and that says, everywhere it can, that it is simulated; other
// resource types have none.
func TestKubeconfigLabelledSimulated(t *testing.T) {
	d, _ := Open(t.TempDir())
	out, err := d.Provision(context.Background(), purser.Environment{RequestID: "r1", Owner: "bbb", ResourceType: "KUBERNETES"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load([]byte(out["kubeconfig"]))
	if err != nil {
		t.Fatalf("kubeconfig does not load: %v\n%s", err, out["kubeconfig"])
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if cfg.CurrentContext != "purser-simulated" || ctx == nil || ctx.Namespace != "sim-r1" || ctx.AuthInfo != "bbb" ||
		cfg.Clusters[ctx.Cluster].Server != "https://sim.invalid" || cfg.AuthInfos["bbb"].Token != out["password"] {
		t.Fatalf("kubeconfig:\n%s", out["kubeconfig"])
	}
	if !strings.HasPrefix(out["kubeconfig"], "# SIMULATED") {
		t.Fatalf("kubeconfig does not say it is simulated:\n%s", out["kubeconfig"])
	}
	bucket, err := d.Provision(context.Background(), purser.Environment{RequestID: "r2", Owner: "bbb", ResourceType: "S3BUCKET"})
	if err != nil || bucket["kubeconfig"] != "" {
		t.Fatalf("an S3BUCKET has a kubeconfig: %v %v", bucket, err)
	}
}
