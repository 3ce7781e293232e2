package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/stackfile"
	"github.com/purserhq/purser/internal/ui"
)

// clusters is the store's side of the cluster service, enough for pages
// that read clusters (the kubernetes driver's Clusters, which probes,
// wraps the same store in the server). A sim cluster is never probed.
type clusters struct{ *sqldb.ClusterService }

func (c clusters) CheckCluster(ctx context.Context, name string) (*purser.Cluster, error) {
	return c.FindClusterByName(ctx, name)
}

func (c clusters) UpdateCluster(context.Context, string, purser.ClusterUpdate, string) (*purser.Cluster, error) {
	return nil, purser.Errorf(purser.ENOTIMPLEMENTED, "not in these tests")
}

// tags is a registry's answer, fixed: a fake, because these tests are
// about the page; the tag listing is tested against a real registry in
// internal/registry and cmd/purser.
type tags struct{}

func (tags) ImageTags(_ context.Context, q purser.TagQuery) (*purser.TagList, error) {
	now := time.Now()
	return &purser.TagList{Repository: q.Image, Tags: []purser.ImageTag{
		{Name: "v3", Pushed: now.Add(-72*time.Hour - time.Minute), Digest: "sha256:0123456789abcdef0123"},
		{Name: "latest", Pushed: now.Add(-9 * 24 * time.Hour)}}}, nil
}

func (tags) InvalidateTags(context.Context, string) {}

// equipInfra gives the UI the stack, cluster and pool services.
func equipInfra(web *ui.Server, db *sqldb.DB) {
	web.Clusters, web.Stacks, web.StackList = clusters{sqldb.NewClusterService(db)}, sqldb.NewStackService(db), sqldb.NewStackService(db)
	web.Tags, web.Pools, web.Hosts = tags{}, sqldb.NewPoolService(db), sqldb.NewHostService(db)
}

