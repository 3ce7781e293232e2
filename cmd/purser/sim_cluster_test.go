package main

import (
	"context"
	"strings"
	"testing"

	"github.com/purserhq/purser/client"
)

// TestSimClusterEndToEnd: a sim cluster is registered through the CLI
// with no credentials, shows reachable and simulated, and is checked
// again without reaching out; credentials given with it, or an unknown
// kind, are refused naming the field.
func TestSimClusterEndToEnd(t *testing.T) { eachStore(t, testSimCluster) }

func testSimCluster(t *testing.T, env ...string) {
	url, token := server(t, env...)
	code, out, errOut := cli(t, "clusters", "add", "sim1", "--kind", "sim", "--description", "demo", "--server", url, "--token", token)
	if code != 0 || !strings.Contains(out, "sim1") || !strings.Contains(out, "sim") || !strings.Contains(out, "yes") || !strings.Contains(out, "simulated") {
		t.Fatalf("clusters add --kind sim: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := cli(t, "clusters", "get", "sim1", "--server", url, "--token", token); code != 0 || !strings.Contains(out, "simulated") {
		t.Fatalf("clusters get sim1: %d\n%s%s", code, out, errOut)
	}
	ctx := context.Background()
	admin := client.New(url, token)
	l, err := admin.ListClusters(ctx, client.ListOptions{Where: `{"kind":"sim"}`})
	if err != nil || len(l.Items) != 1 || l.Items[0].Kind != "sim" || l.Items[0].Server != "" || l.Items[0].Version != "simulated" {
		t.Fatalf("list sim clusters: %+v (%v)", l, err)
	}
	_, err = admin.CreateCluster(ctx, client.ClusterCreate{Name: "sim2", Kind: "sim", Token: "t", Server: "https://example.test"})
	if err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "no credentials") {
		t.Fatalf("a sim cluster with credentials: %v", err)
	}
	if code, _, errOut := cli(t, "clusters", "add", "k1", "--server", url, "--token", token); code == 0 || !strings.Contains(errOut, "kubeconfig") {
		t.Fatalf("a kubernetes cluster without credentials: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, "clusters", "add", "e1", "--kind", "nomad", "--server", url, "--token", token); code == 0 || !strings.Contains(errOut, "kind") {
		t.Fatalf("an unknown kind: %d %s", code, errOut)
	}
}
