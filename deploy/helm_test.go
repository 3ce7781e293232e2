package deploy

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/k8stest"
)

var update = flag.Bool("update", false, "rewrite manifests/purser.yaml from the chart")

const chartDir = "helm/purser"

// manifestValues are the values deploy/manifests/purser.yaml is rendered
// with: the defaults, and secrets a user must replace (Purser refuses to
// start with CHANGE-ME as its secret_key, naming the key).
var manifestValues = map[string]any{"secret": map[string]any{
	"database":  "postgres://purser:CHANGE-ME@postgres:5432/purser?sslmode=require",
	"secretKey": "CHANGE-ME (head -c32 /dev/urandom | base64)",
}}

// everything turns every optional object on, the ServiceMonitor included.
var everything = map[string]any{
	"secret":         manifestValues["secret"],
	"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}},
	"publicURL":      "https://purser.example.com",
	"env":            map[string]any{"PURSER_LOG_FORMAT": "json", "PURSER_WORKERS_MAX": "20"},
}

// TestHelmLint lints the chart as `helm lint --strict` would, with the
// default values (and the secrets they require) and with every option on.
func TestHelmLint(t *testing.T) {
	for name, vals := range map[string]map[string]any{"Defaults": manifestValues, "Everything": everything} {
		t.Run(name, func(t *testing.T) {
			l := lint.All(chartDir, vals, "purser", false)
			for _, m := range l.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
	t.Run("SecretsRequired", func(t *testing.T) {
		if _, err := render(t, nil); err == nil || !strings.Contains(err.Error(), "secret.database") {
			t.Fatalf("rendering without secrets: %v; want secret.database named as required", err)
		}
	})
}

// render renders the chart as release "purser" in namespace "purser" and
// returns its manifests in Helm's install order.
func render(t *testing.T, vals map[string]any) ([]releaseutil.Manifest, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "purser", Namespace: "purser", IsInstall: true, Revision: 1}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	_, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	return manifests, err
}

// plain joins manifests into one file for kubectl apply.
func plain(manifests []releaseutil.Manifest) []byte {
	var b bytes.Buffer
	b.WriteString("# Purser for `kubectl apply -n NAMESPACE -f`: deploy/helm/purser rendered with its defaults.\n" +
		"# Generated: edit the chart, then `go test ./deploy -run TestManifests -update`.\n" +
		"# Replace the Secret's CHANGE-ME values first (or create the Secret yourself and drop it from here).\n")
	for _, m := range manifests {
		b.WriteString("---\n" + strings.TrimSpace(m.Content) + "\n")
	}
	return b.Bytes()
}

// TestManifests: manifests/purser.yaml is the chart rendered now.
func TestManifests(t *testing.T) {
	manifests, err := render(t, manifestValues)
	if err != nil {
		t.Fatal(err)
	}
	want := plain(manifests)
	path := filepath.Join("manifests", "purser.yaml")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not the chart rendered now: run go test ./deploy -run TestManifests -update", path)
	}
	kinds := map[string]bool{}
	for _, m := range manifests {
		kinds[m.Head.Kind] = true
	}
	for _, k := range []string{"Secret", "ServiceAccount", "Service", "Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy"} {
		if !kinds[k] {
			t.Errorf("the manifests have no %s", k)
		}
	}
}

// TestChartServerSideDryRun has a real API server accept every object the
// chart makes (all options on): create with dryRun=All, which runs
// validation and admission without storing anything. The ServiceMonitor is
// checked only where its CRD is installed.
func TestChartServerSideDryRun(t *testing.T) {
	k8stest.Require(t)
	cp := k8stest.Start(t)
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(cp.Kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName("purser")
	if _, err := dyn.Resource(corev1.SchemeGroupVersion.WithResource("namespaces")).Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, vals := range map[string]map[string]any{"Defaults": manifestValues, "Everything": everything} {
		t.Run(name, func(t *testing.T) {
			manifests, err := render(t, vals)
			if err != nil {
				t.Fatal(err)
			}
			accepted := 0
			for _, m := range manifests {
				var obj unstructured.Unstructured
				if err := yaml.Unmarshal([]byte(m.Content), &obj.Object); err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
				gvk := obj.GroupVersionKind()
				mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if meta.IsNoMatchError(err) && gvk.Kind == "ServiceMonitor" {
					t.Logf("%s: the ServiceMonitor CRD is not installed here; skipped", m.Name)
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
				var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
				if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
					ri = dyn.Resource(mapping.Resource).Namespace("purser")
				}
				if _, err := ri.Create(ctx, &obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err != nil {
					t.Errorf("%s (%s %s) refused by the API server: %v", m.Name, gvk.Kind, obj.GetName(), err)
					continue
				}
				accepted++
			}
			t.Logf("%d objects accepted by kube-apiserver %s (server-side dry run)", accepted, k8stest.Version)
		})
	}
}
