package api_test

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awstest"
	"github.com/purserhq/purser/internal/registry"
	"github.com/purserhq/purser/internal/sqldb"
)

// pushImage writes a random image built at created to ref and returns its
// digest.
func pushImage(t *testing.T, ref string, created time.Time) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: created}); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return d.String()
}

// clock is a test's clock, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// withTags gives e's API the tag source cmd/purser wires, on a clock the
// test moves.
func withTags(e *env) *clock {
	clk := &clock{now: time.Now()}
	clusters := sqldb.NewClusterService(e.db)
	e.api.Tags = &registry.Source{Cache: registry.NewMemoryCache(0, 0), NowFunc: clk.Now,
		Cluster: func(ctx context.Context, name string) (*purser.Cluster, error) {
			return clusters.ClusterToCheck(purser.SystemContext(ctx), name)
		}}
	return clk
}

func TestStackTagsAPI(t *testing.T) { eachStore(t, testStackTagsAPI) }

func testStackTagsAPI(t *testing.T, open store) {
	e := newEnv(t, open)
	clk := withTags(e)
	reg := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	d := map[string]string{}
	for i, tag := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		d[tag] = pushImage(t, host+"/shop/web:"+tag, t0.Add(time.Duration(i)*time.Hour))
	}
	pushImage(t, host+"/shop/worker:1", t0)

	e.want(e.do("devops", "POST", "/v1/clusters", map[string]any{"name": "staging", "kind": "sim"}), 201)
	e.want(e.do("dev", "GET", "/v1/clusters/staging/services/web/tags", nil), 404) // no stack yet
	stack := "defaults:\n  memory: 256\nservices:\n" +
		"  - web:\n      image: " + host + "/shop/web:1.0.0\n" +
		"  - worker:\n      image: " + host + "/shop/worker:1\n" +
		"  - api:\n      image: " + awstest.Account + ".dkr.ecr.us-east-1.amazonaws.com/api:v1\n"
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/config", stack, "Content-Type", "application/yaml"), 202)

	get := func(path string, status int, cache string) map[string]any {
		t.Helper()
		r := e.do("dev", "GET", path, nil)
		body := e.want(r, status)
		if got := r.Header.Get("X-Cache"); got != cache {
			t.Fatalf("%s: X-Cache %q, want %q", path, got, cache)
		}
		return body
	}
	tags := func(body map[string]any) string {
		var s []string
		for _, it := range body["_items"].([]any) {
			s = append(s, it.(map[string]any)["name"].(string))
		}
		return strings.Join(s, ",")
	}

	// The first answer is the registry's; the second, the cache's.
	body := get("/v1/clusters/staging/services/web/tags", 200, "MISS")
	if tags(body) != "1.2.0,1.1.0,1.0.0" || body["cache"] != false || body["repository"] != host+"/shop/web" {
		t.Fatalf("first listing: %v", body)
	}
	newest := body["_items"].([]any)[0].(map[string]any)
	if newest["digest"] != d["1.2.0"] || newest["pushed"] != t0.Add(2*time.Hour).Format(time.RFC3339) {
		t.Fatalf("newest tag: %v, want digest %s pushed %s", newest, d["1.2.0"], t0.Add(2*time.Hour))
	}
	if links := body["_links"].(map[string]any); links["self"].(map[string]any)["href"] != "/api/v1/clusters/staging/services/web/tags" {
		t.Fatalf("links: %v", links)
	}
	body = get("/api/v1/clusters/staging/services/web/tags?limit=2", 200, "HIT")
	if tags(body) != "1.2.0,1.1.0" || body["cache"] != true {
		t.Fatalf("second listing, limit 2: %v", body)
	}

	// Refusals.
	e.want(e.do("dev", "GET", "/v1/clusters/staging/services/web/tags?limit=0", nil), 422)
	e.want(e.do("dev", "GET", "/v1/clusters/staging/services/web/tags?limit=101", nil), 422)
	e.want(e.do("dev", "GET", "/v1/clusters/staging/services/nope/tags", nil), 404)
	e.want(e.do("dev", "GET", "/v1/clusters/nope/services/web/tags", nil), 404)
	e.want(e.do("", "GET", "/v1/clusters/staging/services/web/tags", nil), 401)
	r := e.do("dev", "GET", "/v1/clusters/staging/services/api/tags", nil)
	if e.want(r, 409); !strings.Contains(string(r.Body), "needs an ecs cluster's credentials") || !strings.Contains(string(r.Body), "sim cluster") {
		t.Fatalf("an ECR image on a sim cluster: %s", r.Body)
	}

	// Setting a tag forgets the cached tags: a tag just pushed shows.
	d["2.0.0"] = pushImage(t, host+"/shop/web:2.0.0", t0.Add(3*time.Hour))
	get("/v1/clusters/staging/services/web/tags", 200, "HIT")
	e.want(e.do("devops", "PUT", "/v1/clusters/staging/services/web", map[string]any{"image_tag": "2.0.0"}), 202)
	if body := get("/v1/clusters/staging/services/web/tags", 200, "MISS"); tags(body) != "2.0.0,1.2.0,1.1.0,1.0.0" {
		t.Fatalf("after set-image: %v", body)
	}

	// The registry goes down: the cached answer is served, past its TTL
	// with a warning; an image never cached is a 502 naming the registry.
	reg.Close()
	body = get("/v1/clusters/staging/services/web/tags", 200, "HIT")
	if body["warning"] != nil {
		t.Fatalf("within the TTL: %v", body)
	}
	clk.Add(registry.DefaultTTL + time.Second)
	body = get("/v1/clusters/staging/services/web/tags", 200, "HIT")
	if w, _ := body["warning"].(string); tags(body) != "2.0.0,1.2.0,1.1.0,1.0.0" || !strings.Contains(w, "the registry "+host+" failed") {
		t.Fatalf("past the TTL, registry down: %v", body)
	}
	r = e.do("dev", "GET", "/v1/clusters/staging/services/worker/tags", nil)
	if e.want(r, 502); !strings.Contains(string(r.Body), "registry "+host) || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("registry down, nothing cached: %s", r.Body)
	}
}

