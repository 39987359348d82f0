package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/trueframe/trueframe/internal/testutil"
)

// The browser tests drive Debian's chromium (installed by scripts/setup)
// over the DevTools protocol against a real `trueframe serve` on loopback.
// Like the models and the ONNX Runtime library, the browser and axe-core
// are part of what setup installs, so a missing one fails the test rather
// than skipping it: a CI without a browser must not pass by testing
// nothing.

// chromiumPath finds the browser: $TRUEFRAME_CHROMIUM, else chromium on PATH.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("TRUEFRAME_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("chromium is not installed (scripts/setup installs Debian's chromium; or set TRUEFRAME_CHROMIUM)")
	return ""
}

// axeSource reads axe-core, which scripts/install-axe puts in the deps.
func axeSource(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(testutil.DepsDir(tb), "axe-core", "axe.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatalf("axe-core not installed (run scripts/setup): %v", err)
	}
	return string(b)
}

// screenshotDir is where screenshots go: $TRUEFRAME_SCREENSHOTS when set
// (then the tests also save the named views they reach), else a folder
// of the system's temporary directory that outlives the test, for the
// screenshots taken on failure.
func screenshotDir() (dir string, always bool) {
	if d := os.Getenv("TRUEFRAME_SCREENSHOTS"); d != "" {
		return d, true
	}
	return filepath.Join(os.TempDir(), "trueframe-screenshots"), false
}

// browser is one headless chromium; each test opens tabs in it.
type browser struct {
	ctx context.Context
	axe string
	out *lockedWriter // the browser's own output, for failures
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath(t)
	axe := axeSource(t)
	out := &lockedWriter{w: &bytes.Buffer{}}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where chromium's sandbox cannot start
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), // a fresh profile: no state between runs
		chromedp.WindowSize(1280, 900),
		// No traffic but to the service under test: nothing in the
		// background, no component or update checks, and every host name
		// but the loopback address fails to resolve.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.CombinedOutput(out),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser and binds its life to the
	// context it is given: that must be ctx itself, not one with a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v\n%s", exe, err, out.w)
	}
	return &browser{ctx: ctx, axe: axe, out: out}
}

// tab is one page of the browser under one test. Everything the page
// writes to its console is collected: the test fails on any error, any
// CSP violation and any uncaught exception (see checkClean).
type tab struct {
	t    *testing.T
	b    *browser
	ctx  context.Context
	name string

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// cspProbe records the page's CSP violations, as the browser reports them
// to the page itself; it is added before any script of the page runs.
const cspProbe = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});`

func (b *browser) tab(t *testing.T, width, height int64) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	tb := &tab{t: t, b: b, ctx: ctx, name: regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")}
	t.Cleanup(cancel)
	// As for the browser, the first action opens the tab for the life of
	// the context it is given.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("opening a tab: %v\n%s", err, b.out.w)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.messages = append(tb.messages, m)
			tb.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: this one, registered after the tab's cancel,
	// sees the page before it closes.
	t.Cleanup(func() {
		if t.Failed() {
			tb.screenshot("failed")
		}
	})
	return tb
}

// screenshot saves the whole page as a PNG and logs where.
func (tb *tab) screenshot(label string) {
	dir, _ := screenshotDir()
	ctx, done := context.WithTimeout(tb.ctx, 20*time.Second)
	defer done()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("no screenshot: %v", err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Logf("no screenshot: %v", err)
		return
	}
	p := filepath.Join(dir, tb.name+"-"+label+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.t.Logf("no screenshot: %v", err)
		return
	}
	tb.t.Logf("screenshot: %s", p)
}

// view saves a screenshot of a state worth looking at, when
// $TRUEFRAME_SCREENSHOTS asks for them.
func (tb *tab) view(label string) {
	if _, always := screenshotDir(); always {
		tb.screenshot(label)
	}
}

// do runs actions with a deadline and fails the test on an error.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, done := context.WithTimeout(tb.ctx, time.Minute)
	defer done()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into out
// (nil: ignore it). Promises are awaited.
func (tb *tab) eval(expr string, out any) {
	tb.t.Helper()
	ctx, done := context.WithTimeout(tb.ctx, time.Minute)
	defer done()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %.80q: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.t.Fatalf("evaluating %.80q: %v in %s", expr, err, raw)
		}
	}
}

// waitFor waits until the JavaScript expression is truthy, at most
// timeout; on a timeout it fails with what the page shows.
func (tb *tab) waitFor(what, expr string, timeout time.Duration) {
	tb.t.Helper()
	ctx, done := context.WithTimeout(tb.ctx, timeout+10*time.Second)
	defer done()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		var body string
		tb.eval(`document.body.innerText`, &body)
		tb.t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, body)
	}
}

// text returns the visible text of the first element matching a CSS
// selector ("" when there is none).
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	var s string
	tb.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : ""; })()`, sel), &s)
	return s
}

// count returns how many elements match a CSS selector.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	var n int
	tb.eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n)
	return n
}

