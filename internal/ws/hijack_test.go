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
	})
	wsBase := "ws" + strings.TrimPrefix(base, "http")

	// The template's route first: a full exchange, then a clean close.
	c, _ := wstest.DialWelcome(t, wsBase+"/template", nil)
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	c.ExpectClose(websocket.CloseNormalClosure)
	wstest.WaitFor(t, "the template connection to close", func() bool { return srv.Len() == 0 })

	// Then the raw route; its handler ran after the template's, so once its
	// line is logged, any line of the template's would be there too.
	raw, _, err := websocket.DefaultDialer.Dial(wsBase+"/raw", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()
	wstest.WaitFor(t, "net/http to log the write to a hijacked connection", func() bool {
		return strings.Contains(logs.String(), hijackedWrite)
	})
	if n := strings.Count(logs.String(), hijackedWrite); n != 1 {
		t.Fatalf("%d lines of %q, want exactly the raw route's one:\n%s", n, hijackedWrite, logs)
	}
}
