package contract_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	v1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/contract"
	wsctrl "github.com/gfws/template-ws/internal/controller/ws"
	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// parserVersion is the @asyncapi/parser the document is checked with;
// hack/test-deps.sh installs the same one.
const parserVersion = "3.6.3"

// get fetches url with header and returns the status and body.
func get(t *testing.T, url string, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// document fetches and decodes a node's contract.
func document(t *testing.T, node *wstest.Node) map[string]any {
	t.Helper()
	status, body := get(t, node.HTTPURL+contract.DocumentPath, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", contract.DocumentPath, status, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%s is not JSON: %v", contract.DocumentPath, err)
	}
	return doc
}

// npmPackage returns the node_modules holding pkg@version, installing it
// into the user's cache (under dir/version, where hack/test-deps.sh puts
// it) when missing, or skips the test when npm is not there to install it.
func npmPackage(t *testing.T, dir, pkg, version string) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no cache directory for %s: %v", pkg, err)
	}
	prefix := filepath.Join(cache, dir, version)
	modules := filepath.Join(prefix, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, pkg, "package.json")); err == nil {
		return modules
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skipf("npm is not installed: %s is needed for this check; install Node.js and npm, then run hack/test-deps.sh", pkg)
	}
	install := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", prefix, pkg+"@"+version)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s@%s: %v\n%s", pkg, version, err, out)
	}
	return modules
}

// TestDocumentPassesAsyncAPIParser checks the served document with the
// official parser: no error and no warning.
func TestDocumentPassesAsyncAPIParser(t *testing.T) {
	modules := npmPackage(t, "asyncapi-parser", "@asyncapi/parser", parserVersion)
	node := wstest.Start(t, nil)
	_, body := get(t, node.HTTPURL+contract.DocumentPath, nil)
	file := filepath.Join(t.TempDir(), "asyncapi.json")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	check := exec.Command("node", filepath.Join("testdata", "validate.cjs"), file)
	check.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("@asyncapi/parser rejects the document: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// boundRouter is a router bound as a node binds its own.
func boundRouter(t *testing.T) *ws.Router {
	t.Helper()
	router := ws.NewRouter()
	if err := router.Bind(wsctrl.NewV1()); err != nil {
		t.Fatal(err)
	}
	return router
}

// TestDocumentListsEveryEventAndPush checks that each bound event has a
// send operation with a reply, and each push struct a receive operation.
func TestDocumentListsEveryEventAndPush(t *testing.T) {
	node := wstest.Start(t, nil)
	doc := document(t, node)
	operations, _ := doc["operations"].(map[string]any)
	events := boundRouter(t).Events()
	if len(events) == 0 {
		t.Fatal("the node has no bound events")
	}
	for _, event := range events {
		op, _ := operations[event].(map[string]any)
		if op == nil || op["action"] != "send" || op["reply"] == nil {
			t.Errorf("event %s: operation %v, want a send operation with a reply", event, op)
		}
	}
	pushes, err := contract.PushesOf(v1.Pushes())
	if err != nil {
		t.Fatal(err)
	}
	for _, push := range pushes {
		op, _ := operations["receive."+push.Event].(map[string]any)
		if op == nil || op["action"] != "receive" {
			t.Errorf("push %s: operation %v, want a receive operation", push.Event, op)
		}
	}
	if want := len(events) + len(pushes); len(operations) != want {
		t.Errorf("%d operations, want %d: one per event and one per push", len(operations), want)
	}
	for _, key := range []string{"x-close-codes", "x-error-codes"} {
		if list, _ := doc[key].([]any); len(list) == 0 {
			t.Errorf("the document has no %s", key)
		}
	}
	server, _ := doc["servers"].(map[string]any)["node"].(map[string]any)
	if want := node.HTTPURL[len("http://"):]; server["host"] != want {
		t.Errorf("server host %v, want the host the document was fetched from, %s", server["host"], want)
	}
}

// TestDocumentGuardedBehindProxy checks that a proxied request without the
// admin token is refused, as for /api.json, and a direct one is not.
func TestDocumentGuardedBehindProxy(t *testing.T) {
	node := wstest.Start(t, map[string]any{"admin.token": "s3cret-admin"})
	for _, path := range []string{contract.DocumentPath, contract.PagePath} {
		for _, tc := range []struct {
			header http.Header
			status int
		}{
			{nil, http.StatusOK},
			{http.Header{"X-Forwarded-For": {"203.0.113.9"}}, http.StatusUnauthorized},
			{http.Header{"X-Forwarded-For": {"203.0.113.9"}, "Authorization": {"Bearer s3cret-admin"}}, http.StatusOK},
		} {
			if status, body := get(t, node.HTTPURL+path, tc.header); status != tc.status {
				t.Errorf("GET %s with %v: status %d, want %d: %s", path, tc.header, status, tc.status, body)
			}
		}
	}
}
