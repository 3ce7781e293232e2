package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testStacks(t *testing.T, open Opener) {
	t.Run("History", func(t *testing.T) { t.Parallel(); testStackHistory(t, open) })
	t.Run("Prune", func(t *testing.T) { t.Parallel(); testStackPrune(t, open) })
	t.Run("ConcurrentProposals", func(t *testing.T) { t.Parallel(); testStackConcurrency(t, open) })
	t.Run("SecretsSealed", func(t *testing.T) { t.Parallel(); testStackSecrets(t, open) })
	t.Run("ActualServices", func(t *testing.T) { t.Parallel(); testStackActual(t, open) })
	t.Run("Export", func(t *testing.T) { t.Parallel(); testStackExport(t, open) })
}

// stackEnv is a store with a sim cluster "sim1", acting as an admin, a
// devops and a dev user, and as Purser's reconciler.
type stackEnv struct {
	db                       *sqldb.DB
	stacks                   *sqldb.StackService
	adminCtx, opsCtx, devCtx context.Context
	reconciler               context.Context
}

// stackKey is the sealing key of the stack tests' stores, so that they
// can rotate it.
var stackKey = []byte("fedcba9876543210fedcba9876543210")

func newStackEnv(t *testing.T, open Opener) *stackEnv {
	t.Helper()
	db := Equip(t, open(t))
	var err error
	if db.Sealer, err = sqldb.NewSealer(stackKey); err != nil {
		t.Fatal(err)
	}
	e := &stackEnv{db: db, stacks: sqldb.NewStackService(db), reconciler: purser.SystemContext(context.Background())}
	e.adminCtx, _ = admin(t, db)
	e.opsCtx, _ = as(t, db, "ops", purser.RoleDevOps)
	e.devCtx, _ = as(t, db, "dev", purser.RoleDev)
	c := &purser.Cluster{Name: "sim1", Kind: purser.ClusterSim}
	if err := sqldb.NewClusterService(db).CreateCluster(e.opsCtx, c); err != nil {
		t.Fatalf("register a sim cluster: %v", err)
	}
	return e
}

// stackfile returns a proposal of one service "web" running image:tag,
// with extra environment lines (NAME=value).
func stackfile(t *testing.T, tag string, env ...string) purser.StackProposal {
	t.Helper()
	vars := make([]string, len(env))
	for i, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[i] = fmt.Sprintf("{%q: %q}", k, v)
	}
	src := fmt.Sprintf(`{"services": [{"web": {"image": "nginx:%s", "environment": [%s]}}]}`, tag, strings.Join(vars, ", "))
	var sf purser.Stackfile
	if err := json.Unmarshal([]byte(src), &sf); err != nil {
		t.Fatal(err)
	}
	return purser.StackProposal{Message: "tag " + tag, Source: src, Stackfile: &sf}
}

func (e *stackEnv) propose(t *testing.T, p purser.StackProposal) *purser.StackRevision {
	t.Helper()
	r, err := e.stacks.ProposeRevision(e.opsCtx, "sim1", p)
	if err != nil {
		t.Fatalf("propose %s: %v", p.Message, err)
	}
	return r
}

func (e *stackEnv) apply(t *testing.T, n int) {
	t.Helper()
	for _, s := range []purser.RevisionStatus{purser.RevisionApplying, purser.RevisionApplied} {
		if _, err := e.stacks.MarkRevision(e.reconciler, "sim1", n, s); err != nil {
			t.Fatalf("mark revision %d %s: %v", n, s, err)
		}
	}
}

func (e *stackEnv) status(t *testing.T, n int) purser.RevisionStatus {
	t.Helper()
	r, err := e.stacks.StackRevision(e.devCtx, "sim1", n)
	if err != nil {
		t.Fatalf("revision %d: %v", n, err)
	}
	return r.Status
}

func ptr(n int) *int { return &n }

