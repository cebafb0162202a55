package cmd_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gfws/template-ws/internal/wstest"
)

// A browser sees a handshake refused for its token (401) only as a socket
// that closed without opening: the JS client asks getToken for a new one
// before it tries again, rather than retrying the stale token for ever.
// Not parallel: see TestDemoPageInARealBrowser.
func TestBrowserClientRenewsARefusedToken(t *testing.T) {
	const secret = "renew-secret"
	node := wstest.Start(t, map[string]any{"ws.auth.required": true, "ws.auth.jwtSecret": secret})
	b := startBrowser(t)
	tab := b.open(node.HTTPURL + "/")
	fresh := wstest.Token(t, secret, "carol", time.Now().Add(time.Hour))
	script := fmt.Sprintf(`(() => {
		const client = new WsClient(%q, { token: "stale", getToken: () => %q, minDelay: 50 });
		client.on("welcome", (w) => { window.renewedAs = w.userId; });
		return true;
	})()`, "ws"+strings.TrimPrefix(node.HTTPURL, "http")+"/ws", fresh)
	var started bool
	if err := chromedp.Run(tab.ctx, chromedp.Evaluate(script, &started)); err != nil {
		t.Fatal(err)
	}
	tab.waitFor("the client to connect with the renewed token", `window.renewedAs === "carol"`)
}

// A getToken that fails while the node cannot be reached (offline, a node
// down) does not stop the client: it tries again with the token it has.
// Not parallel: see TestDemoPageInARealBrowser.
func TestBrowserClientKeepsTryingWhenGetTokenFails(t *testing.T) {
	node := wstest.Start(t, nil)
	b := startBrowser(t)
	tab := b.open(node.HTTPURL + "/")
	nowhere := fmt.Sprintf("ws://127.0.0.1:%d/ws", wstest.FreePort(t))
	script := fmt.Sprintf(`(() => {
		window.states = [];
		window.tokenAsked = 0;
		new WsClient(%q, {
			token: "kept", minDelay: 20, maxDelay: 100,
			getToken: () => { window.tokenAsked++; return Promise.reject(new Error("offline")); },
			onState: (s) => window.states.push(s.state),
		});
		return true;
	})()`, nowhere)
	var started bool
	if err := chromedp.Run(tab.ctx, chromedp.Evaluate(script, &started)); err != nil {
		t.Fatal(err)
	}
	tab.waitFor("three attempts after failed renewals",
		`window.tokenAsked >= 3 && window.states.filter((s) => s === "reconnecting").length >= 3`)
	var closed bool
	if err := chromedp.Run(tab.ctx, chromedp.Evaluate(`window.states.includes("closed")`, &closed)); err != nil || closed {
		t.Fatalf("the client stopped after a failed renewal (%v)", err)
	}
}
