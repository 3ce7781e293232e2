package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/driver/sim"
	"github.com/purserhq/purser/internal/notify/smtptest"
)

// testClock is the server's clock in tests: real time plus an offset the
// test moves forward.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestSeedFlowEndToEnd drives the provisioning-assistant seed README's
// whole flow through the real server (workers, sim driver, real SMTP),
// then expiry, reminders and purge with time moved by the test.
func TestSeedFlowEndToEnd(t *testing.T) { eachStore(t, testSeedFlowEndToEnd) }

func testSeedFlowEndToEnd(t *testing.T, env ...string) {
	smtp := smtptest.Start(t)
	var clk testClock
	dataDir := t.TempDir()
	url, token := serverHooked(t, hooks{NowFunc: clk.now}, []string{"server"}, append([]string{"PURSER_DATA_DIR", dataDir, "PURSER_SMTP_HOST", smtp.Host, "PURSER_SMTP_PORT", fmt.Sprint(smtp.Port),
		"PURSER_SMTP_USERNAME", smtp.Username, "PURSER_SMTP_PASSWORD", smtp.Password, "PURSER_SMTP_INSECURE_SKIP_VERIFY", "true",
		"PURSER_SMTP_FROM", "purser@example.com"}, env...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := client.New(url, token)

	// Pre-populate, as the seed README does (roles exist already: built in).
	for _, r := range []string{"admin", "dev", "devops"} {
		if _, err := admin.CreateRole(ctx, r, r); err != nil {
			t.Fatal(err)
		}
	}
	bbb, _ := admin.CreateUser(ctx, client.UserCreate{Username: "bbb", Name: "BBB", Email: "bbb@xyz.com", Roles: []string{"dev"}})
	jjj, _ := admin.CreateUser(ctx, client.UserCreate{Username: "jjj", Name: "JJJ", Email: "jjj@xyz.com", Roles: []string{"devops"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "bbb", User: bbb.ID})
	opsTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "jjj", User: jjj.ID})
	dev, ops := client.New(url, devTok.Token), client.New(url, opsTok.Token)
	if _, err := ops.CreateTemplate(ctx, map[string]any{"_id": "basic-eks-cluster", "name": "Basic EKS Cluster", "type": "EKSCTL",
		"url":    "https://raw.githubusercontent.com/ashutoshdtu/assistant-rest-apiserver/main/app/src/rest_apiserver/models/eksctl_templates/basic-eks-cluster.yaml",
		"params": []string{"cluster_name", "region", "instance_type", "desired_capacity", "volume_size"}}); err != nil {
		t.Fatal(err)
	}

	// The provision request, its review, provisioning.
	r, err := dev.CreateRequest(ctx, client.RequestCreate{Description: "2 node k8s cluster of t2.micro instances",
		ExpiresBy: clk.now().Add(72 * time.Hour).UTC().Format(time.RFC1123), RequestedBy: bbb.ID, ResourceType: "KUBERNETES",
		ResourceTemplate: "basic-eks-cluster", ResourceParameters: map[string]any{"cluster_name": "dev-cluster-2", "region": "us-west-1",
			"instance_type": "t2.micro", "desired_capacity": 2, "volume_size": 30}})
	if err != nil {
		t.Fatal(err)
	}
	var ans map[string]any
	if err := ops.Do(ctx, "POST", "/v1/approveProvisionRequest", map[string]any{"_id": r.ID, "reviewed_by": jjj.ID, "status": "APPROVED"}, &ans); err != nil || ans["status"] != "APPROVED" {
		t.Fatalf("approve: %v %v", ans, err)
	}
	if r, err = dev.WaitRequest(ctx, r.ID, nil, "DEPLOYED", "FAILED"); err != nil || r.Status != "DEPLOYED" {
		t.Fatalf("provisioning ended %v: %v", r, err)
	}
	out, err := dev.RequestOutputs(ctx, r.ID)
	if err != nil || !strings.HasPrefix(out["simulated"], "true") || out["password"] == "" {
		t.Fatalf("outputs %v %v", out, err)
	}

	// The extension, the seed's way.
	var ext map[string]any
	if err := dev.Do(ctx, "POST", "/v1/extensionRequests", map[string]any{"reason": "Delay in project.", "extend_by": "48",
		"requested_by": bbb.ID, "provision_request": r.ID}, &ext); err != nil {
		t.Fatal(err)
	}
	if err := ops.Do(ctx, "POST", "/v1/approveExtensionRequest", map[string]any{"_id": ext["_id"], "reviewed_by": jjj.ID, "status": "APPROVED"}, &ans); err != nil {
		t.Fatal(err)
	}
	if after, _ := dev.GetRequest(ctx, r.ID); !after.ExpiresBy.Equal(r.ExpiresBy.Add(48*time.Hour)) || !after.Extended {
		t.Fatalf("extension: expires %s, was %s", after.ExpiresBy, r.ExpiresBy)
	}

	// Time passes: 2 h before expiry the 48 h and 2 h reminders are due.
	clk.advance(120*time.Hour - 90*time.Minute)
	if n, err := admin.RunExpiry(ctx); err != nil || n != 0 {
		t.Fatalf("expiry before its time: %d %v", n, err)
	}
	inbox, _ := dev.Inbox(ctx, false, client.ListOptions{Where: `{"event":"request.expiring"}`})
	if inbox.Meta.Total == nil || *inbox.Meta.Total != 1 {
		t.Fatalf("reminders in the inbox: %d, want 1 (sent together)", len(inbox.Items))
	}
	// Then past expiry: expired, purged by the workers.
	clk.advance(2 * time.Hour)
	if n, err := admin.RunExpiry(ctx); err != nil || n != 1 {
		t.Fatalf("expiry: %d %v", n, err)
	}
	if r, err = dev.WaitRequest(ctx, r.ID, nil, "PURGED", "PURGE_FAILED"); err != nil || r.Status != "PURGED" {
		t.Fatalf("purge ended %v: %v", r, err)
	}
	hist, _ := dev.RequestHistory(ctx, r.ID)
	var actions []string
	for _, e := range hist.Items {
		actions = append(actions, e.Action)
	}
	want := "request.create,request.approve,request.start,request.deploy,request.extend,request.expire,request.purge,request.purged"
	if got := strings.Join(actions, ","); got != want {
		t.Fatalf("history %s\nwant    %s", got, want)
	}

	// The notifications went out for real: bbb's inbox and mail, jjj's mail.
	// The purge's mail comes last: wait for it (waiting for 7 mails raced it).
	deadline := time.Now().Add(30 * time.Second)
	msgs := smtp.Wait(7, time.Until(deadline))
	for !strings.Contains(fmt.Sprint(msgs), "Environment purged") && time.Now().Before(deadline) {
		msgs = smtp.Wait(len(msgs)+1, time.Until(deadline))
	}
	subjects := map[string][]string{}
	for _, m := range msgs {
		for _, to := range m.To {
			for _, line := range strings.Split(m.Data, "\r\n") {
				if s, ok := strings.CutPrefix(line, "Subject: "); ok {
					subjects[to] = append(subjects[to], s)
				}
			}
		}
	}
	for _, w := range []string{"approved", "ready", "Extension approved", "expiring", "expired", "purged"} {
		if !strings.Contains(strings.Join(subjects["bbb@xyz.com"], "|"), w) {
			t.Errorf("bbb got no email about %q: %v", w, subjects["bbb@xyz.com"])
		}
	}
	if !strings.Contains(strings.Join(subjects["jjj@xyz.com"], "|"), "review") {
		t.Errorf("the reviewer got no email: %v", subjects["jjj@xyz.com"])
	}

	// The sim driver's ledger: created once, destroyed once.
	entries, err := sim.ReadLedger(filepath.Join(dataDir, "sim", "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for _, e := range entries {
		if e.Request == r.ID {
			results = append(results, e.Op+":"+e.Result)
		}
	}
	if got := strings.Join(results, " "); got != "provision:created destroy:destroyed" {
		t.Fatalf("sim ledger for %s: %s", r.ID, got)
	}
}

// TestPurgeWhileProvisioning purges a request whose environment is still
// being made: whatever the driver finishes making is destroyed.
func TestPurgeWhileProvisioning(t *testing.T) { eachStore(t, testPurgeWhileProvisioning) }

func testPurgeWhileProvisioning(t *testing.T, env ...string) {
	dataDir := t.TempDir()
	url, token := server(t, append([]string{"PURSER_DATA_DIR", dataDir}, env...)...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := client.New(url, token)
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "slow", "name": "Slow", "config": map[string]any{"delay": "1500ms", "destroy_delay": "0s"}}); err != nil {
		t.Fatal(err)
	}
	dev, _ := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	tok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	devc := client.New(url, tok.Token)
	r, err := devc.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ActOnRequest(ctx, r.ID, "approve", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := devc.WaitRequest(ctx, r.ID, nil, "INITIATED"); err != nil {
		t.Fatal(err)
	}
	if _, err := devc.ActOnRequest(ctx, r.ID, "purge", ""); err != nil {
		t.Fatal(err)
	}
	if r, err = devc.WaitRequest(ctx, r.ID, nil, "PURGED", "PURGE_FAILED"); err != nil || r.Status != "PURGED" {
		t.Fatalf("purge ended %v: %v", r, err)
	}
	// The provision job is still making the environment; when it is done it
	// must destroy it. Watch the ledger until it says so.
	ledger := filepath.Join(dataDir, "sim", "ledger.jsonl")
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		entries, _ := sim.ReadLedger(ledger)
		created, destroyed := 0, 0
		for _, e := range entries {
			if e.Request == r.ID && e.Result == "created" {
				created++
			}
			if e.Request == r.ID && e.Result == "destroyed" {
				destroyed++
			}
		}
		if created == 1 && destroyed == 1 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ledger for %s: %d created, %d destroyed: an environment was left behind", r.ID, created, destroyed)
		case <-tick.C:
		}
	}
}
