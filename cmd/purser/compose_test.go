package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	composecli "github.com/compose-spec/compose-go/v2/cli"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"
)

// pendingKeys are configuration keys deploy/compose.yaml sets before this
// branch's server reads them: the shared cache (issue 16) brings cache.redis_url.
var pendingKeys = map[string]bool{"PURSER_CACHE_REDIS_URL": true}

// TestComposeEnvironment: every PURSER_* variable deploy/compose.yaml gives
// the replicas (loaded by the compose-spec loader, with the defaults it
// starts with) is a configuration key the server reads, and the server
// accepts the configuration they make, secret key included.
func TestComposeEnvironment(t *testing.T) {
	opts, err := composecli.NewProjectOptions([]string{filepath.Join("..", "..", "deploy", "compose.yaml")}, composecli.WithName("purser"), composecli.WithEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	known := configVariables(t)
	replicas := 0
	for name, s := range p.Services {
		if !strings.HasPrefix(name, "purser") {
			continue
		}
		replicas++
		var environ []string
		for k, v := range s.Environment {
			if !strings.HasPrefix(k, "PURSER_") {
				continue
			}
			if !known[k] && !pendingKeys[k] {
				t.Errorf("%s sets %s, which is no configuration key (purser server --print-config lists them)", name, k)
			}
			if v != nil {
				environ = append(environ, k+"="+*v)
			}
		}
		sort.Strings(environ)
		cfg, err := LoadConfig("", environ)
		if err != nil {
			t.Errorf("%s: the server refuses its configuration: %v", name, err)
			continue
		}
		if !cfg.IsPostgres() {
			t.Errorf("%s does not use PostgreSQL", name)
		}
		if _, err := loadSecretKey(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if replicas != 2 {
		t.Errorf("%d Purser services in compose.yaml, want 2 replicas", replicas)
	}
}

// TestManifestEnvironment: every PURSER_* variable the Helm chart gives the
// server (as deploy/manifests/purser.yaml has it rendered) is a
// configuration key.
func TestManifestEnvironment(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "manifests", "purser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	known := configVariables(t)
	names := regexp.MustCompile(`(?m)^\s*- name: (PURSER_[A-Z0-9_]+)$`).FindAllStringSubmatch(string(data), -1)
	if len(names) < 5 {
		t.Fatalf("the manifests set %d PURSER_* variables: the file was not read as expected", len(names))
	}
	for _, m := range names {
		if !known[m[1]] && !pendingKeys[m[1]] {
			t.Errorf("the chart sets %s, which is no configuration key", m[1])
		}
	}
}

// configVariables returns the PURSER_* name of every configuration key.
func configVariables(t *testing.T) map[string]bool {
	t.Helper()
	k := koanf.New(".")
	if err := k.Load(structs.Provider(DefaultConfig(), "koanf"), nil); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, key := range k.Keys() {
		out["PURSER_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))] = true
	}
	return out
}
