package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testClusterKinds: a sim cluster registers without credentials; an ecs
// cluster's access key is sealed at rest, never read back but by a
// driver, and its server is its region's endpoint unless it names one.
func testClusterKinds(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	clusters := sqldb.NewClusterService(db)
	if err := clusters.CreateCluster(opsCtx, &purser.Cluster{Name: "sim1", Kind: purser.ClusterSim}); err != nil {
		t.Fatalf("register a sim cluster: %v", err)
	}
	const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	ecs := &purser.Cluster{Name: "ecs1", Kind: purser.ClusterECS, Region: "eu-west-1", ECSCluster: "prod",
		AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret}
	if err := clusters.CreateCluster(opsCtx, ecs); err != nil {
		t.Fatalf("register an ecs cluster: %v", err)
	}
	bad := &purser.Cluster{Name: "ecs2", Kind: purser.ClusterECS, Region: "eu-west-1", ECSCluster: "prod"}
	if err := clusters.CreateCluster(opsCtx, bad); purser.ErrorCode(err) != purser.EINVALID || !strings.Contains(err.Error(), "role ARN") {
		t.Fatalf("an ecs cluster without credentials: %v", err)
	}
	got, err := clusters.FindClusterByName(opsCtx, "ecs1")
	if err != nil || got.Kind != purser.ClusterECS || got.Server != "https://ecs.eu-west-1.amazonaws.com" || got.SecretAccessKey != "" || got.AccessKeyID != "" {
		t.Fatalf("ecs1 reads %+v (%v)", got, err)
	}
	withCreds, err := db.ClusterCredentials(context.Background(), "ecs1")
	if err != nil || withCreds.SecretAccessKey != secret || withCreds.ECSCluster != "prod" || withCreds.Region != "eu-west-1" {
		t.Fatalf("a driver reads ecs1 as %+v (%v)", withCreds, err)
	}
	var raw string
	if err := db.Read.QueryRow(context.Background(), "SELECT credentials FROM clusters WHERE name = ?", "ecs1").Scan(&raw); err != nil || strings.Contains(raw, secret) {
		t.Fatalf("ecs1's credentials stored as %q (%v)", raw, err)
	}
	noPlaintext(t, db, secret)
}