// addStack registers a sim cluster with the seed's stack as revision 1,
// running as desired.
func (e *env) addStack(name string) {
	e.t.Helper()
	sys := purser.SystemContext(context.Background())
	c := &purser.Cluster{Name: name, Kind: purser.ClusterSim}
	c.RecordCheck(purser.SimulatedVersion, nil, time.Now().UTC().Truncate(time.Microsecond))
	if err := sqldb.NewClusterService(e.db).CreateCluster(sys, c); err != nil {
		e.t.Fatal(err)
	}
	sf, err := stackfile.Parse(stackfile.SeedExample)
	if err != nil {
		e.t.Fatal(err)
	}
	stacks := sqldb.NewStackService(e.db)
	if _, err := stacks.ProposeRevision(sys, name, purser.StackProposal{Message: "the seed", Source: string(stackfile.SeedExample), Stackfile: sf}); err != nil {
		e.t.Fatal(err)
	}
	for _, sv := range sf.Normalize().Services {
		if err := stacks.SetActualService(sys, name, sv.Name, &purser.ActualService{Spec: sv, RunningCount: sv.Count()}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// addHosts registers n hosts of 8 cores and 32 GiB.
func (e *env) addHosts(prefix string, n int) {
	e.t.Helper()
	sys := purser.SystemContext(context.Background())
	_, secret, err := sqldb.NewJoinTokenService(e.db).CreateJoinToken(sys, "test", true, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range n {
		h := purser.Host{Name: fmt.Sprintf("%s%d", prefix, i), Address: "10.0.0.1", Cores: 8, Memory: 32 << 30}
		if _, _, err := sqldb.NewHostService(e.db).RegisterHost(context.Background(), secret, h); err != nil {
			e.t.Fatal(err)
		}
	}
}

// TestInfraPagesCostTheSameQueries: the stacks, clusters and pools pages
// make as many queries with many clusters, stacks, pools and hosts as
// with one of each.
func TestInfraPagesCostTheSameQueries(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ops := e.signIn(purser.RoleDevOps)
		sys := purser.SystemContext(context.Background())
		pages := []string{"/stacks", "/clusters", "/pools", "/stacks/c0", "/clusters/c0", "/pools/p0", "/stacks/c0/revisions/1",
			"/stacks/c0/edit", "/stacks/c0/services/user-service"}
		cost := func() []int64 {
			var out []int64
			for _, p := range pages {
				before := e.reads.n.Load()
				ops.get(p, http.StatusOK)
				out = append(out, e.reads.n.Load()-before)
			}
			return out
		}
		e.addStack("c0")
		e.addHosts("a", 2)
		if _, err := sqldb.NewPoolService(db).CreatePool(sys, &purser.Pool{Name: "p0", Cores: 8, Spares: 1}, false); err != nil {
			t.Fatal(err)
		}
		small := cost()
		for i := 1; i < 6; i++ {
			e.addStack(fmt.Sprintf("c%d", i))
		}
		e.addHosts("b", 10)
		if _, err := sqldb.NewPoolService(db).CreatePool(sys, &purser.Pool{Name: "p1", Cores: 24, Spares: 1}, false); err != nil {
			t.Fatal(err)
		}
		large := cost()
		if fmt.Sprint(small) != fmt.Sprint(large) {
			t.Fatalf("queries per page grow with the store: %v with one cluster and pool, %v with six and two (pages %v)", small, large, pages)
		}
		body := ops.get("/pools", http.StatusOK)
		if strings.Count(body, `<svg`) != 2 || !strings.Contains(body, "a0") || !strings.Contains(body, "8 of 8 requested") {
			t.Fatalf("the pools page lacks its capacity bars or hosts:\n%s", body)
		}
		if body := ops.get("/clusters", http.StatusOK); strings.Count(body, ">revision 1</a>") != 6 || !strings.Contains(body, "simulated") {
			t.Fatalf("the clusters page lacks the stacks or health:\n%s", body)
		}
	})
}

// TestStackEditPlanApplyRollback: the editor shows a fault beside its
// line, then plans a change as a diff, applies it only once planned, and
// a revision rolls back; a service is scaled and its tag picked, a bad
// count refused beside the field.
func TestStackEditPlanApplyRollback(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.addStack("staging")
		ops := e.signIn(purser.RoleDevOps)
		editor := ops.get("/stacks/staging/edit", http.StatusOK)
		if !strings.Contains(editor, "routing-service:") || !strings.Contains(editor, `name="if_match" value="1"`) {
			t.Fatalf("the editor does not hold revision 1:\n%s", editor)
		}
		text := string(stackfile.SeedExample)
		bad := strings.Replace(text, `"8080:8080"`, `"http"`, 1)
		status, body := ops.post("/stacks/staging/edit", url.Values{"csrf": {ops.csrf}, "if_match": {"1"}, "stackfile": {bad}, "action": {"plan"}})
		line := strings.Count(text[:strings.Index(text, `"8080:8080"`)], "\n") + 1
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, fmt.Sprintf("<strong>Line %d</strong>", line)) ||
			!strings.Contains(body, "services[0].routing-service.ports[0]") || strings.Contains(body, `id="apply"`) {
			t.Fatalf("a bad port: %d, want 422 naming line %d and the path, and no Apply:\n%s", status, line, body)
		}
		good := strings.Replace(text, "routing-service:latest", "routing-service:v2", 1)
		status, body = ops.post("/stacks/staging/edit", url.Values{"csrf": {ops.csrf}, "if_match": {"1"}, "stackfile": {good}, "action": {"apply"}})
		if status != http.StatusOK || !strings.Contains(body, `id="apply"`) || !strings.Contains(body, "routing-service:v2") ||
			!strings.Contains(body, `class="d-add"`) || !strings.Contains(body, "plan-update") {
			t.Fatalf("an Apply of text never planned is planned, not applied: %d\n%s", status, body)
		}
		planned := regexp.MustCompile(`name="planned" value="([0-9a-f]+)"`).FindStringSubmatch(body)
		status, _ = ops.post("/stacks/staging/edit", url.Values{"csrf": {ops.csrf}, "if_match": {"1"}, "stackfile": {good}, "action": {"apply"},
			"planned": {planned[1]}, "message": {"v2 of routing"}})
		if status != http.StatusOK { // the redirect followed: the stack's page
			t.Fatalf("apply: %d", status)
		}
		stack := ops.get("/stacks/staging", http.StatusOK)
		if !strings.Contains(stack, "Revision 2 is") || !strings.Contains(stack, "v2 of routing") || !strings.Contains(stack, `hx-trigger="every 1s"`) {
			t.Fatalf("the stack's page after apply:\n%s", stack)
		}
		if rev := ops.get("/stacks/staging/revisions/2", http.StatusOK); !strings.Contains(rev, "+      image: xxx.dkr.ecr.us-east-1.amazonaws.com/routing-service:v2") ||
			!strings.Contains(rev, `class="d-del"`) {
			t.Fatalf("revision 2's diff:\n%s", rev)
		}
		status, body = ops.post("/stacks/staging/rollback", url.Values{"csrf": {ops.csrf}, "revision": {"1"}, "if_match": {"1"}})
		if status != http.StatusConflict || !strings.Contains(body, "another change landed first") {
			t.Fatalf("a rollback made against a stale revision: %d\n%s", status, body)
		}
		if status, _ = ops.post("/stacks/staging/rollback", url.Values{"csrf": {ops.csrf}, "revision": {"1"}, "if_match": {"2"}}); status != http.StatusOK {
			t.Fatalf("rollback: %d", status)
		}
		if stack := ops.get("/stacks/staging", http.StatusOK); !strings.Contains(stack, "restores 1") || !strings.Contains(stack, "blocked by 3") {
			t.Fatalf("the stack's page after the rollback:\n%s", stack)
		}

		svc := ops.get("/stacks/staging/services/user-service", http.StatusOK)
		if !strings.Contains(svc, `hx-get="/stacks/staging/services/user-service/tags"`) || strings.Contains(svc, "pushed") {
			t.Fatalf("the service's page does not leave the registry to after it loads:\n%s", svc)
		}
		for _, path := range []string{"/stacks/staging/services/user-service/tags", "/stacks/staging/services/user-service?tags=1"} {
			if tags := ops.get(path, http.StatusOK); !strings.Contains(tags, "pushed") || !strings.Contains(tags, "3 days ago") || !strings.Contains(tags, "0123456789ab") {
				t.Fatalf("the tag picker at %s:\n%s", path, tags)
			}
		}
		status, body = ops.post("/stacks/staging/services/user-service", url.Values{"csrf": {ops.csrf}, "if_match": {"3"}, "change": {"scale"}, "desired_count": {"-1"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="desired_count-error"`) {
			t.Fatalf("a negative count: %d\n%s", status, body)
		}
		if status, _ = ops.post("/stacks/staging/services/user-service", url.Values{"csrf": {ops.csrf}, "if_match": {"3"}, "change": {"scale"}, "desired_count": {"3"}}); status != http.StatusOK {
			t.Fatalf("scale: %d", status)
		}
		if status, _ = ops.post("/stacks/staging/services/user-service", url.Values{"csrf": {ops.csrf}, "if_match": {"4"}, "change": {"tag"}, "image_tag": {"v3"}}); status != http.StatusOK {
			t.Fatalf("pick a tag: %d", status)
		}
		if svc := ops.get("/stacks/staging/services/user-service", http.StatusOK); !strings.Contains(svc, "v3 / ") || !strings.Contains(svc, "1 / 3") {
			t.Fatalf("the service after scale and tag:\n%s", svc)
		}
		if status, _ := ops.post("/stacks/staging/rollback", url.Values{"revision": {"1"}, "if_match": {"5"}}); status != http.StatusForbidden {
			t.Fatalf("a rollback without the CSRF token: %d", status)
		}

		dev := e.signIn(purser.RoleDev)
		if page := dev.get("/stacks/staging", http.StatusOK); strings.Contains(page, "Roll back") || strings.Contains(page, "Edit the stackfile") ||
			strings.Contains(page, `href="/clusters"`) {
			t.Fatalf("a developer is offered changes or clusters:\n%s", page)
		}
		dev.get("/clusters", http.StatusForbidden)
		if status, body := dev.post("/stacks/staging/edit", url.Values{"csrf": {dev.csrf}, "if_match": {"5"}, "stackfile": {good}, "action": {"plan"}}); status != http.StatusOK ||
			!strings.Contains(body, `id="plan-diff"`) || strings.Contains(body, `id="apply"`) {
			t.Fatalf("a developer plans but is offered no Apply: %d\n%s", status, body)
		}
		if status, _ := ops.post("/clusters/staging/check", url.Values{"csrf": {ops.csrf}}); status != http.StatusOK {
			t.Fatalf("check the cluster: %d", status)
		}
	})
}

// TestStackPageShowsDrift: once a scan finds a service running other than
// its applied revision says, the stack's page shows the drift, what
// differs, and (to DevOps) the button that applies the revision again.
func TestStackPageShowsDrift(t *testing.T) {
	eachStore(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.addStack("staging")
		sys := purser.SystemContext(context.Background())
		stacks := sqldb.NewStackService(db)
		for _, st := range []purser.RevisionStatus{purser.RevisionApplying, purser.RevisionApplied} {
			if _, err := stacks.MarkRevision(sys, "staging", 1, st); err != nil {
				t.Fatal(err)
			}
		}
		actual, err := stacks.ActualServices(sys, "staging")
		if err != nil {
			t.Fatal(err)
		}
		a := actual[0]
		a.Spec.Image = "xxx.dkr.ecr.us-east-1.amazonaws.com/" + a.Spec.Name + ":hotfix"
		if err := stacks.SetActualService(sys, "staging", a.Spec.Name, &a); err != nil {
			t.Fatal(err)
		}
		actual[0] = a
		err = stacks.ScanDrift(sys, "staging", func(c *purser.Cluster, r *purser.StackRevision, prev *purser.DriftState) (*purser.DriftState, purser.Change, error) {
			st, ch := purser.DriftScan(c, r, actual, prev, time.Now())
			return st, ch, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ops := e.signIn(purser.RoleDevOps)
		page := ops.get("/stacks/staging", http.StatusOK)
		if !strings.Contains(page, `id="drift"`) || !strings.Contains(page, ":hotfix") || !strings.Contains(page, "Correct the drift") ||
			!strings.Contains(page, ">drifted<") {
			t.Fatalf("the stack's page does not show the drift:\n%s", page)
		}
		if status, page := ops.post("/stacks/staging/deploy", url.Values{"csrf": {ops.csrf}}); status != http.StatusOK ||
			!strings.Contains(page, `hx-get="/stacks/staging/live?follow=29"`) {
			t.Fatalf("correct the drift: %d\n%s", status, page)
		}
		if list := e.signIn(purser.RoleDev).get("/stacks", http.StatusOK); !strings.Contains(list, ">drifted<") {
			t.Fatalf("the stacks list does not show the drift:\n%s", list)
		}
	})
}
