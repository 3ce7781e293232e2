package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/purserhq/purser/client"
)

// othersMetrics are the metric names the dashboard may name before the
// server exports them: the shared cache's, which issue 16's cache work
// brings beside the image tags' cache.
var othersMetrics = map[string]bool{"purser_cache_hits_total": true, "purser_cache_misses_total": true}

// TestDashboardAndAlertsNameExportedMetrics: every query of the Grafana
// dashboard and every alert rule (parsed by Prometheus's own rule parser)
// names only metrics that a running server, with pools, quotas, a
// Kubernetes cluster, requests and API traffic, exports on /metrics.
func TestDashboardAndAlertsNameExportedMetrics(t *testing.T) { eachStore(t, testDashboardAndAlerts) }

func testDashboardAndAlerts(t *testing.T, env ...string) {
	p := parser.NewParser(parser.Options{})
	queries := dashboardQueries(t)
	rules := alertRules(t, p)
	if len(queries) < 20 || len(rules) < 10 {
		t.Fatalf("%d dashboard queries and %d alert rules: the files were not read whole", len(queries), len(rules))
	}
	url, admin := serverWith(t, []string{"server", "--demo"}, append(env, "PURSER_SIM_ROLLOUT_TIME", "-1s")...)
	exercise(t, url, admin)
	exported := scrape(t, url)
	var ours []string
	for n := range exported {
		if strings.HasPrefix(n, "purser_") {
			ours = append(ours, n)
		}
	}
	sort.Strings(ours)
	t.Logf("purser_* metrics exported: %d (%s)", len(ours), strings.Join(ours, " "))
	check := func(where, expr string) {
		t.Helper()
		e, err := p.ParseExpr(strings.ReplaceAll(expr, "$__rate_interval", "5m"))
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", where, expr, err)
			return
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !exported[vs.Name] && !othersMetrics[vs.Name] {
				t.Errorf("%s names %s, which /metrics does not export", where, vs.Name)
			}
			return nil
		})
	}
	for title, exprs := range queries {
		for _, e := range exprs {
			check("panel "+title, e)
		}
	}
	for name, e := range rules {
		check("alert "+name, e)
	}
	for _, want := range []string{"purser_queue_lag_seconds", "purser_pool_cores", "purser_hosts", "purser_quota_used", "purser_quota_limit",
		"purser_cluster_certificate_expiry_timestamp_seconds", "purser_request_events_total", "purser_requests", "purser_pool_spares_wanted"} {
		if !exported[want] {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// dashboardQueries returns each panel's PromQL by title.
func dashboardQueries(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "purser-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("purser-dashboard.json: %v", err)
	}
	out := map[string][]string{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out[p.Title] = append(out[p.Title], tg.Expr)
		}
	}
	return out
}

// alertRules parses deploy/prometheus/alerts.yaml as Prometheus does and
// returns each alert's expression.
func alertRules(t *testing.T, p parser.Parser) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("alerts.yaml: %v", err)
	}
	out := map[string]string{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("rule %q: every rule is an alert with a severity and a summary", r.Alert)
			}
			out[r.Alert] = r.Expr
		}
	}
	return out
}

// exercise gives the server API traffic (answered and refused), a
// deployed request, hosts and a pool with a spare, and a Kubernetes
// cluster whose kubeconfig carries a client certificate.
func exercise(t *testing.T, url, admin string) {
	t.Helper()
	ctx := context.Background()
	c := client.New(url, admin)
	if _, err := c.ListUsers(ctx, client.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRequest(ctx, "nope"); client.StatusCode(err) != 404 {
		t.Fatalf("unknown request: %v", err)
	}
	r, err := c.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "dev-namespace", TTLHours: 1, ResourceParameters: map[string]any{"cpu": 1, "memory_gib": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitRequest(ctx, r.ID, nil, "DEPLOYED", "FAILED"); err != nil {
		t.Fatal(err)
	}
	jt, err := c.CreateJoinToken(ctx, client.JoinTokenCreate{Description: "metrics", Reusable: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"m1", "m2", "m3"} {
		if _, err := client.New(url, "").RegisterHost(ctx, client.HostRegistration{JoinToken: jt.Token, Name: n, Cores: 8, Memory: 16 << 30}); err != nil {
			t.Fatalf("register %s: %v", n, err)
		}
	}
	if out := mustAs(t, url, admin, "pools", "create", "web", "--cores", "16", "--memory", "32GiB", "--spares", "1"); !strings.Contains(out, "Pool web created") {
		t.Fatalf("pools create: %s", out)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(certKubeconfig(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	mustAs(t, url, admin, "clusters", "add", "prod", "--kubeconfig", kc)
	eventually(t, "the demo stack's revision applied", func() bool { return revisionStatus(t, url, admin, "demo-sim", 1) == "applied" })
	if err := c.ScanStackDrift(ctx, "demo-sim"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a drift scan recorded", func() bool { return scrape(t, url)["purser_stack_drift"] })
}

// certKubeconfig is a kubeconfig for a server that is not there, with a
// client certificate valid for 30 days.
func certKubeconfig(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "admin"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(typ string, b []byte) string {
		return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}))
	}
	return "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: " + b64("CERTIFICATE", der) +
		"\nusers:\n- name: u\n  user:\n    client-certificate-data: " + b64("CERTIFICATE", der) + "\n    client-key-data: " + b64("EC PRIVATE KEY", kder) +
		"\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"
}

// scrape returns the metric names /metrics exports (histograms' with their
// _bucket, _sum and _count suffixes, as queries name them).
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	text := strings.Builder{}
	text.WriteString("\n")
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		text.WriteString(line + "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if !names["purser_ops_facts_up"] || !strings.Contains(text.String(), "\npurser_ops_facts_up 1\n") {
		t.Fatal("/metrics: purser_ops_facts_up is not 1: the store's facts were not read")
	}
	return names
}
