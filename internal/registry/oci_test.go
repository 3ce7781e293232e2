package registry_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/cache"
	"github.com/purserhq/purser/internal/registry"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// pushOCI writes a random image built at created to host/repo:tag and
// returns its digest.
func pushOCI(t *testing.T, host, repo, tag string, created time.Time) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: created}); err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// startRegistry runs an in-process OCI registry and returns its host.
func startRegistry(t *testing.T) (*httptest.Server, string) {
	srv := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "http://")
}

func TestOCITags(t *testing.T) {
	t.Parallel()
	_, host := startRegistry(t)
	digests := map[string]string{}
	for i, tag := range []string{"1.0.0", "1.2.0", "1.1.0", "latest"} {
		created := t0.Add(time.Duration(i) * time.Hour)
		if tag == "latest" {
			created = t0.Add(-time.Hour) // older than all: time, not name or push order, sorts
		}
		digests[tag] = pushOCI(t, host, "shop/web", tag, created)
	}
	src := &registry.Source{}
	ctx := context.Background()

	l, err := src.ImageTags(ctx, purser.TagQuery{Image: host + "/shop/web:1.0.0", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := []purser.ImageTag{
		{Name: "1.1.0", Pushed: t0.Add(2 * time.Hour), Digest: digests["1.1.0"]},
		{Name: "1.2.0", Pushed: t0.Add(time.Hour), Digest: digests["1.2.0"]},
		{Name: "1.0.0", Pushed: t0, Digest: digests["1.0.0"]},
		{Name: "latest", Pushed: t0.Add(-time.Hour), Digest: digests["latest"]},
	}
	if diff := cmp.Diff(want, l.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if l.Repository != host+"/shop/web" || l.Cached {
		t.Errorf("repository %q cached %v; want %s/shop/web, not cached", l.Repository, l.Cached, host)
	}

	l, err = src.ImageTags(ctx, purser.TagQuery{Image: host + "/shop/web", Limit: 2})
	if err != nil || len(l.Tags) != 2 || l.Tags[1].Name != "1.2.0" {
		t.Fatalf("limit 2: %+v, %v", l, err)
	}
	if _, err := src.ImageTags(ctx, purser.TagQuery{Image: host + "/shop/web", Limit: 101}); purser.ErrorCode(err) != purser.EINVALID {
		t.Fatalf("limit 101: %v, want EINVALID", err)
	}
	_, err = src.ImageTags(ctx, purser.TagQuery{Image: host + "/shop/none", Limit: 10})
	var re *purser.RegistryError
	if !errors.As(err, &re) || re.Registry != host || !strings.Contains(err.Error(), "NAME_UNKNOWN") {
		t.Fatalf("a missing repository: %v; want a RegistryError naming %s and NAME_UNKNOWN", err, host)
	}
}

// TestOCIPlainHTTPOnlyLoopback: a registry elsewhere than the loopback
// interface is never spoken to in plain HTTP, even one
// go-containerregistry would (a private address).
func TestOCIPlainHTTPOnlyLoopback(t *testing.T) {
	t.Parallel()
	src := &registry.Source{}
	_, err := src.ImageTags(context.Background(), purser.TagQuery{Image: "10.0.0.1:5000/app:1", Limit: 10})
	if err == nil || !strings.Contains(err.Error(), "plain HTTP to 10.0.0.1:5000 refused") {
		t.Fatalf("a private registry: %v; want plain HTTP refused", err)
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	srv, host := startRegistry(t)
	d1 := pushOCI(t, host, "app", "v1", t0)
	now := t0
	reg := prometheus.NewPedanticRegistry()
	set := cache.NewSet(cache.NewMemory(0), reg, nil)
	src := &registry.Source{Cache: registry.Shared(cache.New[registry.Entry](set, "image_tags", registry.DefaultStaleTTL)),
		NowFunc: func() time.Time { return now }, Metrics: set.Counter("image_tags")}
	ctx := context.Background()
	get := func() (*purser.TagList, error) {
		return src.ImageTags(ctx, purser.TagQuery{Image: host + "/app:v1", Limit: 10})
	}
	names := func(l *purser.TagList) string {
		var s []string
		for _, tg := range l.Tags {
			s = append(s, tg.Name)
		}
		return strings.Join(s, ",")
	}

	if l, err := get(); err != nil || l.Cached || names(l) != "v1" || l.Tags[0].Digest != d1 {
		t.Fatalf("first: %+v, %v; want v1 from the registry", l, err)
	}
	pushOCI(t, host, "app", "v2", t0.Add(time.Hour))
	if l, err := get(); err != nil || !l.Cached || names(l) != "v1" {
		t.Fatalf("within the TTL: %+v, %v; want the cached v1", l, err)
	}
	now = now.Add(registry.DefaultTTL)
	if l, err := get(); err != nil || l.Cached || names(l) != "v2,v1" {
		t.Fatalf("past the TTL: %+v, %v; want v2,v1 from the registry", l, err)
	}
	pushOCI(t, host, "app", "v3", t0.Add(2*time.Hour))
	src.InvalidateTags(ctx, host+"/app")
	if l, err := get(); err != nil || l.Cached || names(l) != "v3,v2,v1" {
		t.Fatalf("after InvalidateTags: %+v, %v; want v3,v2,v1 from the registry", l, err)
	}

	srv.Close()
	if l, err := get(); err != nil || !l.Cached || l.Warning != "" {
		t.Fatalf("registry down, within the TTL: %+v, %v; want the cache, no warning", l, err)
	}
	now = now.Add(registry.DefaultTTL + time.Second)
	l, err := get()
	if err != nil || !l.Cached || names(l) != "v3,v2,v1" || !strings.Contains(l.Warning, "the registry "+host+" failed") || !strings.Contains(l.Warning, "read 1m1s ago") {
		t.Fatalf("registry down, past the TTL: %+v, %v; want the cached tags with a warning", l, err)
	}
	src.InvalidateTags(ctx, host+"/app")
	var re *purser.RegistryError
	if _, err := get(); !errors.As(err, &re) {
		t.Fatalf("registry down, nothing cached: %v; want a RegistryError", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetName() == "cache" && m.GetLabel()[0].GetValue() == "image_tags" {
				counts[mf.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	if want := map[string]float64{"purser_cache_hits_total": 3, "purser_cache_misses_total": 4}; !cmp.Equal(want, counts) {
		t.Errorf("cache counters %v, want %v", counts, want)
	}
}

// TestECRByRoleNotImplemented: an ecs cluster that reaches AWS by a role
// says why its ECR images are not listed.
func TestECRByRoleNotImplemented(t *testing.T) {
	t.Parallel()
	src := &registry.Source{Cluster: func(context.Context, string) (*purser.Cluster, error) {
		return &purser.Cluster{Name: "prod", Kind: purser.ClusterECS, Region: "eu-west-1", RoleARN: "arn:aws:iam::123456789012:role/purser"}, nil
	}}
	_, err := src.ImageTags(context.Background(), purser.TagQuery{Cluster: "prod", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", Limit: 10})
	if purser.ErrorCode(err) != purser.ENOTIMPLEMENTED || !strings.Contains(purser.ErrorMessage(err), "give the cluster an access key") {
		t.Fatalf("ECR by role: %v; want ENOTIMPLEMENTED asking for an access key", err)
	}
}
