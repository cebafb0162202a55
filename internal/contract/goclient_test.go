package contract_test

import (
	"strings"
	"testing"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/contract"
)

// goClientFile is the committed output of make gen-client for Go.
const goClientFile = "../../pkg/wsclient/events.go"

func goClient(t *testing.T) []byte {
	t.Helper()
	return generate(t, contract.GoClient)
}

// TestGoClientIsCurrent fails when an event or a push changed without the
// committed Go client following it.
func TestGoClientIsCurrent(t *testing.T) {
	expectCurrent(t, goClientFile, goClient(t))
}

// TestGoClientCoversTheContract checks for a typed method per event, with
// its request and reply structs, and an On method per push.
func TestGoClientCoversTheContract(t *testing.T) {
	code := string(goClient(t))
	for _, event := range boundRouter(t).Contracts() {
		want := "func (c *Client) " + contract.TypeName(event.Event) + "(ctx context.Context, req *wsv1." +
			event.Request.Name() + ") (*wsv1." + event.Response.Name() + ", error) {"
		if !strings.Contains(code, want) {
			t.Errorf("the Go client lacks %s", want)
		}
	}
	pushes, _ := contract.PushesOf(wsv1.Pushes())
	for _, push := range pushes {
		want := "func (c *Client) On" + contract.TypeName(push.Event) + "(fn func(*wsv1." + push.Data.Name() + ", Message)) (remove func()) {"
		if !strings.Contains(code, want) {
			t.Errorf("the Go client lacks %s", want)
		}
	}
}
