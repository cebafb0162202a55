package cmd_test

import (
	"context"
	"fmt"
	"net/http"
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
//
// Not parallel, like every test whose node serves rooms: the hub is the
// process's service, and a node another test starts meanwhile would
// register its own.
func TestDemoPageInARealBrowser(t *testing.T) {
	b := startBrowser(t)
	port := wstest.FreePort(t)
	overrides := map[string]any{"server.address": fmt.Sprintf("127.0.0.1:%d", port)}
	node := wstest.Start(t, overrides)
	page := fmt.Sprintf("http://127.0.0.1:%d/", port)
	room := fmt.Sprintf("demo-%d", time.Now().UnixNano()%1e6)

	first, second := b.open(page), b.open(page)
	tabs := []*demoTab{first, second}
	for _, tab := range tabs {
		tab.waitFor("the page to connect", connected)
		tab.join(room)
	}
	first.waitFor("the second tab's user in the count", memberCount("2 members"))
	first.say("hello from the first tab")
	second.waitFor("the first tab's message", inLog("hello from the first tab"))
	second.say("hello back")
	first.waitFor("the second tab's answer", inLog("hello back"))
	first.click("#list-members")
	first.waitFor("both tabs' users in the list", membersListed(2))
	first.screenshot("demo.png")

	// A switch to a room the node refuses keeps the page in its room.
	if err := chromedp.Run(first.ctx,
		chromedp.SetValue("#room", "no such room", chromedp.ByQuery),
		chromedp.Click("#join", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	first.waitFor("the refusal", inLog("cannot join"))
	first.say("still in the room after a refused switch")
	second.waitFor("a message after the refused switch", inLog("still in the room after a refused switch"))

	// A restart on the same port, as `gf run` does on every change.
	node.Stop(t)
	for _, tab := range tabs {
		tab.waitFor("the page to notice", `document.querySelector("#status").textContent.startsWith("reconnecting")`)
	}
	first.screenshot("demo-reconnecting.png")
	wstest.Start(t, overrides)
	for _, tab := range tabs {
		tab.waitFor("the page to reconnect by itself", connected)
		// A memory node's history went with the process.
		tab.waitFor("the page to rejoin its room", inLog("the messages sent meanwhile could not be recovered"))
	}
	first.say("still here after the restart")
	second.waitFor("a message after the restart", inLog("still here after the restart"))

	// A kick (4403) closes the page for good: it says so and does not
	// reconnect, as the close code tells it.
	user := first.userID()
	req, err := http.NewRequest(http.MethodDelete, fmt.Sprintf("http://127.0.0.1:%d/api/v1/users/%s/connections", port, user), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := wstest.HTTP.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("kick %s: %v %v", user, resp, err)
	}
	resp.Body.Close()
	first.waitFor("the kicked page to stop", `document.querySelector("#status").textContent.startsWith("closed by the server (4403")`)
	b.checkPageErrors()
}

// The demo page served through the shipped nginx, on nginx's port, with
// the default ws.allowedOrigins: its origin carries that port, and it must
// connect and chat with a client dialling through the same nginx.
// Not parallel: see TestDemoPageInARealBrowser.
func TestDemoPageThroughNginx(t *testing.T) {
	b := startBrowser(t)
	front := startShippedNginx(t, "template-ws.conf", wstest.Start(t, nil))
	room := fmt.Sprintf("nginx-%d", time.Now().UnixNano()%1e6)

	tab := b.open(front.base + "/")
	tab.waitFor("the page to connect through nginx", connected)
	tab.join(room)
	peer, _ := front.dialWelcome(t, "", nil)
	if r := peer.Call(1, "room.join", map[string]string{"room": room}); r.CodeOf(t) != 0 {
		t.Fatalf("join through nginx: %+v", r)
	}
	tab.waitFor("the client's user in the count", memberCount("2 members"))
	tab.say("hello from the page")
	// Pushes of the room may come first; Read fails the test on a timeout.
	for {
		if m := peer.Read(); m.Event == "room.message" && strings.Contains(string(m.Data), "hello from the page") {
			break
		}
	}
	peer.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": room, "text": "hello from behind nginx"}})
	tab.waitFor("the client's message", inLog("hello from behind nginx"))
	b.checkPageErrors()
}

const connected = `document.querySelector("#status").textContent.startsWith("connected")`

func inLog(text string) string {
	return fmt.Sprintf(`document.querySelector("#log").innerText.includes(%q)`, text)
}

func membersListed(n int) string {
	return fmt.Sprintf(`document.querySelectorAll("#members li").length === %d`, n)
}

// browser is a headless Chromium with a fresh profile, and the exceptions
// its pages threw.
type browser struct {
	t         *testing.T
	first     context.Context // the first tab; later tabs open beside it
	opened    bool
	errorsMu  sync.Mutex
	errorsLog []string
}

// startBrowser starts Chromium, which is closed when the test ends, or
// skips the test when it is not installed.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if bin, err = exec.LookPath("/usr/bin/chromium"); err != nil {
			t.Skip("chromium is not installed: `make test` installs it (apt-get install chromium)")
		}
	}
	allocator, cancelAllocator := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		// No UserDataDir: the allocator makes a fresh one and removes it
		// once the browser and all its helper processes have exited.
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1000, 640),
		// The machine has no network beyond loopback: no background calls.
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	)
	t.Cleanup(cancelAllocator)
	first, cancelFirst := chromedp.NewContext(allocator)
	t.Cleanup(cancelFirst)
	return &browser{t: t, first: first}
}

