package cmd_test

import (
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
	node, relay, _ := launchThroughRelay(t, "democount")
	const room = "r"
	ann := node.dialAs(t, "ann")
	joinAcross(t, ann, room)
	first := node.dialAs(t, "bob")
	b := startBrowser(t)
	tab := b.open(node.base + "/?token=" + wstest.Token(t, clusterSecret, "bob", time.Now().Add(time.Hour)))
	tab.waitFor("the page to connect", connected)

	joinBehindALeave(t, node, relay, ann, first, room)
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
