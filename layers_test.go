package purser_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/purserhq/purser"

// rules states who may import what inside the module. Every package
// directory has a rule: TestLayers fails on one it does not know, so that a
// new package's place is decided when it is added. Test files are held to
// the same rules, except where noted.
var rules = []rule{
	{".", nil, "the domain imports nothing of ours (and, checked below, nothing outside the standard library)"},
	{"client", []string{"."}, "the public client is usable by anyone with just the domain vocabulary"},
	{"internal/sqldb", []string{"."}, "the SQL services know the domain, not the engines, the API or the workers"},
	{"internal/sqlite", []string{".", "internal/sqldb", "internal/storetest", "internal/logging"}, "an engine wraps sqldb; its tests run the conformance suite"},
	{"internal/postgres", []string{".", "internal/sqldb", "internal/storetest", "internal/logging"}, "an engine wraps sqldb; its tests run the conformance suite"},
	{"internal/storetest", []string{".", "internal/sqldb", "internal/footprint"}, "the suite drives services through the domain interfaces, equipped as the server equips them"},
	{"internal/api", []string{".", "internal/httpserver", "client", "internal/stackfile"}, "handlers speak to domain interfaces only; authorization lives in the services (tests may wire a real store); routes are labelled for the shared middleware; the wire types are the public client's, so the two ends cannot drift; stackfile bodies are read and written by the pure stackfile codec"},
	{"internal/ui", []string{".", "internal/httpserver", "internal/oidc", "internal/stackfile"}, "the web UI calls the same domain services as the API (authorization lives there) and labels its routes for the shared middleware; it signs in through the OpenID Connect adapter; it knows no store, no API handler and no client; its stackfile editor reads and writes YAML with the pure stackfile codec"},
	{"internal/oidc", []string{"."}, "the OpenID Connect adapter turns a provider's ID token into the domain's Identity; it knows no store or HTTP handler"},
	{"internal/oidc/oidctest", nil, "the test OpenID Connect provider knows nothing of Purser"},
	{"internal/httpserver", []string{"."}, "the shared middleware authenticates through the domain's token service and knows none of the handlers it mounts, so a UI can mount beside the API"},
	{"internal/worker", []string{".", "internal/notify", "internal/logging"}, "workers act through the domain's small interfaces (the store implements them) and deliver notifications, never through the HTTP layer"},
	{"internal/notify", []string{".", "internal/outbound"}, "channels know notifications, not where they are stored; webhooks go out through the outbound policy"},
	{"internal/logging", nil, "shared log handling knows nothing of Purser"},
	{"internal/outbound", nil, "the outbound policy is a dialer: it knows nothing of Purser, so any adapter can call out through it"},
	{"internal/footprint", []string{"."}, "the evaluator implements a domain interface"},
	{"internal/stackfile", []string{"."}, "the parser turns YAML or JSON into the domain's stackfile and checks it by the schema and the domain's rules; it knows no store or HTTP"},
	{"internal/driver/sim", []string{"."}, "a driver implements a domain interface; it knows no store"},
	{"internal/driver/exec", []string{"."}, "a driver implements a domain interface; it knows no store"},
	{"internal/driver/kubernetes", []string{".", "internal/k8stest"}, "a driver implements a domain interface; its tests run a real control plane"},
	{"internal/driver/pool", []string{"."}, "a driver implements a domain interface; it reaches pools through the small interfaces it declares, which the store implements"},
	{"internal/driver/ecs", []string{".", "internal/awsclient"}, "a driver implements a domain interface; it knows no store (its credentials come with the cluster)"},
	{"internal/awsclient", []string{"."}, "builds the AWS SDK configuration from a cluster's own credentials, for the ECS target and the ECR tag lister"},
	{"internal/k8stest", nil, "the test control plane knows nothing of Purser"},
	{"internal/export", []string{"."}, "the stack exporter implements a domain interface over a bucket; it knows no store"},
	{"internal/registry", []string{".", "internal/awsclient", "internal/cache"}, "the tag listers implement a domain interface; they know no store or HTTP API (ECR credentials come through a function the server wires); answers are kept in the shared cache"},
	{"internal/otlp", nil, "the OTLP/HTTP JSON span exporter knows nothing of Purser"},
	{"internal/cache", []string{"."}, "the cache keeps answers in this process or in Redis and reports hits on the request's context; it knows no store, source or HTTP API"},
	{"internal/awstest", nil, "the test AWS emulator knows nothing of Purser"},
	{"internal/cli", []string{".", "client", "internal/driver/exec"}, "the CLI talks to a server through the public client only, with the domain's vocabulary; it never opens the database; the agent runs its host's hooks under the exec driver's rules (clean environment, run-as user, process group killed)"},
	{"internal/notify/smtptest", nil, "the test SMTP peer knows nothing of Purser"},
	// Slack chat operations (issue 13 item 6)
	{"internal/slackbot", []string{".", "internal/httpserver", "internal/stackfile"}, "the Slack app acts through the domain's services as the mapped user (authorization stays in the store) and talks only to Slack; its routes are labelled for the shared middleware; a chat deploy's stackfile is written by the pure codec"},
	{"deploy", []string{"internal/k8stest"}, "the deployment files (image, compose, chart) have no code; their tests render the chart onto the test control plane"},
	{"bench", []string{anything}, "benchmarks assemble a server as cmd/purser does, to measure the real thing"},
	{"cmd/purser", []string{anything}, "main wires every package together; nothing imports it"},
}

