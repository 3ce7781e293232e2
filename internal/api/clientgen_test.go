package api_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The generators teams run on /api-docs, at the versions this test pins.
// oapi-codegen runs with `go run pkg@version`, which leaves Purser's go.mod
// untouched and checks the module against the checksum database;
// openapi-typescript and tsc come from npm, installed by .ci/run into a
// cache outside the repository (PURSER_NPM_CACHE, default
// $XDG_CACHE_HOME/purser-npm).
const (
	oapiCodegen        = "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2"
	openapiTypescript  = "7.13.0"
	npmInstallAdvice   = "npm install --prefix $HOME/.cache/purser-npm openapi-typescript@" + openapiTypescript + " typescript@5.9.3"
	generatorTimeLimit = 5 * time.Minute
)

// TestGeneratedClientsCompile generates a Go client with oapi-codegen and
// TypeScript types with openapi-typescript from the served document, and
// compiles both: a schema name colliding with a name the generator gives an
// operation's own types (RunExpiryResponse), or a shape it cannot express,
// breaks the teams that build SDKs from /api-docs. Without the tools the
// test is skipped, except under CI, where .ci/run installs them.
func TestGeneratedClientsCompile(t *testing.T) {
	t.Parallel() // the subject is the document, not the store: SQLite alone
	e := newEnv(t, openSQLite)
	doc := e.do("", "GET", "/api-docs", nil)
	if doc.Status != 200 {
		t.Fatalf("/api-docs: %d", doc.Status)
	}
	dir := t.TempDir()
	docPath := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(docPath, doc.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("GoOapiCodegen", func(t *testing.T) {
		t.Parallel()
		goBin, err := exec.LookPath("go")
		if err != nil {
			unavailable(t, "the go command is not on PATH")
		}
		mod := filepath.Join(dir, "goclient")
		if err := os.MkdirAll(mod, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/purserclient\n\ngo 1.24\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := run(mod, goBin, "run", oapiCodegen, "-version"); err != nil {
			unavailable(t, "cannot run "+oapiCodegen+" (no network or module proxy?): "+out)
		}
		if out, err := run(mod, goBin, "run", oapiCodegen, "-generate", "types,client", "-package", "purserclient",
			"-o", filepath.Join(mod, "client.gen.go"), docPath); err != nil {
			t.Fatalf("oapi-codegen refused the document: %v\n%s", err, out)
		}
		if out, err := run(mod, goBin, "mod", "tidy"); err != nil {
			unavailable(t, "cannot fetch the generated client's dependencies: "+out)
		}
		if out, err := run(mod, goBin, "build", "./..."); err != nil {
			t.Fatalf("the Go client oapi-codegen generates from /api-docs does not compile:\n%s", clipLines(out, 40))
		}
	})
	t.Run("TypeScript", func(t *testing.T) {
		t.Parallel()
		bin := filepath.Join(npmCache(t), "node_modules", ".bin")
		gen, tsc := filepath.Join(bin, "openapi-typescript"), filepath.Join(bin, "tsc")
		for _, p := range []string{gen, tsc} {
			if _, err := os.Stat(p); err != nil {
				unavailable(t, p+" is missing; "+npmInstallAdvice)
			}
		}
		if out, err := run(dir, gen, "--version"); err != nil || !bytes.Contains([]byte(out), []byte(openapiTypescript)) {
			unavailable(t, "openapi-typescript "+openapiTypescript+" is not installed ("+out+"); "+npmInstallAdvice)
		}
		ts := filepath.Join(dir, "purser.ts")
		if out, err := run(dir, gen, docPath, "-o", ts); err != nil {
			t.Fatalf("openapi-typescript refused the document: %v\n%s", err, out)
		}
		if out, err := run(dir, tsc, "--noEmit", "--strict", "--target", "es2020", ts); err != nil {
			t.Fatalf("the TypeScript types generated from /api-docs do not type-check:\n%s", clipLines(out, 40))
		}
	})
}

// unavailable skips a test whose tool cannot be had, except under CI.
func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why + " (.ci/run installs the tools this test needs)")
	}
	t.Skip(why)
}

// npmCache is where .ci/run installs the npm tools.
func npmCache(t *testing.T) string {
	if d := os.Getenv("PURSER_NPM_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		unavailable(t, "no cache directory: "+err.Error())
	}
	return filepath.Join(d, "purser-npm")
}

// run runs a command in dir with a deadline and returns its combined output.
func run(dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), generatorTimeLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// clipLines keeps the first n lines of s.
func clipLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "\n") + "\n…"
}
