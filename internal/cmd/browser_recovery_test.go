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

	tab := b.open(front.base + "/")
	tab.waitFor("the page to connect", connected)
	tab.join(room)
	sender := other.dialAs(t, "sender")
	sender.JoinSince(room, nil)
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
