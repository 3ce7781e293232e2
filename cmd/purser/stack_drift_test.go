package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// TestStackDrift: a change made behind Purser's back is found by a scan,
// shown, told once, exported as a metric, and corrected in correct mode;
// an unchanged stack scanned twice reports no drift.
func TestStackDrift(t *testing.T) { eachStore(t, testStackDrift) }

func testStackDrift(t *testing.T, env ...string) {
	url, admin := server(t, append(env, "PURSER_SIM_ROLLOUT_TIME", "-1s")...)
	must := func(args ...string) string { t.Helper(); return mustAs(t, url, admin, args...) }
	seed := filepath.Join("..", "..", "internal", "stackfile", "testdata", "seed.yaml")
	must("clusters", "add", "drifty", "--kind", "sim", "--config", seed)
	waitStatus(t, url, admin, "drifty", 1, "applied")
	for range 2 {
		if out := must("stacks", "drift", "drifty", "--scan"); !strings.Contains(out, "drifty runs revision 1 as applied") {
			t.Fatalf("an unchanged stack:\n%s", out)
		}
	}

	// Behind Purser's back: the sim target's user-service now runs another image.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := LoadConfig("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	sys := purser.SystemContext(ctx)
	stacks := sqldb.NewStackService(st.db)
	actual, err := stacks.ActualServices(sys, "drifty")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actual {
		if a.Spec.Name == "user-service" {
			a.Spec.Image = "xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:hotfix"
			if err := stacks.SetActualService(sys, "drifty", "user-service", &a); err != nil {
				t.Fatal(err)
			}
		}
	}

	out := must("stacks", "drift", "drifty", "--scan")
	if !strings.Contains(out, "drifty differs from revision 1") || !regexp.MustCompile(`user-service\s+update\s+image: \S+:hotfix \(applied: \S+:latest\)`).MatchString(out) {
		t.Fatalf("the drift:\n%s", out)
	}
	if svc := must("stacks", "services", "drifty"); !regexp.MustCompile(`user-service\s+drifted\s+latest\s+hotfix`).MatchString(svc) {
		t.Fatalf("services do not show the drift:\n%s", svc)
	}
	must("stacks", "drift", "drifty", "--scan") // the same drift, scanned again: told once
	if n := strings.Count(must("inbox", "--all", "-o", "json"), `"stack.drifted"`); n != 1 {
		t.Fatalf("the drift was told %d times, want once", n)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `purser_stack_drift{cluster="drifty"} 1`) {
		t.Fatalf("no purser_stack_drift metric for the drift")
	}

	// correct mode applies the revision again.
	must("clusters", "update", "drifty", "--drift", "correct")
	must("stacks", "drift", "drifty", "--scan")
	deadline := time.Now().Add(30 * time.Second)
	for !regexp.MustCompile(`user-service\s+in_sync\s+latest\s+latest`).MatchString(must("stacks", "services", "drifty")) {
		if time.Now().After(deadline) {
			t.Fatalf("correct mode did not restore user-service:\n%s", must("stacks", "services", "drifty"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := must("stacks", "drift", "drifty", "--scan"); !strings.Contains(out, "drifty runs revision 1 as applied") {
		t.Fatalf("after the correction:\n%s", out)
	}
}
