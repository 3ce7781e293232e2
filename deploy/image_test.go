package deploy

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDockerfile reads the image's Dockerfile with BuildKit's own parser:
// a build stage and a distroless runtime stage, a numeric non-root user, a
// HEALTHCHECK that runs the binary itself (distroless has no shell), and
// the server as the default command.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile line %d: %s", w.Location.Start.Line, w.Short)
	}
	var froms []string
	last := map[string]*parser.Node{} // instruction -> its last occurrence in the final stage
	for _, n := range res.AST.Children {
		instr := strings.ToLower(n.Value)
		if instr == "from" {
			froms = append(froms, n.Next.Value)
			last = map[string]*parser.Node{}
		}
		last[instr] = n
	}
	if len(froms) < 2 {
		t.Fatalf("stages %v: want a build stage and a runtime stage", froms)
	}
	if final := froms[len(froms)-1]; !strings.HasPrefix(final, "gcr.io/distroless/static") {
		t.Errorf("the runtime stage is FROM %s, want gcr.io/distroless/static...", final)
	}
	words := func(n *parser.Node) []string {
		var out []string
		for ; n != nil; n = n.Next {
			out = append(out, n.Value)
		}
		return out
	}
	if u := last["user"]; u == nil || strings.HasPrefix(u.Next.Value, "0") || u.Next.Value == "root" || strings.Trim(u.Next.Value, "0123456789:") != "" {
		t.Errorf("the runtime stage's USER is %v: want a numeric non-root uid:gid (Kubernetes' runAsNonRoot checks the number)", u)
	}
	hc := last["healthcheck"]
	if hc == nil {
		t.Fatal("no HEALTHCHECK in the runtime stage")
	}
	if w := words(hc.Next); len(w) < 3 || w[0] != "CMD" || !strings.HasSuffix(w[1], "/purser") || w[2] != "healthcheck" || !hc.Attributes["json"] {
		t.Errorf("HEALTHCHECK %q: want the exec form CMD [\".../purser\", \"healthcheck\"] (no shell in distroless)", hc.Original)
	}
	if ep := last["entrypoint"]; ep == nil || !strings.HasSuffix(ep.Next.Value, "/purser") {
		t.Errorf("ENTRYPOINT is not the purser binary")
	}
	if cmd := last["cmd"]; cmd == nil || cmd.Next.Value != "server" {
		t.Errorf("CMD is not server")
	}
	if c := last["copy"]; c == nil || !strings.Contains(strings.Join(c.Flags, " "), "--from=build") {
		t.Errorf("the runtime stage copies nothing from the build stage")
	}
}

// TestDockerBuild builds the image when a Docker engine answers.
func TestDockerBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "info").Run(); err != nil {
		t.Skip("no Docker engine answers here (docker info failed)")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "build", "-f", "deploy/Dockerfile", "-t", "purser:test", ".")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
}
