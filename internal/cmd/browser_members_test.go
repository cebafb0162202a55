package cmd_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gfws/template-ws/internal/wstest"
)

// The demo page's member count and list. The count comes from the join
// reply and, like a list shown, follows room.joined and room.left while
// the room has at most rooms.presenceEventsLimit users; past that only
// Refresh brings it up to date. The list comes a page of 50 at a time and
// ends with every user once, in the server's order.
// Not parallel: see TestDemoPageInARealBrowser.
func TestDemoPageCountsAndPagesMembers(t *testing.T) {
	const secret, room, presenceLimit, roomSize = "members-secret", "crowd", 100, 121
	node := wstest.Start(t, map[string]any{"ws.auth.jwtSecret": secret, "rooms.presenceEventsLimit": presenceLimit})
	b := startBrowser(t)
	var users []string
	dialled := 0
	enter := func() *wstest.Client {
		dialled++
		user := fmt.Sprintf("member-%03d", dialled)
		c, _ := wstest.DialAs(t, node.WSURL, secret, user)
		if r := c.Call(1, "room.join", map[string]string{"room": room}); r.CodeOf(t) != 0 {
			t.Fatalf("%s joins: %+v", user, r)
		}
		users = append(users, user)
		return c
	}

	first := enter()
	enter()
	tab := b.open(node.HTTPURL + "/")
	tab.waitFor("the page to connect", connected)
	tab.join(room)
	tab.waitFor("the join reply's count", memberCount("3 members"))
	users = append(users, tab.userID())

	// A small room: the count and a list shown follow the pushes.
	tab.click("#list-members")
	tab.waitFor("the list", membersListed(3))
	enter()
	tab.waitFor("the count after a join", memberCount("4 members"))
	tab.waitFor("the list after a join", membersListed(4))
	tab.expectMembers(slices.Sorted(slices.Values(users)))
	_ = first.Close()
	users = slices.DeleteFunc(users, func(u string) bool { return u == "member-001" })
	tab.waitFor("the count after a leave", memberCount("3 members"))
	tab.waitFor("the list after a leave", membersListed(3))
	tab.expectMembers(slices.Sorted(slices.Values(users)))

	// Past the limit the pushes stop, and so does the count, until asked.
	for len(users) < roomSize {
		enter()
	}
	tab.waitFor("the count of the last push", memberCount(fmt.Sprintf("%d members", presenceLimit)))
	tab.click("#refresh-count")
	tab.waitFor("the refreshed count", memberCount(fmt.Sprintf("%d members", roomSize)))

	// Show members starts again from the first page.
	slices.Sort(users)
	tab.click("#list-members")
	tab.waitFor("the first page", membersListed(50))
	tab.expectMembers(users[:50])
	tab.click("#more-members")
	tab.waitFor("the second page", membersListed(100))
	tab.click("#more-members")
	tab.waitFor("the last page", membersListed(roomSize))
	tab.waitFor("More to go once the list is complete", `document.querySelector("#more-members").hidden`)
	tab.expectMembers(users)
	b.checkPageErrors()
}

// A node that cannot reach Redis counts only its own users; the page says
// so, and says why Refresh cannot count.
// Not parallel: see TestDemoPageInARealBrowser.
func TestDemoPageSaysTheCountIsThisNodeOnly(t *testing.T) {
	node := wstest.Start(t, map[string]any{
		"broker.type":           "redis",
		"redis.default.address": fmt.Sprintf("127.0.0.1:%d", wstest.FreePort(t)),
	})
	b := startBrowser(t)
	tab := b.open(node.HTTPURL + "/")
	tab.waitFor("the page to connect", connected)
	tab.join("outage")
	tab.waitFor("the local count", memberCount("1 member (this node only)"))
	tab.click("#refresh-count")
	tab.waitFor("the reason Refresh cannot count", inLog("cannot count members: room members are unavailable right now"))
	tab.waitFor("the local count to stay", memberCount("1 member (this node only)"))
	b.checkPageErrors()
}

func memberCount(text string) string {
	return fmt.Sprintf(`document.querySelector("#member-count").textContent === %q`, text)
}

// click clicks the element selector names.
func (tab *demoTab) click(selector string) {
	tab.t.Helper()
	if err := chromedp.Run(tab.ctx, chromedp.Click(selector, chromedp.ByQuery)); err != nil {
		tab.t.Fatalf("click %s: %v", selector, err)
	}
}

// expectMembers checks the members list shows exactly users, in order.
func (tab *demoTab) expectMembers(users []string) {
	tab.t.Helper()
	var shown []string
	if err := chromedp.Run(tab.ctx, chromedp.Evaluate(`Array.from(document.querySelectorAll("#members li"), (li) => li.textContent)`, &shown)); err != nil {
		tab.t.Fatal(err)
	}
	if !slices.Equal(shown, users) {
		tab.t.Fatalf("members list:\n%s\nwant:\n%s", strings.Join(shown, " "), strings.Join(users, " "))
	}
}
