package contract_test

import (
	"bytes"
	"strings"
	"testing"
)

// demoScriptFile is the demo page's script, a plain script that checks
// itself against ws-client.d.ts (// @ts-check and a reference to it).
const demoScriptFile = "../../resource/public/demo.js"

// checkDemoScript type-checks script as demo.js beside the committed
// declarations, as a browser runs it: a plain script with the DOM.
func checkDemoScript(t *testing.T, script []byte) (string, error) {
	t.Helper()
	return tsc(t, map[string][]byte{
		"ws-client.d.ts": readFile(t, declarationsFile),
		"demo.js":        script,
	}, "--allowJs", "--checkJs", "--lib", "dom,es2020", "demo.js")
}

// TestDemoPageScriptTypeChecks fails on any error tsc finds in the demo
// page's script. So that it cannot pass by checking nothing (a lost
// // @ts-check, a reference that no longer resolves, handlers typed any),
// copies with a misnamed event, request field or reply field must fail.
func TestDemoPageScriptTypeChecks(t *testing.T) {
	script := readFile(t, demoScriptFile)
	if !bytes.HasPrefix(script, []byte("// @ts-check\n")) {
		t.Fatalf("%s must start with // @ts-check, for editors as for this test", demoScriptFile)
	}
	if out, err := checkDemoScript(t, script); err != nil {
		t.Fatalf("tsc refuses %s: %v\n%s", demoScriptFile, err, out)
	}
	for _, mutation := range []struct{ what, from, to, complaint string }{
		{"an event the contract does not declare", `client.request("room.join", `, `client.request("room.jion", `, `"room.jion"`},
		{"a request field the event does not have", `client.request("room.join", { room })`, `client.request("room.join", { rom: room })`, "rom"},
		{"a reply field the event does not have", "setCount(res.members, ", "setCount(res.member, ", "member"},
		{"a push the server does not send", `client.on("room.message", `, `client.on("room.mesage", `, `"room.mesage"`},
		{"a push field the push does not have", "span(\"from\", m.from)", "span(\"from\", m.sender)", "sender"},
	} {
		t.Run(mutation.what, func(t *testing.T) {
			if n := bytes.Count(script, []byte(mutation.from)); n != 1 {
				t.Fatalf("%s has %q %d times, want once: update this mutation to the script", demoScriptFile, mutation.from, n)
			}
			mutant := bytes.Replace(script, []byte(mutation.from), []byte(mutation.to), 1)
			out, err := checkDemoScript(t, mutant)
			if err == nil {
				t.Fatalf("tsc accepts demo.js with %s (%s): the script is not checked against the contract", mutation.what, mutation.to)
			}
			if !strings.Contains(out, "demo.js(") || !strings.Contains(out, mutation.complaint) {
				t.Fatalf("tsc refuses demo.js with %s, but not for it:\n%s", mutation.what, out)
			}
		})
	}
}
