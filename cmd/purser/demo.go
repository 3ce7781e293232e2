package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/driver/sim"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/stackfile"
)

// demoUsers are the people of the demo, from the seed README's set-up calls.
var demoUsers = []struct{ username, name, role string }{
	{"jjj", "JJJ (DevOps)", purser.RoleDevOps},
	{"bbb", "BBB (developer)", purser.RoleDev},
	{"ccc", "CCC (developer)", purser.RoleDev},
}

// seedDemo adds what the demo needs and is missing: users with tokens, the
// seed's basic-eks-cluster template and a namespace template (both on the
// simulated cloud), a quota for developers, and a simulated cluster with
// the desired-state seed's stack. What exists already (from an
// earlier demo, or made by hand as the README shows) is reused as it is. It
// returns the tokens it made: a demo user missing from it existed before,
// and its token cannot be shown again.
func seedDemo(ctx context.Context, db *sqldb.DB) (map[string]string, error) {
	sys := purser.SystemContext(ctx)
	users := sqldb.NewUserService(db)
	tokens := map[string]string{}
	for _, d := range demoUsers {
		_, n, err := users.FindUsers(sys, purser.Query{Where: []purser.Cond{{Field: "username", Op: "$eq", Value: d.username}}, Page: 1, MaxResults: 1})
		if err != nil {
			return nil, err
		}
		if n.Total > 0 {
			continue
		}
		u := &purser.User{Username: d.username, Name: d.name, Email: d.username + "@example.com", Roles: []string{d.role}, IsActive: true}
		if err := users.CreateUser(sys, u); err != nil {
			return nil, fmt.Errorf("demo user %s: %w", d.username, err)
		}
		_, secret, err := sqldb.NewTokenService(db).CreateToken(sys, u.ID, "demo", nil)
		if err != nil {
			return nil, err
		}
		tokens[d.username] = secret
	}
	min1, max50, max500 := 1.0, 50.0, 500.0
	templates := []*purser.Template{
		{Meta: purser.Meta{ID: "basic-eks-cluster"}, Name: "Basic EKS Cluster", Type: "EKSCTL", Driver: sim.Name, ResourceType: "KUBERNETES",
			Description: "The seed's eksctl cluster, on the simulated cloud (nothing real is created).",
			URL:         "https://raw.githubusercontent.com/ashutoshdtu/assistant-rest-apiserver/main/app/src/rest_apiserver/models/eksctl_templates/basic-eks-cluster.yaml",
			Params: []purser.Param{
				{Name: "cluster_name", Type: purser.ParamString, Required: true, Pattern: "[a-z][a-z0-9-]{0,39}"},
				{Name: "region", Type: purser.ParamEnum, Options: []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1"}, Default: "us-west-1"},
				{Name: "instance_type", Type: purser.ParamEnum, Options: []string{"t2.micro", "t3.medium", "m5.large"}, Default: "t2.micro"},
				{Name: "desired_capacity", Type: purser.ParamInteger, Min: &min1, Max: &max50, Default: float64(2)},
				{Name: "volume_size", Type: purser.ParamInteger, Min: &min1, Max: &max500, Default: float64(30)},
			},
			Footprint: purser.FootprintExprs{
				Cores:       `desired_capacity * (instance_type == "t2.micro" ? 1 : 2)`,
				Memory:      `desired_capacity * (instance_type == "t2.micro" ? 1 : instance_type == "t3.medium" ? 4 : 8)`,
				CostPerHour: `0.10 + desired_capacity * (instance_type == "t2.micro" ? 0.0116 : instance_type == "t3.medium" ? 0.0416 : 0.096)`,
			},
			Config: map[string]any{"delay": "3s"}, IsActive: true},
		{Meta: purser.Meta{ID: "dev-namespace"}, Name: "Developer namespace", Driver: sim.Name, ResourceType: "KUBERNETES",
			Description: "A namespace with a quota, on the simulated cloud; approved automatically when small.",
			Params: []purser.Param{
				{Name: "cpu", Type: purser.ParamNumber, Min: &min1, Max: &max50, Default: float64(2)},
				{Name: "memory_gib", Type: purser.ParamNumber, Min: &min1, Max: &max500, Default: float64(4)},
			},
			Footprint: purser.FootprintExprs{Cores: "cpu", Memory: "memory_gib", CostPerHour: "cpu * 0.02 + memory_gib * 0.005"},
			Approval:  purser.ApprovalPolicy{Mode: purser.ApprovalAuto, Approvers: 1, AutoMax: purser.Footprint{Cores: 4, Memory: 8, CostPerHour: 1}},
			Config:    map[string]any{"delay": "1s"}, IsActive: true},
	}
	for _, t := range templates {
		if _, err := sqldb.NewTemplateService(db).FindTemplateByID(sys, t.ID); err == nil {
			continue
		} else if purser.ErrorCode(err) != purser.ENOTFOUND {
			return nil, err
		}
		if err := sqldb.NewTemplateService(db).CreateTemplate(sys, t); err != nil {
			return nil, fmt.Errorf("demo template %s: %w", t.ID, err)
		}
	}
	quotas := sqldb.NewQuotaService(db)
	_, n, err := quotas.FindQuotas(sys, purser.Query{Where: []purser.Cond{{Field: "role", Op: "$eq", Value: purser.RoleDev},
		{Field: "quota_type", Op: "$eq", Value: purser.QuotaPermanent}}, Page: 1, MaxResults: 1})
	if err != nil {
		return nil, err
	}
	if n.Total == 0 {
		envs, cores, mem, cost := 3.0, 16.0, 64.0, 500.0
		if err := quotas.CreateQuota(sys, &purser.Quota{Role: purser.RoleDev, QuotaType: purser.QuotaPermanent,
			Limits: purser.Limits{Environments: &envs, Cores: &cores, Memory: &mem, MonthlyCost: &cost}, Description: "demo: per developer"}); err != nil {
			return nil, err
		}
	}
	if err := seedDemoStack(sys, db); err != nil {
		return nil, err
	}
	return tokens, nil
}

// demoCluster is the simulated cluster the demo gives the seed's stack.
const demoCluster = "demo-sim"

// seedDemoStack registers demoCluster, kind sim, with the desired-state
// seed's stackfile as its revision 1, unless a cluster of that name exists.
func seedDemoStack(sys context.Context, db *sqldb.DB) error {
	clusters := sqldb.NewClusterService(db)
	if _, err := clusters.FindClusterByName(sys, demoCluster); err == nil {
		return nil
	} else if purser.ErrorCode(err) != purser.ENOTFOUND {
		return err
	}
	c := &purser.Cluster{Name: demoCluster, Kind: purser.ClusterSim, Description: "demo: the desired-state seed's stack, on a simulated cluster"}
	c.RecordCheck(purser.SimulatedVersion, nil, time.Now().UTC().Truncate(time.Microsecond))
	if err := clusters.CreateCluster(sys, c); err != nil {
		return fmt.Errorf("demo cluster: %w", err)
	}
	sf, err := stackfile.Parse(stackfile.SeedExample)
	if err != nil {
		return fmt.Errorf("demo stack: %w", err)
	}
	_, err = sqldb.NewStackService(db).ProposeRevision(sys, demoCluster, purser.StackProposal{
		Message: "demo: the desired-state seed's stackfile", Source: string(stackfile.SeedExample), Stackfile: sf})
	return err
}

// demoToken is a demo user's token as the banner shows it: the token made
// now, or what to type instead when the user existed before.
func demoToken(tokens map[string]string, username string) string {
	if t, ok := tokens[username]; ok {
		return t
	}
	return "<" + username + "'s token>"
}

// printDemo prints the demo's tokens and what to try, each command as self
// (see selfCommand) runs it.
func printDemo(w io.Writer, self, url string, tokens map[string]string) {
	fmt.Fprintf(w, "Demo: users, templates on the simulated cloud and a developer quota are ready. Tokens:\n\n")
	var old []string
	for _, d := range demoUsers {
		t, ok := tokens[d.username]
		if !ok {
			t = "(existed already: its token cannot be shown again)"
			old = append(old, d.username)
		}
		fmt.Fprintf(w, "    %-4s %-16s %s\n", d.username, d.name, t)
	}
	for _, u := range old {
		fmt.Fprintf(w, "\nTo get a new token for %s, run on this host:  %s admin token --user %s", u, self, u)
	}
	if len(old) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nTry, as bbb (a developer) then jjj (DevOps):\n\n")
	steps := []string{
		self + " login --server " + url + " --token " + demoToken(tokens, "bbb"),
		self + " templates list",
		self + " requests create --template basic-eks-cluster --param cluster_name=demo --param desired_capacity=2",
		self + " requests create --template dev-namespace --wait      # small: approved automatically",
		self + " requests list",
		self + " login --server " + url + " --token " + demoToken(tokens, "jjj"),
		self + " requests list --status REQUESTED      # or --where '{\"status\":\"REQUESTED\"}'",
		self + " requests approve <id>",
		self + " quotas usage",
		self + " stacks services " + demoCluster + "      # the desired-state seed's stack, deployed on a simulated cluster",
		self + " stacks set-image " + demoCluster + " user-service v2 --wait      # a rollout, service by service",
	}
	fmt.Fprintf(w, "    %s\n\n", strings.Join(steps, "\n    "))
}
