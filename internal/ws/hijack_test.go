package ws_test

import (
	"strings"
	"testing"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gogf/gf/v2/os/glog"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

const hijackedWrite = "response.WriteHeader on hijacked connection"

// Upgrading through r.Response.ResponseWriter hides the hijack from ghttp,
// which then writes its response to the hijacked socket. The template
// upgrades through r.Response.Writer, which records it.
func TestUpgradeThroughWriterKeepsGhttpOffTheSocket(t *testing.T) {
	t.Parallel()
	router := ws.NewRouter()
	srv := ws.NewServer(ws.DefaultConfig(), "test-node", router, ws.Hooks{})
	t.Cleanup(func() { srv.Drain(wstest.ShutdownContext(t)) })
	logs := &wstest.SyncBuffer{}
	rawUpgrader := websocket.Upgrader{}
	// ghttp runs this hook once it has written (or skipped) the response.
	templateDone := make(chan struct{})

	base := wstest.Serve(t, func(s *ghttp.Server) {
		logger := glog.New()
		logger.SetStdoutPrint(false)
		logger.SetWriter(logs)
		s.SetLogger(logger)
		s.Group("/", func(group *ghttp.RouterGroup) {
			group.Middleware(ghttp.MiddlewareHandlerResponse)
			group.ALL("/template", srv.Handle)
			group.ALL("/raw", func(r *ghttp.Request) {
				conn, err := rawUpgrader.Upgrade(r.Response.ResponseWriter, r.Request, nil)
				if err == nil {
					_ = conn.Close()
				}
			})
		})
		s.BindHookHandler("/template", ghttp.HookAfterOutput, func(r *ghttp.Request) { close(templateDone) })
	})
	wsBase := "ws" + strings.TrimPrefix(base, "http")

	c, _ := wstest.DialWelcome(t, wsBase+"/template", nil)
	if r := c.Call("1", "nope", nil); r.CodeOf(t) != 65 {
		t.Fatalf("the template connection does not work: %+v", r)
	}
	wstest.WaitFor(t, "ghttp to finish the template route's request", func() bool {
		select {
		case <-templateDone:
			return true
		default:
			return strings.Contains(logs.String(), "hijacked connection")
		}
	})
	if strings.Contains(logs.String(), "hijacked connection") {
		t.Fatalf("the template route made ghttp write to the hijacked socket:\n%s", logs)
	}

	raw, _, err := websocket.DefaultDialer.Dial(wsBase+"/raw", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()
	wstest.WaitFor(t, "net/http to log the raw route's write to a hijacked connection", func() bool {
		return strings.Contains(logs.String(), hijackedWrite)
	})
}
