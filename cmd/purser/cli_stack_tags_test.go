package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// tagRegistry runs an in-process OCI registry holding shop/web at the
// tags given, built at the times given, and returns a stackfile whose
// service web runs its first tag, and each tag's digest.
func tagRegistry(t *testing.T, built map[string]time.Time) (stackfile string, digests map[string]string) {
	t.Helper()
	reg := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	digests = map[string]string{}
	for tag, at := range built {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.CreatedAt(img, v1.Time{Time: at}); err != nil {
			t.Fatal(err)
		}
		ref, err := name.NewTag(host+"/shop/web:"+tag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digests[tag] = d.String()
	}
	p := filepath.Join(t.TempDir(), "stack.yaml")
	doc := "defaults:\n  memory: 256\nservices:\n  - web:\n      image: " + host + "/shop/web:v1\n"
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, digests
}

// TestCLIStackTags lists a service's tags from a real registry, newest
// first, as a table, JSON and names.
func TestCLIStackTags(t *testing.T) { eachStore(t, testCLIStackTags) }

func testCLIStackTags(t *testing.T, env ...string) {
	now := time.Now()
	stack, digests := tagRegistry(t, map[string]time.Time{"v1": now.Add(-3 * time.Hour), "v2": now.Add(-2 * time.Hour), "v3": now.Add(-time.Hour)})
	// The registry is on the loopback interface, which the outbound
	// policy refuses unless allowed.
	url, admin := server(t, append(env, "PURSER_OUTBOUND_ALLOW", "127.0.0.1/32")...)
	must := func(args ...string) string { t.Helper(); return mustAs(t, url, admin, args...) }
	must("clusters", "add", "staging", "--kind", "sim")
	must("stacks", "apply", "staging", "-f", stack)

	out := must("stacks", "tags", "staging", "web")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TAG") || !strings.Contains(lines[0], "PUSHED") || !strings.Contains(lines[0], "DIGEST") {
		t.Fatalf("stacks tags:\n%s", out)
	}
	for i, tag := range []string{"v3", "v2", "v1"} {
		f := strings.Fields(lines[i+1])
		if f[0] != tag || f[len(f)-1] != strings.TrimPrefix(digests[tag], "sha256:")[:12] || !strings.Contains(lines[i+1], "ago") {
			t.Fatalf("row %d of stacks tags is not %s, pushed some time ago, with its short digest:\n%s", i+1, tag, out)
		}
	}

	var l struct {
		Items []struct{ Name, Digest string } `json:"_items"`
		Cache bool
	}
	if err := json.Unmarshal([]byte(must("stacks", "tags", "staging", "web", "--limit", "1", "-o", "json")), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 || l.Items[0].Name != "v3" || l.Items[0].Digest != digests["v3"] || !l.Cache {
		t.Fatalf("stacks tags --limit 1 -o json: %+v; want v3 alone, from the cache", l)
	}
	if names := must("stacks", "tags", "staging", "web", "-o", "name"); names != "v3\nv2\nv1\n" {
		t.Fatalf("stacks tags -o name: %q", names)
	}
	if code, _, errOut := asUser(t, url, admin, "stacks", "tags", "staging", "web", "--limit", "0"); code == 0 || !strings.Contains(errOut, "--limit must be 1 to 100") {
		t.Fatalf("--limit 0: exit %d, %s", code, errOut)
	}
	if code, _, errOut := asUser(t, url, admin, "stacks", "tags", "staging", "db"); code == 0 || !strings.Contains(errOut, "has no service db") {
		t.Fatalf("an unknown service: exit %d, %s", code, errOut)
	}
}

// TestCLIStackTagsOutboundPolicy: a registry on an address the outbound
// policy refuses is never called; the answer says why.
func TestCLIStackTagsOutboundPolicy(t *testing.T) {
	stack, _ := tagRegistry(t, map[string]time.Time{"v1": time.Now()})
	url, admin := server(t)
	mustAs(t, url, admin, "clusters", "add", "staging", "--kind", "sim")
	mustAs(t, url, admin, "stacks", "apply", "staging", "-f", stack)
	code, _, errOut := asUser(t, url, admin, "stacks", "tags", "staging", "web")
	if code == 0 || !strings.Contains(errOut, "refused by outbound policy") || !strings.Contains(errOut, "registry 127.0.0.1:") {
		t.Fatalf("a registry the policy refuses: exit %d, %s", code, errOut)
	}
}
