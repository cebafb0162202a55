package contract_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/contract"
	"github.com/gfws/template-ws/internal/wstest"
)

// typescriptVersion is the compiler the declarations are checked with;
// hack/test-deps.sh installs the same one.
const typescriptVersion = "5.6.3"

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

// TestClientDeclarationsCompile type-checks testdata/client-usage.ts, a
// program using the client, against the committed declarations with tsc:
// the declarations must compile, and its misuses must be refused.
func TestClientDeclarationsCompile(t *testing.T) {
	modules := npmPackage(t, "typescript", "typescript", typescriptVersion)
	dir := t.TempDir()
	for from, to := range map[string]string{declarationsFile: "ws-client.d.ts", "testdata/client-usage.ts": "usage.ts"} {
		text, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), text, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tsc := exec.Command("node", filepath.Join(modules, "typescript", "bin", "tsc"), "--noEmit", "--strict",
		"--target", "es2020", "--lib", "es2020", "--module", "esnext", "--moduleResolution", "bundler",
		"ws-client.d.ts", "usage.ts")
	tsc.Dir = dir
	if out, err := tsc.CombinedOutput(); err != nil {
		t.Fatalf("tsc refuses the declarations or their use: %v\n%s", err, out)
	}
}
