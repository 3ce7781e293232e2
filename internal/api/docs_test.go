package api_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromium returns the browser for UI tests. .ci/run installs Debian's
// chromium, so under CI a missing browser fails the test instead of
// skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PURSER_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium is not installed; `apt-get install chromium` to run the browser tests")
	return ""
}

// TestDocsRenderOffline loads /docs in headless Chromium with every request
// to any other host refused, and checks that the reference renders the
// API's operations from assets served by Purser itself.
func TestDocsRenderOffline(t *testing.T) {
	t.Parallel() // the subject is not the store: SQLite alone
	bin := chromium(t)
	e := newEnv(t, openSQLite)
	base, _ := url.Parse(e.srv.URL)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	// Cut the network: every request is paused; only Purser's own host may go on.
	if err := chromedp.Do(ctx); err != nil { // start the browser before listening
		t.Fatal(err)
	}
	var mu sync.Mutex
	var refused []string
	err := chromedp.Listen(ctx, func(ev any) {
		p, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		go func() { // Listen's fn must not run commands itself
			u, _ := url.Parse(p.Request.URL)
			if u != nil && u.Host == base.Host {
				_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: p.RequestID})
				return
			}
			mu.Lock()
			refused = append(refused, p.Request.URL)
			mu.Unlock()
			_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: p.RequestID, ErrorReason: network.ErrorReasonInternetDisconnected})
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = chromedp.Do(tctx,
		chromedp.Navigate(e.srv.URL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`.swagger-ui .info .title`)),
		chromedp.WaitVisible(chromedp.CSS(`.opblock-summary-path`)),
	)
	if err != nil {
		t.Fatalf("render /docs: %v", err)
	}
	title, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`.swagger-ui .info .title`)))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('.opblock-summary-path')).map(e => e.textContent).join(' ')`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "Purser") {
		t.Fatalf("title %q", title)
	}
	for _, want := range []string{"/api/v1/users", "/api/v1/tokens", "/healthz"} {
		if !strings.Contains(ops, want) {
			t.Fatalf("the reference does not list %s: %q", want, ops)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refused) > 0 {
		t.Fatalf("/docs tried to load from other hosts: %v", refused)
	}
}