// TestStackTagsECR lists an ECR repository through the API with the
// sealed credentials of an ecs cluster whose endpoint is the AWS emulator.
func TestStackTagsECR(t *testing.T) {
	t.Parallel() // the subject is the ECR path: SQLite alone
	endpoint := awstest.Start(t)
	e := newEnv(t, openSQLite)
	withTags(e)
	ctx := context.Background()
	c := ecr.New(ecr.Options{Region: awstest.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey}, nil
		})})
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("api")}); err != nil {
		t.Fatal(err)
	}
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":100,"digest":"sha256:` + strings.Repeat("1", 64) + `"},` +
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":10,"digest":"sha256:` + strings.Repeat("2", 64) + `"}]}`
	out, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("api"), ImageManifest: aws.String(manifest), ImageTag: aws.String("v7")})
	if err != nil {
		t.Fatal(err)
	}
	cl := &purser.Cluster{Name: "prod", Kind: purser.ClusterECS, Region: awstest.Region, ECSCluster: "prod", Endpoint: endpoint,
		AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey}
	if err := sqldb.NewClusterService(e.db).CreateCluster(purser.SystemContext(ctx), cl); err != nil {
		t.Fatal(err)
	}
	stack := "defaults:\n  memory: 256\nservices:\n  - api:\n      image: " + awstest.Account + ".dkr.ecr.us-east-1.amazonaws.com/api:v1\n"
	e.want(e.do("devops", "PUT", "/v1/clusters/prod/config", stack, "Content-Type", "application/yaml"), 202)
	body := e.want(e.do("dev", "GET", "/v1/clusters/prod/services/api/tags", nil), 200)
	items := body["_items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["name"] != "v7" || items[0].(map[string]any)["digest"] != aws.ToString(out.Image.ImageId.ImageDigest) {
		t.Fatalf("ECR tags: %v", body)
	}
}
