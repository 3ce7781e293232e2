package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testStackDeployers: a cluster's deployers (a user by name, or a role)
// change its services' tags and counts through the store without
// stacks:write, and nothing else; a developer who is not one changes
// nothing. Deployers must name users and roles that exist, and are kept
// and changed with the cluster.
func testStackDeployers(t *testing.T, open Opener) {
	e := newStackEnv(t, open)
	clusters := sqldb.NewClusterService(e.db)
	aliceCtx, _ := as(t, e.db, "alice", purser.RoleDev)
	if _, err := sqldb.NewRoleService(e.db).CreateRole(e.adminCtx, &purser.Role{Role: "release", IsActive: true}); err != nil {
		t.Fatal(err)
	}
	bobCtx, _ := as(t, e.db, "bob", "release")

	bad := &purser.Cluster{Name: "sim2", Kind: purser.ClusterSim, Deployers: []string{"user:alice", "user:nobody", "role:ghosts"}}
	err := clusters.CreateCluster(e.opsCtx, bad)
	if purser.ErrorCode(err) != purser.EINVALID || !strings.Contains(fieldText(err), "deployers[1]: there is no user nobody") ||
		!strings.Contains(fieldText(err), "deployers[2]: there is no role ghosts") {
		t.Fatalf("deployers naming no one: %v (%s)", err, fieldText(err))
	}
	ds := []string{"user:alice"}
	if _, err := updateCluster(e.devCtx, clusters, "sim1", purser.ClusterUpdate{Deployers: &ds}, ""); purser.ErrorCode(err) != purser.EFORBIDDEN {
		t.Fatalf("a dev names deployers: %v", err)
	}
	got, err := updateCluster(e.opsCtx, clusters, "sim1", purser.ClusterUpdate{Deployers: &[]string{"user:alice", "role:release"}}, "")
	if err != nil || len(got.Deployers) != 2 {
		t.Fatalf("name deployers: %+v (%v)", got, err)
	}
	if got, err = clusters.FindClusterByName(e.opsCtx, "sim1"); err != nil || strings.Join(got.Deployers, ",") != "user:alice,role:release" {
		t.Fatalf("deployers read back: %+v (%v)", got, err)
	}

	base := stackfile(t, "1", "LEVEL=info")
	e.propose(t, base)
	if _, err := e.stacks.ProposeRevision(aliceCtx, "nowhere", base); purser.ErrorCode(err) != purser.ENOTFOUND {
		t.Fatalf("propose on no cluster: %v", err)
	}
	edit := func(f func(sf *purser.Stackfile)) purser.StackProposal {
		p := stackfile(t, "1", "LEVEL=info")
		f(p.Stackfile)
		return p
	}
	tagAndCount := edit(func(sf *purser.Stackfile) { sf.Services[0].Image = "nginx:2"; sf.Services[0].DesiredCount = ptr(3) })
	r, err := e.stacks.ProposeRevision(aliceCtx, "sim1", tagAndCount)
	if err != nil || r.Number != 2 || r.Author != "alice" {
		t.Fatalf("a deployer sets a tag and a count: %+v (%v)", r, err)
	}
	if r, err = e.stacks.ProposeRevision(bobCtx, "sim1", edit(func(sf *purser.Stackfile) { sf.Services[0].Image = "nginx:3" })); err != nil || r.Number != 3 {
		t.Fatalf("a deployer by role sets a tag: %+v (%v)", r, err)
	}
	for name, p := range map[string]purser.StackProposal{
		"adds a service": edit(func(sf *purser.Stackfile) {
			sf.Services = append(sf.Services, purser.StackService{Name: "miner", Image: "x/miner:1"})
		}),
		"changes env":   stackfile(t, "3", "LEVEL=debug"),
		"changes repo":  edit(func(sf *purser.Stackfile) { sf.Services[0].Image = "evil/nginx:3" }),
		"sets a secret": stackfile(t, "3", "LEVEL=info", "X=${X}"),
	} {
		if _, err := e.stacks.ProposeRevision(aliceCtx, "sim1", p); purser.ErrorCode(err) != purser.EFORBIDDEN ||
			!strings.Contains(err.Error(), "image tags (same repository) and desired counts") {
			t.Errorf("a deployer %s: %v", name, err)
		}
	}
	if _, err := e.stacks.ProposeRevision(e.devCtx, "sim1", tagAndCount); purser.ErrorCode(err) != purser.EFORBIDDEN ||
		!strings.Contains(err.Error(), "stacks:write") {
		t.Fatalf("a developer who is no deployer sets a tag: %v", err)
	}
	if _, err := e.stacks.RollbackStack(aliceCtx, "sim1", 1, nil); purser.ErrorCode(err) != purser.EFORBIDDEN {
		t.Fatalf("a deployer rolls back: %v", err)
	}
	if r, err := e.stacks.StackRevision(e.devCtx, "sim1", 4); purser.ErrorCode(err) != purser.ENOTFOUND {
		t.Fatalf("a refused change was stored: %+v (%v)", r, err)
	}

	// Once no longer a deployer, alice changes nothing.
	if _, err := updateCluster(e.opsCtx, clusters, "sim1", purser.ClusterUpdate{Deployers: &[]string{}}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stacks.ProposeRevision(aliceCtx, "sim1", edit(func(sf *purser.Stackfile) { sf.Services[0].Image = "nginx:4" })); purser.ErrorCode(err) != purser.EFORBIDDEN {
		t.Fatalf("a former deployer sets a tag: %v", err)
	}
}

// testClusterECSUpdate: an ecs cluster's region and credentials change
// through UpdateCluster; a new role replaces the access key, which is
// never returned; an ecs field on another kind is refused.
func testClusterECSUpdate(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	clusters := sqldb.NewClusterService(db)
	const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	if err := clusters.CreateCluster(opsCtx, &purser.Cluster{Name: "ecs1", Kind: purser.ClusterECS, Region: "eu-west-1", ECSCluster: "prod",
		AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret}); err != nil {
		t.Fatal(err)
	}
	got, err := clusters.FindClusterByName(opsCtx, "ecs1")
	if err != nil || got.Region != "eu-west-1" || got.ECSCluster != "prod" || got.AccessKeyID != "" || got.SecretAccessKey != "" {
		t.Fatalf("ecs1 reads %+v (%v)", got, err)
	}
	region, role := "us-east-2", "arn:aws:iam::123456789012:role/purser"
	got, err = updateCluster(opsCtx, clusters, "ecs1", purser.ClusterUpdate{ECS: purser.ECSUpdate{Region: &region, RoleARN: &role}}, "")
	if err != nil || got.Region != "us-east-2" || got.Server != "https://ecs.us-east-2.amazonaws.com" || got.RoleARN != "" || got.SecretAccessKey != "" {
		t.Fatalf("move ecs1 and give it a role: %+v (%v)", got, err)
	}
	withCreds, err := db.ClusterCredentials(t.Context(), "ecs1")
	if err != nil || withCreds.RoleARN != role || withCreds.AccessKeyID != "" || withCreds.SecretAccessKey != "" || withCreds.Region != region {
		t.Fatalf("a driver reads ecs1 as %+v (%v)", withCreds, err)
	}
	key := "AKIAIOSFODNN7EXAMPLE"
	if _, err := updateCluster(opsCtx, clusters, "ecs1", purser.ClusterUpdate{ECS: purser.ECSUpdate{AccessKeyID: &key}}, ""); purser.ErrorCode(err) != purser.EINVALID ||
		!strings.Contains(err.Error()+fieldText(err), "secret") {
		t.Fatalf("a key id without its secret: %v (%s)", err, fieldText(err))
	}
	if err := clusters.CreateCluster(opsCtx, &purser.Cluster{Name: "sim1", Kind: purser.ClusterSim}); err != nil {
		t.Fatal(err)
	}
	if _, err := updateCluster(opsCtx, clusters, "sim1", purser.ClusterUpdate{ECS: purser.ECSUpdate{Region: &region}}, ""); purser.ErrorCode(err) != purser.EINVALID {
		t.Fatalf("a region for a sim cluster: %v", err)
	}
	noPlaintext(t, db, secret)
}

// updateCluster updates a cluster as the API's service does, without
// probing it.
func updateCluster(ctx context.Context, clusters *sqldb.ClusterService, name string, upd purser.ClusterUpdate, ifMatch string) (*purser.Cluster, error) {
	before, after, err := clusters.ClusterToUpdate(ctx, name, upd, ifMatch)
	if err != nil {
		return nil, err
	}
	return clusters.SaveCluster(ctx, before, after)
}

// fieldText lists an error's fields as "field: message; ...".
func fieldText(err error) string {
	pe, ok := err.(*purser.Error)
	if !ok {
		return ""
	}
	out := make([]string, len(pe.Fields))
	for i, f := range pe.Fields {
		out[i] = f.Field + ": " + f.Message
	}
	return strings.Join(out, "; ")
}
