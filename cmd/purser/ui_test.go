package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/purserhq/purser/client"
)

const uiPassword = "a long enough password"

// TestUIRequestReviewDeploy drives the web UI in headless Chromium on the
// demo (SQLite): bbb signs in and requests a cluster from the form, first
// with a bad parameter (the server's message shows beside the field),
// then a good one; jjj signs in, sees it in the review queue with its
// quota bars, and approves; bbb's request page turns DEPLOYED without a
// reload and reveals the outputs. On SQLite, and on PostgreSQL when
// PURSER_TEST_POSTGRES_URL is set. Every page is checked for console
// errors and with axe-core; screenshots go to a temporary directory.
func TestUIRequestReviewDeploy(t *testing.T) { eachStore(t, testUIRequestReviewDeploy) }

func testUIRequestReviewDeploy(t *testing.T, env ...string) {
	axe := axeSource(t)
	setEnv(t, env...)
	url, tokens := demoServer(t)
	ctx := context.Background()
	shots, err := os.MkdirTemp("", "purser-ui-shots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	// Passwords: bbb's through the client, jjj's through the CLI.
	if err := client.New(url, tokens["bbb"]).SetPassword(ctx, "bbb", uiPassword); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main(ctx, []string{"users", "set-password", "jjj", "--server", url, "--token", tokens["jjj"]},
		strings.NewReader(uiPassword+"\n"), &out, &errOut); code != 0 {
		t.Fatalf("users set-password: %d %s %s", code, out.String(), errOut.String())
	}

	alloc := newAllocator(t)
	bbb := newBrowser(t, alloc, "bbb", axe, shots, true)
	bbb.do("open the dashboard", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#username")))
	bbb.check("signin")
	signIn(bbb, "bbb")
	bbb.check("dashboard")

	bbb.do("open the catalog", chromedp.Navigate(url+"/catalog"), chromedp.WaitVisible(chromedp.CSS(`a[href="/catalog/basic-eks-cluster"]`)))
	bbb.check("catalog")
	bbb.do("open the form", chromedp.Click(chromedp.CSS(`a.button[href="/catalog/basic-eks-cluster"]`)),
		chromedp.WaitVisible(chromedp.CSS("#p-cluster_name")))
	bbb.check("form")
	bbb.do("submit a bad cluster name",
		chromedp.SetValue(chromedp.CSS("#p-cluster_name"), "Bad_Name!"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#p-cluster_name-error")))
	if msg := bbb.text("#p-cluster_name-error"); !strings.Contains(msg, "match") {
		t.Fatalf("the message beside cluster_name: %q", msg)
	}
	bbb.check("form-422", 422)
	bbb.do("submit a good one",
		chromedp.SetValue(chromedp.CSS("#p-cluster_name"), "ui-cluster-1"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#status-badge")))
	if s := bbb.text("#status-badge"); s != "REQUESTED" {
		t.Fatalf("status after submitting: %q", s)
	}
	loc, _ := chromedp.Run(bbb.ctx, chromedp.Location())
	id := regexp.MustCompile(`/requests/([^/?]+)$`).FindStringSubmatch(loc)
	if id == nil {
		t.Fatalf("not on a request page: %s", loc)
	}
	bbb.check("request-requested")
	// A mark that a reload would wipe.
	bbb.do("mark the page", chromedp.Evaluate[chromedp.Void]("window.notReloaded = true"))

	jjj := newBrowser(t, bbb.ctx, "jjj", axe, shots, false)
	jjj.do("open the dashboard", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#username")))
	signIn(jjj, "jjj")
	if n := jjj.text("#pending-reviews"); n != "1" {
		t.Fatalf("jjj's dashboard: %s waiting for review", n)
	}
	jjj.do("open the queue", chromedp.Navigate(url+"/reviews"), chromedp.WaitVisible(chromedp.CSS("#review-"+id[1])))
	bars, err := chromedp.Run(jjj.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#review-`+id[1]+` svg.bar").length`))
	if err != nil || bars != 4 {
		t.Fatalf("quota bars in the queue: %d %v", bars, err)
	}
	jjj.check("reviews")
	jjj.do("approve",
		chromedp.SetValue(chromedp.CSS("#comment-"+id[1]), "looks fine"),
		chromedp.Click(chromedp.CSS(`#review-`+id[1]+` button[value="approve"]`)),
		// "main p" is on the queue before the redirect too: wait for what
		// only the queue the redirect shows has (the request is gone from it).
		chromedp.WaitVisible(chromedp.Search(`//main//p[contains(., "Nothing waits for review")]`)))
	jjj.check("reviews-after")
	jjj.do("quotas", chromedp.Navigate(url+"/quotas"), chromedp.WaitVisible(chromedp.CSS("svg.bar")))
	jjj.check("quotas")

	bbb.do("see it deployed without a reload",
		chromedp.Poll[chromedp.Void](`document.getElementById("status-badge").textContent === "DEPLOYED" && window.notReloaded === true &&
			document.querySelectorAll("#timeline li").length >= 3 &&
			// htmx has bound the reveal link the stream swapped in (before, a
			// click follows the link to the outputs page, as without JavaScript)
			(document.getElementById("reveal")?.["htmx-internal-data"]?.initHash ?? "") !== ""`,
			chromedp.WithPollingTimeout(90*time.Second)))
	bbb.do("reveal the outputs", chromedp.Click(chromedp.CSS("#reveal")), chromedp.WaitVisible(chromedp.CSS("#outputs-list dd")))
	if tl := bbb.text("#timeline"); !strings.Contains(tl, "jjj") || !strings.Contains(tl, "DEPLOYED") {
		t.Fatalf("the live timeline: %q", tl)
	}
	if outs := bbb.text("#outputs-list"); strings.TrimSpace(outs) == "" || strings.Contains(outs, "none yet") {
		t.Fatalf("outputs: %q", outs)
	}
	bbb.check("request-deployed")
	kc, err := chromedp.Run(bbb.ctx, chromedp.Evaluate[string](`fetch(document.getElementById("kubeconfig").href).then(r => r.text())`,
		func(p *runtime.EvaluateParams) { t := true; p.AwaitPromise = &t }))
	if err != nil || !strings.Contains(kc, "apiVersion: v1") {
		t.Fatalf("the kubeconfig link: %v %q", err, kc)
	}

	bbb.do("my requests", chromedp.Navigate(url+"/requests"), chromedp.WaitVisible(chromedp.CSS(`a[href="/requests/`+id[1]+`"]`)))
	bbb.check("requests")
	bbb.do("create a token", chromedp.Navigate(url+"/tokens"), chromedp.SetValue(chromedp.CSS("#name"), "ui laptop"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#new-secret")))
	secret := bbb.text("#new-secret")
	if me, err := client.New(url, secret).Me(ctx); err != nil || me.Username != "bbb" {
		t.Fatalf("the token made on the page: %v %v", me, err)
	}
	bbb.check("tokens")
	bbb.do("the inbox", chromedp.Navigate(url+"/inbox"), chromedp.WaitVisible(chromedp.CSS(".inbox")))
	bbb.check("inbox")

	// Phone width.
	bbb.do("phone width", chromedp.EmulateViewport(375, 812), chromedp.Navigate(url+"/requests/"+id[1]),
		chromedp.WaitVisible(chromedp.CSS("#status-badge")))
	bbb.check("request-phone")
	noScroll(bbb, "request")
	bbb.do("dashboard at phone width", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS(".tiles")))
	bbb.check("dashboard-phone")
	noScroll(bbb, "dashboard")
	// Purging asks first, on a page of its own.
	bbb.do("purge asks first", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url+"/requests/"+id[1]),
		chromedp.WaitVisible(chromedp.CSS("#job-log")), chromedp.Click(chromedp.CSS("#purge")), chromedp.WaitVisible(chromedp.CSS("#purge-form")))
	bbb.check("purge-confirm")
	bbb.do("type the id", chromedp.SetValue(chromedp.CSS("#confirm"), id[1]))
	bbb.submit("purge", `#purge-form button[type="submit"]`)
	bbb.do("purging", chromedp.Poll[chromedp.Void](`["PURGE_INITIATED", "PURGED"].includes(document.getElementById("status-badge").textContent)`,
		chromedp.WithPollingTimeout(90*time.Second)))
	if log := bbb.text("#job-log"); strings.TrimSpace(log) == "" {
		t.Fatalf("the job log is empty after deploying")
	}
	bbb.check("request-purging")
	bbb.do("sign out", chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.CSS("#username")))
}

// signIn fills the sign-in form as username and lands on the dashboard.
func signIn(b *browser, username string) {
	b.t.Helper()
	b.do("sign in as "+username,
		chromedp.SetValue(chromedp.CSS("#username"), username),
		chromedp.SetValue(chromedp.CSS("#password"), uiPassword),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".tiles")))
}

// noScroll fails when the page is wider than the 375 px viewport.
func noScroll(b *browser, page string) {
	b.t.Helper()
	w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if err != nil || w > 375 {
		b.t.Errorf("%s: the %s page is %d px wide at 375 px: %v", b.name, page, w, err)
	}
}
