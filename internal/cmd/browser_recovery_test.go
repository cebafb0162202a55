package cmd_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/wstest"
)

// The node behind the page restarts while a client on another node keeps
// sending; with the history in Redis, the page rejoins with since and
// shows every message once, in order.
// Not parallel: see TestDemoPageInARealBrowser.
func TestDemoPageRecoversThroughARestart(t *testing.T) {
	b := startBrowser(t)
	redis := wstest.StartRedis(t)
	port, drain := wstest.FreePort(t), map[string]any{"ws.shutdownTimeout": "5s"}
	front := launchClusterNodeAt(t, redis, port, drain)
	other := launchClusterNode(t, redis, nil)
	room := fmt.Sprintf("restart-%d", time.Now().UnixNano()%1e6)
	tab, sender := pageAndSender(t, b, front, other, room)
	sent := 0
	send := func(n int) {
		for range n {
			sent++
			sender.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": room, "text": fmt.Sprint("m-", sent)}})
		}
	}
	send(5)
	tab.waitFor("the first messages", inLog("m-5"))

	if err := front.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := front.waitExit(t); err != nil {
		t.Fatalf("the node's exit: %v", err)
	}
	send(10) // while the page has no node
	launchClusterNodeAt(t, redis, port, drain)
	send(5) // while it comes back, before or after its rejoin
	tab.waitFor("the page to recover", inLog("recovered"))
	send(5)
	tab.waitFor("the last message", inLog(fmt.Sprint("m-", sent)))

	var want []string
	for i := 1; i <= sent; i++ {
		want = append(want, fmt.Sprint("m-", i))
	}
	tab.waitFor("every message once, in order", fmt.Sprintf(`Array.from(document.querySelectorAll("#log li"))
		.map((li) => li.lastChild.textContent).filter((t) => /^m-\d+$/.test(t)).join(",") === %q`, strings.Join(want, ",")))
	b.checkPageErrors()
}

// pageAndSender opens the demo page on front, in room, and a member of
// room on other that sends to it.
func pageAndSender(t *testing.T, b *browser, front, other *server, room string) (*demoTab, *wstest.Client) {
	t.Helper()
	tab := b.open(front.base + "/")
	tab.waitFor("the page to connect", connected)
	tab.join(room)
	sender := other.dialAs(t, "sender")
	sender.JoinSince(room, nil)
	return tab, sender
}

// Redis restarts empty under the page's room: its stream starts again at
// offset 1, below the offsets the page has had. The page still shows the
// new messages, after saying that some may be missing.
// Not parallel: see TestDemoPageInARealBrowser.
func TestDemoPageSeesARoomsStreamStartAgain(t *testing.T) {
	b := startBrowser(t)
	redis := wstest.StartRedis(t)
	front, other := launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil)
	room := fmt.Sprintf("lost-%d", time.Now().UnixNano()%1e6)
	tab, sender := pageAndSender(t, b, front, other, room)
	send := func(from, to int) {
		for i := from; i <= to; i++ {
			sender.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": room, "text": fmt.Sprint("m-", i)}})
		}
	}
	send(1, 3)
	tab.waitFor("the first messages", inLog("m-3"))

	restartRedisEmpty(t, redis, room, front, other)
	send(4, 5)
	tab.waitFor("the messages of the new stream", inLog("m-5"))
	tab.waitFor("the page to say some may be missing", inLog("recent messages: some may be missing"))
	tab.waitFor("the notice before the new messages", `Array.from(document.querySelectorAll("#log li"))
		.map((li) => li.lastChild.textContent).filter((t) => /^m-\d+$|may be missing/.test(t))
		.map((t) => t.startsWith("m-") ? t : "notice").join(",") === "m-1,m-2,m-3,notice,m-4,m-5"`)
	b.checkPageErrors()
}
