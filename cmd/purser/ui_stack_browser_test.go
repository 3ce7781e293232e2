package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/purserhq/purser/client"
	"github.com/purserhq/purser/internal/stackfile"
)

// TestUIStackEditPlanApplyRollback drives the stack pages in headless
// Chromium on the demo's sim cluster: jjj opens the stack, edits the
// stackfile (a bad port first: the fault shows beside its line), plans
// it (the diff and the plan show, and only then Apply), applies it and
// sees the revision turn applied without a reload, reads the revision's
// diff, and rolls back to revision 1 with the button. Every page is
// checked for console errors and with axe-core; screenshots go where
// screenshotDir says.
func TestUIStackEditPlanApplyRollback(t *testing.T) {
	axe := axeSource(t)
	t.Setenv("PURSER_SIM_ROLLOUT_TIME", "200ms")
	url, tokens := demoServer(t)
	shots := screenshotDir(t)
	if err := client.New(url, tokens["jjj"]).SetPassword(context.Background(), "jjj", uiPassword); err != nil {
		t.Fatal(err)
	}
	jjj := newBrowser(t, newAllocator(t), "jjj", axe, shots, true)
	jjj.do("open the dashboard", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#username")))
	signIn(jjj, "jjj")

	jjj.do("the stacks", chromedp.Click(chromedp.CSS(`nav a[href="/stacks"]`)), chromedp.WaitVisible(chromedp.CSS(`#stacks a[href="/stacks/demo-sim"]`)))
	jjj.check("stacks")
	jjj.do("the demo's stack, applied", chromedp.Click(chromedp.CSS(`#stacks a[href="/stacks/demo-sim"]`)), chromedp.WaitVisible(chromedp.CSS("#services")),
		chromedp.Poll[chromedp.Void](revisionIs(1, "applied"), chromedp.WithPollingTimeout(60*time.Second)))
	if svc := jjj.text("#service-user-service"); !strings.Contains(svc, "latest / latest") || !strings.Contains(svc, "in_sync") {
		t.Fatalf("user-service on the stack's page: %q", svc)
	}
	jjj.check("stack")

	seed := string(stackfile.SeedExample)
	bad := strings.Replace(seed, `"8080:8080"`, `"http"`, 1)
	jjj.do("edit: a bad port", chromedp.Click(chromedp.CSS(`a[href="/stacks/demo-sim/edit"]`)), chromedp.WaitVisible(chromedp.CSS("#stackfile")),
		chromedp.SetValue(chromedp.CSS("#stackfile"), bad), chromedp.Click(chromedp.CSS("#plan")), chromedp.WaitVisible(chromedp.CSS("#stackfile-errors")))
	line := strings.Count(seed[:strings.Index(seed, `"8080:8080"`)], "\n") + 1
	if msg := jjj.text("#stackfile-errors"); !strings.Contains(msg, fmt.Sprintf("Line %d", line)) || !strings.Contains(msg, "services[0].routing-service.ports[0]") {
		t.Fatalf("the fault beside its line (%d): %q", line, msg)
	}
	if n, _ := chromedp.Run(jjj.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#apply").length`)); n != 0 {
		t.Fatal("Apply is offered for a stackfile that does not check")
	}
	jjj.check("stack-edit-fault", 422)

	good := strings.Replace(seed, "user-service:latest", "user-service:v2", 1)
	jjj.do("plan", chromedp.SetValue(chromedp.CSS("#stackfile"), good), chromedp.SetValue(chromedp.CSS("#message"), "user-service v2"),
		chromedp.Click(chromedp.CSS("#plan")), chromedp.WaitVisible(chromedp.CSS("#plan-diff")))
	if diff := jjj.text("#plan-diff"); !strings.Contains(diff, "+      image: xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:v2") ||
		!strings.Contains(diff, "-      image: xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:latest") {
		t.Fatalf("the plan's diff: %q", diff)
	}
	if plan := jjj.text("#plan-result table"); !strings.Contains(plan, "update") || !strings.Contains(plan, "user-service") {
		t.Fatalf("the plan: %q", plan)
	}
	jjj.check("stack-edit-plan")

	jjj.do("apply, and see it applied without a reload", chromedp.Click(chromedp.CSS("#apply")), chromedp.WaitVisible(chromedp.CSS("#services")),
		chromedp.Evaluate[chromedp.Void]("window.notReloaded = true"),
		chromedp.Poll[chromedp.Void](revisionIs(2, "applied")+` && window.notReloaded === true &&
			document.querySelector("#service-user-service .tags").textContent.includes("v2 / v2")`, chromedp.WithPollingTimeout(60*time.Second)))
	jjj.check("stack-applied")

	jjj.do("revision 2's diff", chromedp.Click(chromedp.CSS(`#revision-2 a[href="/stacks/demo-sim/revisions/2"]`)), chromedp.WaitVisible(chromedp.CSS("#revision-diff")))
	if diff := jjj.text("#revision-diff"); !strings.Contains(diff, "user-service:v2") {
		t.Fatalf("revision 2's diff: %q", diff)
	}
	jjj.check("stack-revision")

	jjj.do("roll back to revision 1", chromedp.Navigate(url+"/stacks/demo-sim"), chromedp.WaitVisible(chromedp.CSS("#revision-1 button")),
		chromedp.Evaluate[chromedp.Void]("window.confirm = () => true"), // the button asks first
		chromedp.Click(chromedp.CSS("#revision-1 button")), chromedp.WaitVisible(chromedp.CSS("#revision-3")),
		chromedp.Poll[chromedp.Void](revisionIs(3, "applied")+` && document.querySelector("#service-user-service .tags").textContent.includes("latest / latest")`,
			chromedp.WithPollingTimeout(60*time.Second)))
	if revs := jjj.text("#revisions"); !strings.Contains(revs, "restores 1") || !strings.Contains(revs, "blocked by 3") {
		t.Fatalf("the revisions after the rollback: %q", revs)
	}
	jjj.check("stack-rolled-back")

	jjj.do("a service's page", chromedp.Click(chromedp.CSS(`#service-user-service a`)), chromedp.WaitVisible(chromedp.CSS("#desired_count")),
		chromedp.SetValue(chromedp.CSS("#desired_count"), "2"), chromedp.Click(chromedp.CSS(`form:has(#desired_count) button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#services")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#service-user-service .replicas").textContent.trim() === "2 / 2"`, chromedp.WithPollingTimeout(60*time.Second)))
	jjj.check("stack-scaled")
	for _, p := range []struct{ path, sel, name string }{
		{"/stacks/demo-sim/services/user-service", "#tag-list:not([hx-get]) p", "service"}, // the registry asked after the page loaded
		{"/clusters", "#clusters", "clusters"},
		{"/clusters/demo-sim", ".facts", "cluster"},
		{"/pools", "#main h2", "pools"},
	} {
		jjj.do(p.name, chromedp.Navigate(url+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		jjj.check(p.name)
	}
}

// revisionIs is a script that holds when the stack's page shows revision
// n as the current one, in status.
func revisionIs(n int, status string) string {
	return fmt.Sprintf(`(document.getElementById("current-revision") || {textContent: ""}).textContent.includes("Revision %d is") &&
		document.getElementById("revision-status").textContent === %q`, n, status)
}

// TestUIScreenshots saves the main pages at desktop (1280 px) and phone
// (375 px) widths, and jjj's in dark mode, each checked as the other
// browser tests check theirs (axe's contrast checks included):
// into docs/screenshots with PURSER_UPDATE_SCREENSHOTS=1, else a temporary
// directory.
func TestUIScreenshots(t *testing.T) {
	axe := axeSource(t)
	t.Setenv("PURSER_SIM_ROLLOUT_TIME", "200ms")
	url, tokens := demoServer(t)
	ctx := context.Background()
	shots := screenshotDir(t)
	ops, dev := client.New(url, tokens["jjj"]), client.New(url, tokens["bbb"])
	if err := ops.SetPassword(ctx, "jjj", uiPassword); err != nil {
		t.Fatal(err)
	}
	req, err := dev.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "basic-eks-cluster", Description: "the team's staging",
		ResourceParameters: map[string]any{"cluster_name": "staging-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "dev-namespace", Description: "my sandbox"}); err != nil {
		t.Fatal(err)
	}
	addPool(t, ops)

	if err := dev.SetPassword(ctx, "bbb", uiPassword); err != nil {
		t.Fatal(err)
	}
	// bbb's pages, then jjj's.
	pages := []struct{ who, name, path, sel string }{
		{"bbb", "dashboard", "/", ".tiles"},
		{"bbb", "catalog-form", "/catalog/basic-eks-cluster", "#p-cluster_name"},
		{"bbb", "requests", "/requests", "main table"},
		{"bbb", "request", "/requests/" + req.ID, "#status-badge"},
		{"jjj", "reviews", "/reviews", "svg.bar"},
		{"jjj", "quotas", "/quotas", "svg.bar"},
		{"jjj", "stacks", "/stacks", "#stacks"},
		{"jjj", "stack", "/stacks/demo-sim", "#services"},
		{"jjj", "clusters", "/clusters", "#clusters"},
		{"jjj", "pools", "/pools", "#pools svg.bar"},
	}
	jjj := newBrowser(t, newAllocator(t), "jjj", axe, shots, true)
	bbb := newBrowser(t, jjj.ctx, "bbb", axe, shots, false)
	for _, b := range []*browser{jjj, bbb} {
		b.do("open the dashboard", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#username")))
		signIn(b, map[*browser]string{jjj: "jjj", bbb: "bbb"}[b])
	}
	jjj.do("the stack applied", chromedp.Navigate(url+"/stacks/demo-sim"),
		chromedp.Poll[chromedp.Void](revisionIs(1, "applied"), chromedp.WithPollingTimeout(60*time.Second)))
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 375, 812}} {
		for _, p := range pages {
			b := map[string]*browser{"jjj": jjj, "bbb": bbb}[p.who]
			b.name = size.name
			b.do(p.name, chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(url+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
			b.check(p.name)
			if size.w == 375 {
				noScroll(b, p.name)
			}
		}
	}
	// Dark mode, as a system set to dark shows jjj's pages.
	if _, err := chromedp.Call(jjj.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	jjj.name = "dark"
	for _, p := range pages {
		if p.who == "jjj" {
			jjj.do("dark "+p.name, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
			jjj.check(p.name)
		}
	}
	t.Logf("screenshots in %s", shots)
}

// screenshotDir is where a test saves its screenshots: docs/screenshots
// with PURSER_UPDATE_SCREENSHOTS=1, else a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("PURSER_UPDATE_SCREENSHOTS") == "" {
		return t.TempDir()
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// addPool registers four hosts with a join token and makes a pool of
// three of them, one a spare, through the API.
func addPool(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	tok, err := c.CreateJoinToken(ctx, client.JoinTokenCreate{Description: "screenshots", Reusable: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, cores := range []int{8, 8, 8, 4} {
		if _, err := c.RegisterHost(ctx, client.HostRegistration{JoinToken: tok.Token, Name: fmt.Sprintf("node-%d", i+1),
			Address: fmt.Sprintf("10.0.0.%d", i+11), Cores: cores, Memory: int64(cores) * 4 << 30, Labels: map[string]string{"rack": "a"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreatePool(ctx, client.PoolCreate{Name: "web", Cores: 16, Memory: 64 << 30, Spares: 1, Selector: map[string]string{"rack": "a"}}); err != nil {
		t.Fatal(err)
	}
}
