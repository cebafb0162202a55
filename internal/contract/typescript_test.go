package contract_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/contract"
	"github.com/gfws/template-ws/internal/wstest"
)

// declarationsFile is the committed output of make gen-client.
const declarationsFile = "../../resource/public/ws-client.d.ts"

// declarations renders the client's declarations from a node's contract.
func declarations(t *testing.T) []byte {
	t.Helper()
	pushes, err := contract.PushesOf(wsv1.Pushes())
	if err != nil {
		t.Fatal(err)
	}
	ts, err := contract.TypeScript(boundRouter(t), pushes)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestClientDeclarationsAreCurrent fails when an event or a push changed
// without the committed declarations following it.
func TestClientDeclarationsAreCurrent(t *testing.T) {
	committed, err := os.ReadFile(declarationsFile)
	if err != nil {
		t.Fatalf("%v; run make gen-client", err)
	}
	if want := declarations(t); !bytes.Equal(committed, want) {
		t.Fatalf("resource/public/ws-client.d.ts differs from the event contract; run make gen-client")
	}
}

// TestClientDeclarationsCoverTheContract checks that every event and push
// has its entry, with the client's own pushes beside them.
func TestClientDeclarationsCoverTheContract(t *testing.T) {
	ts := string(declarations(t))
	for _, event := range boundRouter(t).Events() {
		if !strings.Contains(ts, "\n  \""+event+"\": { request: ") {
			t.Errorf("EventMap has no %s", event)
		}
	}
	pushes, _ := contract.PushesOf(wsv1.Pushes())
	for _, push := range pushes {
		if !strings.Contains(ts, "\n  \""+push.Event+"\": ") {
			t.Errorf("PushMap has no %s", push.Event)
		}
	}
	for _, want := range []string{
		`"error": ErrorReply;`,
		`"rejoined": Rejoined;`,
		"  /** rules: required|room */\n  room: string;", // a required request field
		"  /** users per page; rules: between:1,1000; default 100 */\n  limit?: number;", // an optional one
		"  recovered?: boolean;", // omitempty in a reply
		"export type EchoRequest = unknown;",
	} {
		if !strings.Contains(ts, want) {
			t.Errorf("the declarations lack %q", want)
		}
	}
}

// TestNodeServesClientDeclarations checks that a node serves the committed
// file as TypeScript.
func TestNodeServesClientDeclarations(t *testing.T) {
	node := wstest.Start(t, nil)
	committed, err := os.ReadFile(declarationsFile)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(node.HTTPURL + contract.ClientDeclarationsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, committed) {
		t.Fatalf("GET %s: status %d, %d bytes; want 200 with resource/public/ws-client.d.ts (%d bytes)",
			contract.ClientDeclarationsPath, resp.StatusCode, len(body), len(committed))
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/typescript") {
		t.Errorf("Content-Type %q, want application/typescript", got)
	}
}
