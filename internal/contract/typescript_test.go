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
	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// typescriptVersion is the compiler the declarations are checked with;
// hack/test-deps.sh installs the same one.
const typescriptVersion = "5.6.3"

// declarationsFile is the committed output of make gen-client;
// moduleDeclarationsFile, beside it, re-exports it for ws-client.mjs.
const (
	declarationsFile       = "../../resource/public/ws-client.d.ts"
	moduleDeclarationsFile = "../../resource/public/ws-client.d.mts"
)

// generate renders a client's code with generator from the contract of
// the events a node binds and of the pushes of api/ws/v1.
func generate(t *testing.T, generator func(*ws.Router, []contract.Push) ([]byte, error)) []byte {
	t.Helper()
	pushes, err := contract.PushesOf(wsv1.Pushes())
	if err != nil {
		t.Fatal(err)
	}
	code, err := generator(boundRouter(t), pushes)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// declarations renders the client's declarations from a node's contract.
func declarations(t *testing.T) []byte {
	t.Helper()
	return generate(t, contract.TypeScript)
}

// expectCurrent fails unless the committed file is what make gen-client
// writes now.
func expectCurrent(t *testing.T, file string, generated []byte) {
	t.Helper()
	committed, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v; run make gen-client", err)
	}
	if !bytes.Equal(committed, generated) {
		t.Fatalf("%s differs from the event contract; run make gen-client", strings.TrimPrefix(file, "../../"))
	}
}

// TestClientDeclarationsAreCurrent fails when an event or a push changed
// without the committed declarations following it.
func TestClientDeclarationsAreCurrent(t *testing.T) {
	expectCurrent(t, declarationsFile, declarations(t))
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
// files as TypeScript.
func TestNodeServesClientDeclarations(t *testing.T) {
	node := wstest.Start(t, nil)
	for path, file := range map[string]string{
		contract.ClientDeclarationsPath:       declarationsFile,
		contract.ClientModuleDeclarationsPath: moduleDeclarationsFile,
	} {
		committed := readFile(t, file)
		resp, err := http.Get(node.HTTPURL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, committed) {
			t.Errorf("GET %s: status %d, %d bytes; want 200 with %s (%d bytes)",
				path, resp.StatusCode, len(body), file, len(committed))
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/typescript") {
			t.Errorf("GET %s: Content-Type %q, want application/typescript", path, got)
		}
	}
}

// TestClientDeclarationsCompile type-checks testdata/client-usage.ts, a
// module using the client through ws-client.mjs, against the committed
// declarations: they must compile, and its misuses must be refused.
func TestClientDeclarationsCompile(t *testing.T) {
	out, err := tsc(t, map[string][]byte{
		"ws-client.d.ts":  readFile(t, declarationsFile),
		"ws-client.d.mts": readFile(t, moduleDeclarationsFile),
		"usage.ts":        readFile(t, "testdata/client-usage.ts"),
	}, "--lib", "es2020", "--module", "esnext", "--moduleResolution", "bundler", "usage.ts")
	if err != nil {
		t.Fatalf("tsc refuses the declarations or their use: %v\n%s", err, out)
	}
}

// tsc runs the pinned TypeScript compiler, strict and emitting nothing,
// with args in a new directory holding files (name: content), and returns
// its output.
func tsc(t *testing.T, files map[string][]byte, args ...string) (string, error) {
	t.Helper()
	modules := npmPackage(t, "typescript", "typescript", typescriptVersion)
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), text, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("node", append([]string{filepath.Join(modules, "typescript", "bin", "tsc"),
		"--noEmit", "--strict", "--target", "es2020"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