// testStackHistory: proposals are numbered, authored and listed newest
// first; a rollback blocks the revision it replaces until someone
// unblocks it; devs read and cannot write; the reconciler alone marks.
func testStackHistory(t *testing.T, open Opener) {
	e := newStackEnv(t, open)
	if _, err := e.stacks.ProposeRevision(e.devCtx, "sim1", stackfile(t, "1")); purser.ErrorCode(err) != purser.EFORBIDDEN {
		t.Fatalf("a dev proposes: %v", err)
	}
	if _, err := e.stacks.ProposeRevision(e.opsCtx, "nowhere", stackfile(t, "1")); purser.ErrorCode(err) != purser.ENOTFOUND {
		t.Fatalf("propose to no cluster: %v", err)
	}
	r1 := e.propose(t, stackfile(t, "1"))
	if r1.Number != 1 || r1.Author != "ops" || r1.Status != purser.RevisionPending || r1.Normalized.Services[0].DesiredCount == nil {
		t.Fatalf("first revision %+v", r1)
	}
	if _, err := e.stacks.MarkRevision(e.opsCtx, "sim1", 1, purser.RevisionApplying); purser.ErrorCode(err) != purser.EFORBIDDEN {
		t.Fatalf("devops marks a revision: %v", err)
	}
	e.apply(t, 1)
	r2 := e.propose(t, stackfile(t, "2"))
	if _, err := e.stacks.ProposeRevision(e.opsCtx, "sim1", withIfMatch(stackfile(t, "x"), 1)); purser.ErrorCode(err) != purser.EPRECONDITION {
		t.Fatalf("propose against revision 1 when 2 is current: %v", err)
	}
	e.apply(t, r2.Number)
	e.propose(t, withIfMatch(stackfile(t, "3"), 2))
	e.apply(t, 3)

	list, info, err := e.stacks.StackRevisions(e.devCtx, "sim1", purser.Query{Page: 1, MaxResults: 2})
	if err != nil || info.Total != 3 || !info.More || len(list) != 2 || list[0].Number != 3 || list[1].Number != 2 {
		t.Fatalf("a dev lists %d revisions %+v (%v)", len(list), info, err)
	}
	if list[0].Stackfile.Services[0].Image != "nginx:3" || list[0].Source == "" || list[0].Message != "tag 3" {
		t.Fatalf("revision 3 reads %+v", list[0])
	}

	back, err := e.stacks.RollbackStack(e.opsCtx, "sim1", 2, ptr(3))
	if err != nil || back.Number != 4 || back.RollbackOf != 2 || back.Normalized.Services[0].Image != "nginx:2" {
		t.Fatalf("roll back to 2: %+v (%v)", back, err)
	}
	r3, _ := e.stacks.StackRevision(e.devCtx, "sim1", 3)
	if r3.Status != purser.RevisionBlocked || r3.BlockedBy != 4 {
		t.Fatalf("revision 3 after the rollback: %s, blocked by %d", r3.Status, r3.BlockedBy)
	}
	if _, err := e.stacks.MarkRevision(e.reconciler, "sim1", 3, purser.RevisionApplying); purser.ErrorCode(err) != purser.ECONFLICT {
		t.Fatalf("apply a blocked revision: %v", err)
	}
	if _, err := e.stacks.RollbackStack(e.opsCtx, "sim1", 3, nil); purser.ErrorCode(err) != purser.ECONFLICT {
		t.Fatalf("roll back to a blocked revision: %v", err)
	}
	if r, err := e.stacks.UnblockRevision(e.opsCtx, "sim1", 3); err != nil || r.Status != purser.RevisionSuperseded || r.BlockedBy != 0 {
		t.Fatalf("unblock 3: %+v (%v)", r, err)
	}
	if r, err := e.stacks.RollbackStack(e.opsCtx, "sim1", 3, nil); err != nil || r.Number != 5 || e.status(t, 4) != purser.RevisionBlocked {
		t.Fatalf("roll back to 3 once unblocked: %+v (%v); 4 is %s", r, err, e.status(t, 4))
	}

	events, _, err := sqldb.NewEventService(e.db).FindEvents(e.adminCtx, purser.Query{Page: 1, MaxResults: purser.MaxMaxResults,
		Where: []purser.Cond{{Field: "target_type", Op: "$eq", Value: "cluster"}}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range events {
		seen[ev.Action]++
	}
	if seen["stack.revise"] != 5 || seen["stack.rollback"] != 2 || seen["stack.unblock"] != 1 || seen["stack.mark"] != 6 {
		t.Fatalf("audit log: %v", seen)
	}
}

func withIfMatch(p purser.StackProposal, n int) purser.StackProposal {
	p.IfMatch = &n
	return p
}

// testStackPrune: once a revision is applied, the history keeps the last
// DefaultRevisionsKept applied revisions and everything newer, and every
// blocked one.
func testStackPrune(t *testing.T, open Opener) {
	e := newStackEnv(t, open)
	e.propose(t, stackfile(t, "1"))
	e.apply(t, 1)
	e.propose(t, stackfile(t, "2"))
	e.apply(t, 2)
	if _, err := e.stacks.RollbackStack(e.opsCtx, "sim1", 1, nil); err != nil { // 2 blocked, 3 restores 1
		t.Fatal(err)
	}
	e.apply(t, 3)
	last := 3
	for i := 0; i < purser.DefaultRevisionsKept; i++ {
		last = e.propose(t, stackfile(t, fmt.Sprint(last+1))).Number
		e.apply(t, last)
	}
	_, info, err := e.stacks.StackRevisions(e.devCtx, "sim1", purser.Query{Page: 1, MaxResults: 50})
	if err != nil || info.Total != purser.DefaultRevisionsKept+1 {
		t.Fatalf("%d revisions left, want the %d applied ones and blocked 2 (%v)", info.Total, purser.DefaultRevisionsKept, err)
	}
	for _, n := range []int{1, 3} {
		if _, err := e.stacks.StackRevision(e.devCtx, "sim1", n); purser.ErrorCode(err) != purser.ENOTFOUND {
			t.Fatalf("revision %d after pruning: %v", n, err)
		}
	}
	if e.status(t, 2) != purser.RevisionBlocked || e.status(t, last) != purser.RevisionApplied {
		t.Fatalf("blocked 2 is %s, current %d is %s", e.status(t, 2), last, e.status(t, last))
	}
}

// testStackConcurrency: of proposals made at once against the same
// current revision, exactly one lands; the others are told another change
// came first. Without a precondition, each lands with a number of its own.
func testStackConcurrency(t *testing.T, open Opener) {
	e := newStackEnv(t, open)
	e.propose(t, stackfile(t, "1"))
	const n = 6
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.stacks.ProposeRevision(e.opsCtx, "sim1", withIfMatch(stackfile(t, fmt.Sprint(i)), 1))
			codes[i] = purser.ErrorCode(err)
		}()
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case "":
			won++
		case purser.EPRECONDITION:
		default:
			t.Fatalf("a concurrent proposal failed with %q", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d proposals against revision 1 landed, want 1: %v", won, codes)
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.stacks.ProposeRevision(e.opsCtx, "sim1", stackfile(t, fmt.Sprint(i)))
			codes[i] = purser.ErrorCode(err)
		}()
	}
	wg.Wait()
	list, _, err := e.stacks.StackRevisions(e.devCtx, "sim1", purser.Query{Page: 1, MaxResults: 50})
	if err != nil || len(list) != 2+n || list[0].Number != 2+n || strings.Join(codes, "") != "" {
		t.Fatalf("%d revisions after %d unconditional proposals (%v, %v)", len(list), n, codes, err)
	}
	pending := 0
	for _, r := range list {
		if r.Status == purser.RevisionPending {
			pending++
		}
	}
	if pending != 1 || list[0].Status != purser.RevisionPending {
		t.Fatalf("%d revisions pending, want only the newest", pending)
	}
}

