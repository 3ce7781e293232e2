package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is one person's headless Chromium tab (its own browser context:
// its own cookies), which records console errors and checks every page
// with axe-core.
type browser struct {
	t     *testing.T
	name  string
	ctx   context.Context
	axe   string
	shots string

	mu     sync.Mutex
	errors []string
}

// chromiumPath finds Chromium, or skips (fails on CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium is not installed; `apt-get install chromium` to run the browser tests")
	return ""
}

// axeSource reads axe-core from the npm cache tools/ui-assets.sh and .ci/run fill.
func axeSource(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PURSER_NPM_CACHE")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "purser-npm")
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is not in the npm cache (.ci/run installs it): %v", err)
		}
		t.Skipf("axe-core is not in $PURSER_NPM_CACHE; run tools/ui-assets.sh: %v", err)
	}
	return string(b)
}

// newAllocator starts headless Chromium with the flags that keep it off
// the network and out of the way.
func newAllocator(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	return actx
}

// newBrowser opens a tab in a browser context of its own under parent
// (the allocator for the first, the first browser's context after).
func newBrowser(t *testing.T, parent context.Context, name, axe, shots string, first bool) *browser {
	t.Helper()
	var opts []chromedp.ContextOption
	if !first {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	b := &browser{t: t, name: name, ctx: ctx, axe: axe, shots: shots}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return b
}

// record keeps console errors, uncaught exceptions and error log entries.
func (b *browser) record(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console.error: " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		msg = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			msg = fmt.Sprintf("log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	}
}

// do runs steps, failing the test with what it was doing.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		b.t.Fatalf("%s: %s: %v (at %s)\n%s", b.name, what, err, loc, html)
	}
}

// text returns the text of the first element sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: text of %s: %v", b.name, sel, err)
	}
	return s
}

// check saves a screenshot of the page as name and fails on console errors
// (but the expected ones: a page answered with an error status on
// purpose logs its status) and on serious or critical axe violations.
func (b *browser) check(name string, expectedStatus ...int) {
	b.t.Helper()
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, name, err)
	}
	_ = os.WriteFile(filepath.Join(b.shots, b.name+"-"+name+".png"), shot, 0o644)
	const run = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`
	await := func(p *runtime.EvaluateParams) { t := true; p.AwaitPromise = &t }
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](b.axe+";0")); err != nil {
		b.t.Fatalf("%s: inject axe on %s: %v", b.name, name, err)
	}
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](run, await))
	if err != nil {
		b.t.Fatalf("%s: axe on %s: %v", b.name, name, err)
	}
	var violations []any
	if err := json.Unmarshal([]byte(out), &violations); err != nil || len(violations) > 0 {
		b.t.Errorf("%s: page %s has serious accessibility violations: %s", b.name, name, out)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		if !expected(e, expectedStatus) {
			b.t.Errorf("%s: page %s: %s", b.name, name, e)
		}
	}
	b.errors = nil
}

// expected reports whether a console entry only reports one of the
// statuses a page was answered with on purpose.
func expected(entry string, statuses []int) bool {
	for _, s := range statuses {
		if strings.HasPrefix(entry, "log (network)") && strings.Contains(entry, fmt.Sprintf("status of %d", s)) {
			return true
		}
	}
	return false
}
