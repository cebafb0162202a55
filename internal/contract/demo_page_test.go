package contract_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// demoScriptFile is the demo page's script, a plain script that checks
// itself against ws-client.d.ts (// @ts-check and a reference to it).
const demoScriptFile = "../../resource/public/demo.js"

// checkDemoScripts type-checks scripts, by file name, beside the
// committed declarations, as a browser runs demo.js: with the DOM.
func checkDemoScripts(t *testing.T, scripts map[string][]byte) (string, error) {
	t.Helper()
	files := map[string][]byte{"ws-client.d.ts": readFile(t, declarationsFile)}
	args := []string{"--allowJs", "--checkJs", "--lib", "dom,es2020"}
	for name, script := range scripts {
		files[name] = script
		args = append(args, name)
	}
	return tsc(t, files, args...)
}

// TestDemoPageScriptTypeChecks fails on any error tsc finds in the demo
// page's script. So that it cannot pass by checking nothing (a lost
// // @ts-check, a reference that no longer resolves, handlers typed any),
// copies with a misnamed event, request field or reply field must fail,
// each for its own mistake.
func TestDemoPageScriptTypeChecks(t *testing.T) {
	script := readFile(t, demoScriptFile)
	if !bytes.HasPrefix(script, []byte("// @ts-check\n")) {
		t.Fatalf("%s must start with // @ts-check, for editors as for this test", demoScriptFile)
	}
	if out, err := checkDemoScripts(t, map[string][]byte{"demo.js": script}); err != nil {
		t.Fatalf("tsc refuses %s: %v\n%s", demoScriptFile, err, out)
	}
	mutations := []struct{ what, from, to, complaint string }{
		{"an event the contract does not declare", `client.request("room.join", `, `client.request("room.jion", `, `"room.jion"`},
		{"a request field the event does not have", `client.request("room.join", { room })`, `client.request("room.join", { rom: room })`, "rom"},
		{"a reply field the event does not have", "setCount(res.members, ", "setCount(res.member, ", "member"},
		{"a push the server does not send", `client.on("room.message", `, `client.on("room.mesage", `, `"room.mesage"`},
		{"a push field the push does not have", "span(\"from\", m.from)", "span(\"from\", m.sender)", "sender"},
	}
	// One compiler run for every copy: each is a module of its own
	// (export {}), so that their top-level names do not collide.
	mutants := map[string][]byte{}
	for i, mutation := range mutations {
		if n := bytes.Count(script, []byte(mutation.from)); n != 1 {
			t.Fatalf("%s has %q %d times, want once: update this mutation to the script", demoScriptFile, mutation.from, n)
		}
		mutant := bytes.Replace(script, []byte(mutation.from), []byte(mutation.to), 1)
		mutants[fmt.Sprintf("mutant%d.js", i)] = append(mutant, "\nexport {};\n"...)
	}
	out, err := checkDemoScripts(t, mutants)
	if err == nil {
		t.Fatal("tsc accepts every broken copy of demo.js: the script is not checked against the contract")
	}
	for i, mutation := range mutations {
		if !refusedFor(out, fmt.Sprintf("mutant%d.js(", i), mutation.complaint) {
			t.Errorf("tsc does not refuse demo.js with %s (%s):\n%s", mutation.what, mutation.to, out)
		}
	}
}

// refusedFor reports whether tsc's output has an error in the file whose
// lines start with prefix that names complaint.
func refusedFor(out, prefix, complaint string) bool {
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, complaint) {
			return true
		}
	}
	return false
}
