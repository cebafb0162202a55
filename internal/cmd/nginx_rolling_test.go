package cmd_test

import (
	"fmt"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
)

// launchAt is launchOn, ready.
func launchAt(t *testing.T, port int) *server {
	t.Helper()
	s := launchOn(t, port, nil)
	wstest.WaitFor(t, "the node to be ready", func() bool { return s.status("/readyz") == 200 })
	return s
}

// A rolling restart behind the shipped upstream: node A drains, exits and
// comes back ready, then node B drains, and B's clients, coming back
// through nginx, land on A. With nginx's defaults (max_fails=1,
// fail_timeout=10s) A's drain and restart had marked it failed, and with
// B draining nginx had no live upstream: 502 for up to 10 s.
func TestNginxRollingRestartKeepsANodeForClients(t *testing.T) {
	t.Parallel()
	portA, portB := wstest.FreePort(t), wstest.FreePort(t)
	a, b := launchAt(t, portA), launchAt(t, portB)
	front := wstest.FreePort(t)
	// Both nodes in the shipped upstream, each with the shipped line's
	// parameters.
	conf := wstest.ShippedNginxConf(t, "template-ws.conf", "listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", front))
	line := regexp.MustCompile(`server 127\.0\.0\.1:8000([^;]*);`)
	params := line.FindStringSubmatch(conf)
	if params == nil {
		t.Fatal("template-ws.conf has no line server 127.0.0.1:8000")
	}
	conf = line.ReplaceAllLiteralString(conf, fmt.Sprintf("server 127.0.0.1:%d%s;\n    server 127.0.0.1:%d%s;", portA, params[1], portB, params[1]))
	wstest.StartNginx(t, conf, front)
	url := fmt.Sprintf("ws://127.0.0.1:%d/ws", front)
	dial := func() (*websocket.Conn, int, error) {
		c, resp, err := websocket.DefaultDialer.Dial(url, nil)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return c, status, err
	}

	// A restarts while clients keep connecting, as they do.
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.waitExit(t); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		c, status, err := dial()
		if err != nil {
			t.Fatalf("with A down, B should take every client: %d %v", status, err)
		}
		defer c.Close()
	}
	a = launchAt(t, portA)

	// Then B: its clients get 1001 and come back through nginx.
	onB := wstest.Dial(t, fmt.Sprintf("ws://127.0.0.1:%d/ws", portB), nil)
	onB.Read() // welcome
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	onB.ExpectClose(websocket.CloseGoingAway)
	deadline := time.Now().Add(3 * time.Second)
	var statuses []int
	for {
		c, status, err := dial()
		if err == nil {
			c.Close()
			return
		}
		statuses = append(statuses, status)
		if time.Now().After(deadline) {
			t.Fatalf("node A is up and ready (%d on /readyz), yet for 3 s every reconnect through nginx failed: statuses %v",
				a.status("/readyz"), statuses)
		}
		time.Sleep(250 * time.Millisecond) // a client's pace of retries
	}
}
