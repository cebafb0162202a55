package cmd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gfws/template-ws/internal/wstest"
)

// The demo page's count follows the server's exactly, even through a
// moment it is below one: a page whose user's other connection is still
// on its way into the room is counted without its user, hears the last
// other user leave, then its user join.
// Not parallel: see TestDemoPageInARealBrowser.
func TestDemoPageCountGoesThroughAnEmptyRoom(t *testing.T) {
	node, relay := launchThroughRelay(t, "democount")
	const room = "r"
	ann := node.dialAs(t, "ann")
	joinAcross(t, ann, room)
	first := node.dialAs(t, "bob")
	b := startBrowser(t)
	tab := b.open(node.base + "/?token=" + wstest.Token(t, clusterSecret, "bob", time.Now().Add(time.Hour)))
	tab.waitFor("the page to connect", connected)

	relay.hold("apply") // ann's leave, and bob's first join behind it
	ann.Request("l", "room.leave", map[string]string{"room": room})
	wstest.WaitFor(t, "ann's leave to wait at the relay", relay.holding)
	first.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": room}})
	wstest.WaitFor(t, "bob's first connection to be in the room", func() bool {
		return strings.Contains(node.admin(t, "GET", "/connections?user=bob", ""), `"rooms":["r"]`)
	})
	relay.count("page")
	if err := chromedp.Run(tab.ctx,
		chromedp.SetValue("#room", room, chromedp.ByQuery),
		chromedp.Click("#join", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	wstest.WaitFor(t, "the page's join to count the room", func() bool { return relay.named() > 0 })
	relay.release()
	tab.waitFor("the join", inLog("joined "+room))

	joinAcross(t, node.dialAs(t, "pat"), room)
	tab.waitFor("ann's leave", inLog("ann left"))
	tab.waitFor("bob's first join", inLog("bob joined"))
	tab.waitFor("pat's join", inLog("pat joined"))
	var shown string
	if err := chromedp.Run(tab.ctx, chromedp.Text("#member-count", &shown, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if shown != "2 members" {
		t.Fatalf("the page shows %q once bob and pat are in, want 2 members", shown)
	}
	b.checkPageErrors()
}
