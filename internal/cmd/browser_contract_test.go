package cmd_test

import (
	"fmt"
	"testing"

	"github.com/gfws/template-ws/internal/contract"
	"github.com/gfws/template-ws/internal/wstest"
)

// TestContractPageInARealBrowser loads /asyncapi, which fetches
// /asyncapi.json, and waits for a table of each event and push.
func TestContractPageInARealBrowser(t *testing.T) {
	b := startBrowser(t)
	node := wstest.Start(t, nil)
	tab := b.open(node.HTTPURL + contract.PagePath)
	tab.waitFor("the page to count the events", `document.querySelector("#status").textContent === "7 requests, 5 pushes"`)
	for _, event := range []string{"room.join", "room.message", "welcome"} {
		tab.waitFor(event+"'s section", fmt.Sprintf(
			`[...document.querySelectorAll("h3")].some(h => h.textContent.startsWith(%q + " "))`, event))
	}
	tab.waitFor("room's rule in room.join's table", `document.body.textContent.includes("pattern ^[A-Za-z0-9._:-]{1,64}$")`)
	b.checkPageErrors()
	tab.screenshot("asyncapi.png")
}