// testStackSecrets: ${NAME} values must name secrets of the cluster; a
// secret's value is sealed at rest, listed by name only, never audited,
// and read only by the reconciler; one the current revision uses cannot
// be deleted.
func testStackSecrets(t *testing.T, open Opener) {
	e := newStackEnv(t, open)
	const value = "pa55-w0rd-in-clear"
	p := stackfile(t, "1", "DB_PASSWORD=${DB_PASSWORD}", "API_KEY=${API_KEY}")
	_, err := e.stacks.ProposeRevision(e.opsCtx, "sim1", p)
	var pe *purser.Error
	if purser.ErrorCode(err) != purser.EINVALID || !errors.As(err, &pe) || len(pe.Fields) != 2 ||
		!strings.Contains(pe.Fields[0].Message, "${API_KEY}") || !strings.Contains(pe.Fields[1].Message, "${DB_PASSWORD}") {
		t.Fatalf("propose with missing secrets: %v", err)
	}
	if _, err := e.stacks.SetSecret(e.devCtx, "sim1", "DB_PASSWORD", value); purser.ErrorCode(err) != purser.EFORBIDDEN {
		t.Fatalf("a dev sets a secret: %v", err)
	}
	if _, err := e.stacks.SetSecret(e.opsCtx, "sim1", "1BAD", value); purser.ErrorCode(err) != purser.EINVALID {
		t.Fatalf("a bad secret name: %v", err)
	}
	for _, name := range []string{"DB_PASSWORD", "API_KEY", "UNUSED"} {
		if _, err := e.stacks.SetSecret(e.opsCtx, "sim1", name, value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.stacks.SetSecret(e.opsCtx, "sim1", "API_KEY", value+"-2"); err != nil {
		t.Fatal(err)
	}
	e.propose(t, p)
	noPlaintext(t, e.db, value)
	var raw string
	if err := e.db.Read.QueryRow(context.Background(), "SELECT value FROM cluster_secrets WHERE name = ?", "DB_PASSWORD").Scan(&raw); err != nil ||
		strings.Contains(raw, value) || raw == "" {
		t.Fatalf("DB_PASSWORD stored as %q (%v)", raw, err)
	}
	secs, err := e.stacks.Secrets(e.devCtx, "sim1")
	if err != nil || len(secs) != 3 || secs[0].Name != "API_KEY" || secs[0].Updated.Before(secs[0].Created) {
		t.Fatalf("a dev lists secrets %+v (%v)", secs, err)
	}
	if b, _ := json.Marshal(secs); strings.Contains(string(b), value) {
		t.Fatalf("the list shows a value: %s", b)
	}
	if _, err := e.stacks.ResolveSecrets(e.adminCtx, "sim1", []string{"DB_PASSWORD"}); purser.ErrorCode(err) != purser.EFORBIDDEN {
		t.Fatalf("an admin resolves secrets: %v", err)
	}
	got, err := e.stacks.ResolveSecrets(e.reconciler, "sim1", []string{"DB_PASSWORD", "API_KEY"})
	if err != nil || got["DB_PASSWORD"] != value || got["API_KEY"] != value+"-2" {
		t.Fatalf("the reconciler resolves %v (%v)", got, err)
	}
	if _, err := e.stacks.ResolveSecrets(e.reconciler, "sim1", []string{"NOPE"}); purser.ErrorCode(err) != purser.ENOTFOUND || !strings.Contains(err.Error(), "NOPE") {
		t.Fatalf("resolve a missing secret: %v", err)
	}
	// Rotating the server's key: Reseal rewrites the secrets, which open
	// with the new key alone afterwards.
	newKey := []byte("0123456789abcdef0123456789abcdef")
	if e.db.Sealer, err = sqldb.NewSealer(newKey, stackKey); err != nil {
		t.Fatal(err)
	}
	if n, err := e.db.Reseal(context.Background()); err != nil || n < 3 {
		t.Fatalf("reseal rewrote %d values (%v)", n, err)
	}
	if e.db.Sealer, err = sqldb.NewSealer(newKey); err != nil {
		t.Fatal(err)
	}
	if got, err := e.stacks.ResolveSecrets(e.reconciler, "sim1", []string{"API_KEY"}); err != nil || got["API_KEY"] != value+"-2" {
		t.Fatalf("after rotating the key, the reconciler resolves %v (%v)", got, err)
	}
	if err := e.stacks.DeleteSecret(e.opsCtx, "sim1", "DB_PASSWORD"); purser.ErrorCode(err) != purser.ECONFLICT {
		t.Fatalf("delete a secret the current revision uses: %v", err)
	}
	if err := e.stacks.DeleteSecret(e.opsCtx, "sim1", "UNUSED"); err != nil {
		t.Fatal(err)
	}
	if err := e.stacks.DeleteSecret(e.opsCtx, "sim1", "UNUSED"); purser.ErrorCode(err) != purser.ENOTFOUND {
		t.Fatalf("delete a deleted secret: %v", err)
	}
}

// testStackActual: what the sim target records is what it reads back, so
// that a plan against it after an apply changes nothing.
func testStackActual(t *testing.T, open Opener) {
	e := newStackEnv(t, open)
	r := e.propose(t, stackfile(t, "1", "MODE=0755"))
	if err := e.stacks.SetActualService(e.opsCtx, "sim1", "web", &purser.ActualService{}); purser.ErrorCode(err) != purser.EFORBIDDEN {
		t.Fatalf("devops records actual state: %v", err)
	}
	for _, sv := range r.Normalized.Services {
		a := purser.ActualService{Spec: sv, RunningCount: *sv.DesiredCount}
		if err := e.stacks.SetActualService(e.reconciler, "sim1", sv.Name, &a); err != nil {
			t.Fatal(err)
		}
	}
	actual, err := e.stacks.ActualServices(e.devCtx, "sim1")
	if err != nil || len(actual) != 1 || actual[0].Spec.Name != "web" || actual[0].RunningCount != 1 {
		t.Fatalf("actual services %+v (%v)", actual, err)
	}
	if plan := purser.PlanStack(r.Normalized, actual); !plan.NoOp() {
		t.Fatalf("the plan after applying is %+v", plan)
	}
	if err := e.stacks.SetActualService(e.reconciler, "sim1", "web", nil); err != nil {
		t.Fatal(err)
	}
	if actual, err := e.stacks.ActualServices(e.devCtx, "sim1"); err != nil || len(actual) != 0 {
		t.Fatalf("after removing web: %+v (%v)", actual, err)
	}
	a := purser.ActualService{Spec: r.Normalized.Services[0], RunningCount: 1}
	if err := e.stacks.SetActualService(e.reconciler, "sim1", "web", &a); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stacks.ActualServices(e.devCtx, "nowhere"); purser.ErrorCode(err) != purser.ENOTFOUND {
		t.Fatalf("actual services of no cluster: %v", err)
	}
	if _, err := e.stacks.SetSecret(e.opsCtx, "sim1", "KEPT", "v"); err != nil {
		t.Fatal(err)
	}
	if err := sqldb.NewClusterService(e.db).DeleteCluster(e.opsCtx, "sim1"); err != nil {
		t.Fatalf("remove a cluster with a stack: %v", err)
	}
	var left int
	err = e.db.Read.QueryRow(context.Background(), `SELECT (SELECT COUNT(*) FROM stack_revisions) + (SELECT COUNT(*) FROM cluster_secrets)
		+ (SELECT COUNT(*) FROM stack_services_actual)`).Scan(&left)
	if err != nil || left != 0 {
		t.Fatalf("%d rows of the removed cluster's stack left (%v)", left, err)
	}
}