// doubleClick presses and releases the mouse twice on the centre of the
// element, the way a person's double click arrives: two click events and
// a dblclick, with no pause for the page between them.
func (tb *tab) doubleClick(sel string) {
	tb.t.Helper()
	var pt struct{ X, Y float64 }
	tb.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()`, sel), &pt)
	tb.do("double click "+sel, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, n := range []int64{1, 2} {
			for _, typ := range []input.DispatchMouseEventType{input.DispatchMouseEventTypeMousePressed, input.DispatchMouseEventTypeMouseReleased} {
				if _, err := chromedp.Call(ctx, input.DispatchMouseEvent, input.DispatchMouseEventParams{
					Type: typ, X: pt.X, Y: pt.Y, Button: input.MouseButtonLeft, ClickCount: n}); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

// axeViolation is one rule axe-core found broken, with the elements.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axe injects axe-core into the page and runs the WCAG 2.1 A and AA rules
// and the best practices; it returns the violations by impact.
func (tb *tab) axe() map[string][]axeViolation {
	tb.t.Helper()
	var loaded bool
	tb.eval(`typeof window.axe === "object"`, &loaded)
	if !loaded {
		tb.eval(tb.b.axe+"\n;true", nil)
	}
	var vs []axeViolation
	tb.eval(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
		.then((r) => r.violations.map((v) => ({id: v.id, impact: v.impact || "", help: v.help,
			targets: v.nodes.map((n) => n.target.join(" "))})))`, &vs)
	out := map[string][]axeViolation{}
	for _, v := range vs {
		out[v.Impact] = append(out[v.Impact], v)
	}
	return out
}

// checkAxe fails on serious and critical axe-core violations and logs the
// others.
func (tb *tab) checkAxe(where string) {
	tb.t.Helper()
	vs := tb.axe()
	tb.t.Logf("axe-core %s: %d critical, %d serious, %d moderate, %d minor", where,
		len(vs["critical"]), len(vs["serious"]), len(vs["moderate"]), len(vs["minor"]))
	for _, impact := range []string{"critical", "serious"} {
		for _, v := range vs[impact] {
			tb.t.Errorf("axe-core %s, %s: %s (%s) at %s", where, impact, v.ID, v.Help, strings.Join(v.Targets, "; "))
		}
	}
	for _, impact := range []string{"moderate", "minor"} {
		for _, v := range vs[impact] {
			tb.t.Logf("axe-core %s, %s: %s (%s) at %s", where, impact, v.ID, v.Help, strings.Join(v.Targets, "; "))
		}
	}
}

// apiStatusLine is how chromium logs an HTTP error answer to a fetch.
var apiStatusLine = regexp.MustCompile(`status of [45][0-9][0-9]`)

// checkClean fails on the console errors, uncaught exceptions and CSP
// violations the page caused so far. An API error answer (a 401 for a
// wrong key, a 415 for a non-video) is logged by chromium as a failed
// resource load: that is the page working, and it shows the user the
// error, so those are allowed for /v1/ routes; any other failed load
// (a script, a stylesheet, an image of the page itself) is not.
func (tb *tab) checkClean() {
	tb.t.Helper()
	var csp []string
	tb.eval(`window.__cspViolations || []`, &csp)
	for _, v := range csp {
		tb.t.Errorf("CSP violation: %s", v)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.messages {
		switch {
		case m.IsException():
			tb.t.Errorf("uncaught exception: %s (%s:%d)", m.Text, m.URL, m.Line+1)
		case m.Type != chromedp.ConsoleError:
		case m.Source == "network" && strings.Contains(m.URL, "/v1/") && apiStatusLine.MatchString(m.Text):
			// An API error answer the page handles.
		default:
			tb.t.Errorf("console error (%s): %s (%s:%d)", m.Source, m.Text, m.URL, m.Line+1)
		}
	}
}

// noHorizontalScroll fails when the page is wider than its viewport.
func (tb *tab) noHorizontalScroll(where string) {
	tb.t.Helper()
	var w struct{ Scroll, Client int }
	tb.eval(`({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})`, &w)
	if w.Scroll > w.Client {
		var wide []string
		tb.eval(`[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
			.slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + e.className : "") + " " + Math.round(e.getBoundingClientRect().right) + "px")`, &wide)
		tb.t.Errorf("%s: the page scrolls sideways: %d px wide in a %d px viewport; widest: %s", where, w.Scroll, w.Client, strings.Join(wide, ", "))
	}
}

// newKeyFor creates an API key of a role in the service's data directory,
// as an operator would beside the running service.
func newKeyFor(t *testing.T, data, role string) string {
	t.Helper()
	r := trueframe(t, "keys", "create", "--role", role, "--name", "browser "+role, "--data", data)
	key := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(key, "tf_") {
		t.Fatalf("keys create: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	return key
}

// waitReady waits until the service answers /readyz with 200 (models
// loaded in the workers).
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service never became ready: %v\n%s", err, s.out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