// open loads page in a new tab (the browser's first on the first call).
func (b *browser) open(page string) *demoTab {
	b.t.Helper()
	ctx := b.first
	if b.opened {
		var cancel context.CancelFunc
		ctx, cancel = chromedp.NewContext(b.first)
		b.t.Cleanup(cancel)
	}
	b.opened = true
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			b.errorsMu.Lock()
			b.errorsLog = append(b.errorsLog, e.ExceptionDetails.Error())
			b.errorsMu.Unlock()
		}
	})
	if err := chromedp.Run(ctx, chromedp.Navigate(page)); err != nil {
		b.t.Fatalf("open %s: %v", page, err)
	}
	return &demoTab{t: b.t, ctx: ctx}
}

// checkPageErrors fails the test if a page threw.
func (b *browser) checkPageErrors() {
	b.t.Helper()
	b.errorsMu.Lock()
	defer b.errorsMu.Unlock()
	if len(b.errorsLog) > 0 {
		b.t.Fatalf("page errors:\n%s", strings.Join(b.errorsLog, "\n"))
	}
}

// demoTab is one tab showing the demo page.
type demoTab struct {
	t   *testing.T
	ctx context.Context
}

// waitFor polls the JavaScript expression expr until it is true.
func (tab *demoTab) waitFor(what, expr string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.Poll(expr, nil, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		var status string
		_ = chromedp.Run(tab.ctx, chromedp.Text("#status", &status, chromedp.ByQuery))
		tab.t.Fatalf("waiting for %s: %v (status %q)", what, err, status)
	}
}

// join enters room with the page's form and waits for the page to say so.
func (tab *demoTab) join(room string) {
	tab.t.Helper()
	if err := chromedp.Run(tab.ctx,
		chromedp.SetValue("#room", room, chromedp.ByQuery),
		chromedp.Click("#join", chromedp.ByQuery),
	); err != nil {
		tab.t.Fatal(err)
	}
	tab.waitFor("the join", inLog("joined "+room))
}

// userID returns the user the page says it is connected as.
func (tab *demoTab) userID() string {
	tab.t.Helper()
	var status string
	if err := chromedp.Run(tab.ctx, chromedp.Text("#status", &status, chromedp.ByQuery)); err != nil {
		tab.t.Fatal(err)
	}
	if !strings.HasPrefix(status, "connected as ") {
		tab.t.Fatalf("the page is not connected: %q", status)
	}
	return strings.Fields(strings.TrimPrefix(status, "connected as "))[0]
}

// say sends text to the joined room with the page's form.
func (tab *demoTab) say(text string) {
	tab.t.Helper()
	tab.waitFor("the send button", `!document.querySelector("#send").disabled`)
	if err := chromedp.Run(tab.ctx,
		chromedp.SetValue("#text", text, chromedp.ByQuery),
		chromedp.Click("#send", chromedp.ByQuery),
	); err != nil {
		tab.t.Fatalf("send %q: %v", text, err)
	}
}

// screenshot saves the tab as name under $DEMO_SCREENSHOTS (relative to the
// repository), or the test's temporary directory.
func (tab *demoTab) screenshot(name string) {
	tab.t.Helper()
	var png []byte
	if err := chromedp.Run(tab.ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		tab.t.Fatalf("screenshot: %v", err)
	}
	dir := tab.t.TempDir()
	if d := os.Getenv("DEMO_SCREENSHOTS"); d != "" {
		dir = filepath.Join(wstest.RepoRoot(tab.t), d)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		tab.t.Fatal(err)
	}
}
