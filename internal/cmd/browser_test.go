package cmd_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gfws/template-ws/internal/wstest"
)

// The demo page in Debian's Chromium, headless: two tabs chat, the server
// restarts on the same port, and the page comes back by itself.
// DEMO_SCREENSHOTS=docs go test -run DemoPage ./internal/cmd/ refreshes the
// screenshots the README shows.
func TestDemoPageInARealBrowser(t *testing.T) {
	t.Parallel()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if browser, err = exec.LookPath("/usr/bin/chromium"); err != nil {
			t.Skip("chromium is not installed: `make test` installs it (apt-get install chromium)")
		}
	}
	port := wstest.FreePort(t)
	overrides := map[string]any{"server.address": fmt.Sprintf("127.0.0.1:%d", port)}
	node := wstest.Start(t, overrides)
	page := fmt.Sprintf("http://127.0.0.1:%d/", port)
	room := fmt.Sprintf("demo-%d", time.Now().UnixNano()%1e6)

	allocator, cancelAllocator := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		// No UserDataDir: the allocator makes a fresh one and removes it
		// once the browser and all its helper processes have exited.
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1000, 640),
		// The machine has no network beyond loopback: no background calls.
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	)
	defer cancelAllocator()
	first, cancelFirst := chromedp.NewContext(allocator)
	defer cancelFirst()
	var errorsMu sync.Mutex
	var pageErrors []string
	watch := func(ctx context.Context) {
		chromedp.ListenTarget(ctx, func(ev any) {
			if e, ok := ev.(*runtime.EventExceptionThrown); ok {
				errorsMu.Lock()
				pageErrors = append(pageErrors, e.ExceptionDetails.Error())
				errorsMu.Unlock()
			}
		})
	}
	watch(first)
	if err := chromedp.Run(first, chromedp.Navigate(page)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	second, cancelSecond := chromedp.NewContext(first) // a second tab
	defer cancelSecond()
	watch(second)
	if err := chromedp.Run(second, chromedp.Navigate(page)); err != nil {
		t.Fatalf("open the page in a second tab: %v", err)
	}
	tabs := []context.Context{first, second}

	waitFor := func(tab context.Context, what, expr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, 20*time.Second)
		defer cancel()
		if err := chromedp.Run(ctx, chromedp.Poll(expr, nil, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			var status string
			_ = chromedp.Run(tab, chromedp.Text("#status", &status, chromedp.ByQuery))
			t.Fatalf("waiting for %s: %v (status %q)", what, err, status)
		}
	}
	connected := `document.querySelector("#status").textContent.startsWith("connected")`
	inLog := func(text string) string {
		return fmt.Sprintf(`document.querySelector("#log").innerText.includes(%q)`, text)
	}
	say := func(tab context.Context, text string) {
		t.Helper()
		waitFor(tab, "the send button", `!document.querySelector("#send").disabled`)
		if err := chromedp.Run(tab,
			chromedp.SetValue("#text", text, chromedp.ByQuery),
			chromedp.Click("#send", chromedp.ByQuery),
		); err != nil {
			t.Fatalf("send %q: %v", text, err)
		}
	}

	for _, tab := range tabs {
		waitFor(tab, "the page to connect", connected)
		if err := chromedp.Run(tab,
			chromedp.SetValue("#room", room, chromedp.ByQuery),
			chromedp.Click("#join", chromedp.ByQuery),
		); err != nil {
			t.Fatal(err)
		}
		waitFor(tab, "the join", inLog("joined "+room))
	}
	waitFor(first, "the second tab's user in the members list", `document.querySelectorAll("#members li").length === 2`)
	say(first, "hello from the first tab")
	waitFor(second, "the first tab's message", inLog("hello from the first tab"))
	say(second, "hello back")
	waitFor(first, "the second tab's answer", inLog("hello back"))
	screenshot(t, first, "demo.png")

	// A restart on the same port, as `gf run` does on every change.
	node.Stop(t)
	for _, tab := range tabs {
		waitFor(tab, "the page to notice", `document.querySelector("#status").textContent.startsWith("reconnecting")`)
	}
	screenshot(t, first, "demo-reconnecting.png")
	wstest.Start(t, overrides)
	for _, tab := range tabs {
		waitFor(tab, "the page to reconnect by itself", connected)
	}
	say(first, "still here after the restart")
	waitFor(second, "a message after the restart", inLog("still here after the restart"))

	errorsMu.Lock()
	defer errorsMu.Unlock()
	if len(pageErrors) > 0 {
		t.Fatalf("page errors:\n%s", strings.Join(pageErrors, "\n"))
	}
}

// screenshot saves the tab as name under $DEMO_SCREENSHOTS (relative to the
// repository), or the test's temporary directory.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(tab, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := t.TempDir()
	if d := os.Getenv("DEMO_SCREENSHOTS"); d != "" {
		dir = filepath.Join(wstest.RepoRoot(t), d)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
