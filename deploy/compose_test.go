package deploy

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// TestCompose loads compose.yaml with the Compose specification's own
// loader (what docker compose uses): it starts PostgreSQL, Redis, two
// Purser replicas sharing one secret key and database, and a load balancer
// in front, with no variable to set first. cmd/purser's
// TestComposeEnvironment checks each PURSER_* variable is a configuration
// key the server reads, with a value it accepts.
func TestCompose(t *testing.T) {
	p := composeProject(t)
	byName := map[string]bool{}
	for name := range p.Services {
		byName[name] = true
	}
	for _, want := range []string{"postgres", "redis", "purser-1", "purser-2", "lb"} {
		if !byName[want] {
			t.Errorf("compose.yaml has no service %s", want)
		}
	}
	a, b := p.Services["purser-1"], p.Services["purser-2"]
	for _, k := range []string{"PURSER_DATABASE", "PURSER_SECRET_KEY"} {
		if a.Environment[k] == nil || b.Environment[k] == nil || *a.Environment[k] != *b.Environment[k] || *a.Environment[k] == "" {
			t.Errorf("the replicas do not share one %s", k)
		}
	}
	lb := p.Services["lb"]
	if len(lb.Ports) == 0 || lb.DependsOn["purser-1"].Condition != "service_healthy" || lb.DependsOn["purser-2"].Condition != "service_healthy" {
		t.Errorf("the load balancer publishes no port or does not wait for both replicas to be healthy: %+v", lb)
	}
	if len(lb.Volumes) == 0 {
		t.Errorf("the load balancer mounts no configuration")
	}
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"purser-1", "purser-2"} {
		if !strings.Contains(string(conf), "server "+r+":8080") {
			t.Errorf("nginx.conf does not balance onto %s:8080", r)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "compose", "version").Run(); err != nil {
		t.Log("docker compose is not installed here: `docker compose config` not run")
		return
	}
	out, err := exec.CommandContext(ctx, "docker", "compose", "-f", "compose.yaml", "config", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out)
	}
}

// composeProject loads compose.yaml as `docker compose` would, with an
// empty environment (every variable takes its default).
func composeProject(t testing.TB) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"}, cli.WithName("purser"), cli.WithEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return p
}