// anything, as an allowed import, allows every package of ours but cmd/.
const anything = "*"

type rule struct {
	pkg     string   // package directory, relative to the module root
	allowed []string // our packages it may import (prefix match); nil: none
	why     string
}

// testOnly lists extra imports test files may make.
var testOnly = map[string][]string{
	"internal/api": {"internal/sqldb", "internal/sqlite", "internal/postgres", "internal/storetest", "internal/driver/kubernetes", "internal/registry", "internal/awstest"},
	// ECR and S3 are tested against the AWS emulator
	"internal/registry":          {"internal/awstest"},
	"internal/export":            {"internal/awstest"},
	"internal/worker":            {"internal/export"}, // the export worker's tests write to a real directory and a refusing S3 endpoint
	"internal/notify":            {"internal/notify/smtptest"},
	"internal/driver/kubernetes": {"internal/stackfile"}, // the stack target is tested with the seed's stackfile
	// the ECS target is tested against the AWS emulator with the seed's stackfile
	"internal/driver/ecs": {"internal/awstest", "internal/stackfile"},
	// the pool driver is tested against a real store of either engine
	"internal/driver/pool": {"internal/sqldb", "internal/sqlite", "internal/postgres", "internal/storetest"},
	// the Slack app is tested against a real store of either engine
	"internal/slackbot": {"internal/sqldb", "internal/sqlite", "internal/postgres", "internal/storetest", "internal/httpserver"},
	// the UI's page tests run on a real store on both engines, counting its queries
	"internal/ui": {"internal/sqldb", "internal/sqlite", "internal/postgres", "internal/storetest", "internal/oidc/oidctest"},
	// the OpenID Connect adapter is tested against the test provider
	"internal/oidc": {"internal/oidc/oidctest"},
	// the schema test migrates both engines and compares what they made
	"internal/postgres": {"internal/sqlite"},
}

func TestLayers(t *testing.T) {
	imports := map[string]map[string][]string{} // dir -> import -> files
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() && path != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if imports[dir] == nil {
			imports[dir] = map[string][]string{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports[dir][p] = append(imports[dir][p], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range imports {
		if !slices.ContainsFunc(rules, func(r rule) bool { return r.pkg == dir }) {
			t.Errorf("%s has no rule in layers_test.go: add one saying what it may import, and why", dir)
		}
	}
	for dir, imps := range imports {
		for imp, files := range imps {
			ours := imp == module || strings.HasPrefix(imp, module+"/")
			rel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			if rel == "" {
				rel = "."
			}
			if ours && strings.HasPrefix(rel, "cmd/") {
				t.Errorf("%s imports %s: nothing imports the binary", dir, imp)
			}
			if dir == "." && !ours && strings.Contains(strings.Split(imp, "/")[0], ".") && !allTests(files) {
				t.Errorf("the domain package imports %s (%v): it may use the standard library only", imp, files)
			}
			for _, r := range rules {
				if r.pkg != dir || !ours || rel == dir {
					continue
				}
				ok := false
				for _, a := range r.allowed {
					ok = ok || a == anything || rel == a || (a != "." && strings.HasPrefix(rel, a+"/"))
				}
				if !ok && allTests(files) {
					for _, a := range testOnly[dir] {
						ok = ok || rel == a
					}
				}
				if !ok {
					t.Errorf("%s imports %s (%v): not allowed, because %s", dir, rel, files, r.why)
				}
			}
		}
	}
}

func allTests(files []string) bool {
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			return false
		}
	}
	return true
}
