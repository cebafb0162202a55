package cmd_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
)

// Every nginx file the template ships is started here in a real nginx,
// with only its ports (and, where a test says so, its timeouts) rewritten.

func nodePort(n *wstest.Node) int { return n.App.HTTP.GetListenedPort() }

// welcomeNode returns the node name of a welcome message.
func welcomeNode(t *testing.T, welcome wstest.Msg) string {
	t.Helper()
	var data struct{ Node, ConnID string }
	if err := json.Unmarshal(welcome.Data, &data); err != nil || data.Node == "" {
		t.Fatalf("welcome %s: %v", welcome.Data, err)
	}
	return data.Node
}

// dialFrom dials url from the loopback source address src, as a client on
// another host would reach nginx.
func dialFrom(src, url string) (*websocket.Conn, *http.Response, error) {
	dialer := *websocket.DefaultDialer
	local := &net.TCPAddr{IP: net.ParseIP(src)}
	dialer.NetDialContext = (&net.Dialer{LocalAddr: local, Timeout: wstest.Timeout}).DialContext
	return dialer.Dial(url, nil)
}

// refusedUpgrade dials url, which must refuse the upgrade, and returns the
// refusal's status and GoFrame body.
func refusedUpgrade(t *testing.T, url string) (int, ghttp.DefaultHandlerResponse) {
	t.Helper()
	var body ghttp.DefaultHandlerResponse
	_, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil || resp == nil {
		t.Fatalf("upgrade at %s: want a refusal, got %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestNginxProxiesTheUpgrade(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.maxConnectionsPerIP": 1})
	port := wstest.FreePort(t)
	wstest.StartNginx(t, wstest.ShippedNginxConf(t, "template-ws.conf",
		"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port),
		"server 127.0.0.1:8000;", fmt.Sprintf("server 127.0.0.1:%d;", nodePort(node)),
	), port)
	url := fmt.Sprintf("ws://127.0.0.1:%d/ws", port)

	c, _ := wstest.DialWelcome(t, url, nil)
	if r := c.Call("1", "echo", map[string]int{"through": 1}); r.CodeOf(t) != 0 || string(r.Data) != `{"through":1}` {
		t.Fatalf("echo through nginx: %+v", r)
	}
	if resp, err := wstest.HTTP.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz through nginx: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	c.Close()
	wstest.WaitFor(t, "the first client to be gone", func() bool { return node.App.WS.Len() == 0 })

	// Every client reaches the node from nginx's address; the per-IP cap
	// must still count the address nginx saw.
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		conn, _, err := dialFrom(src, url)
		if err != nil {
			t.Fatalf("client from %s: %v", src, err)
		}
		defer conn.Close()
	}
	conn, resp, err := dialFrom("127.0.0.2", url)
	if err == nil {
		conn.Close()
		t.Fatal("a second connection from 127.0.0.2 passed ws.maxConnectionsPerIP: 1")
	}
	body := make([]byte, 1024)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	if resp.StatusCode != 429 || !strings.Contains(string(body[:n]), "address 127.0.0.2 ") {
		t.Fatalf("over the per-IP cap through nginx: %d %s", resp.StatusCode, body[:n])
	}
}

func TestNginxIdleConnectionIsKeptByPings(t *testing.T) {
	t.Parallel()
	const readTimeout = 2 * time.Second
	conf := func(node *wstest.Node, port int) string {
		return wstest.ShippedNginxConf(t, "template-ws.conf",
			"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port),
			"server 127.0.0.1:8000;", fmt.Sprintf("server 127.0.0.1:%d;", nodePort(node)),
			"proxy_read_timeout 75s;", "proxy_read_timeout 2s;",
		)
	}
	pinging := wstest.Start(t, map[string]any{"ws.pingInterval": "500ms", "ws.pongTimeout": "1500ms"})
	// The control: pings far apart, so nothing crosses nginx while idle.
	silent := wstest.Start(t, map[string]any{"ws.pingInterval": "30s", "ws.pongTimeout": "60s"})
	pingingPort, silentPort := wstest.FreePort(t), wstest.FreePort(t)
	wstest.StartNginx(t, conf(pinging, pingingPort), pingingPort)
	wstest.StartNginx(t, conf(silent, silentPort), silentPort)

	// Read continuously, as a browser does, so pings get their pongs.
	reader := func(c *wstest.Client) <-chan error {
		done := make(chan error, 1)
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					done <- err
					return
				}
			}
		}()
		return done
	}
	kept, _ := wstest.DialWelcome(t, fmt.Sprintf("ws://127.0.0.1:%d/ws", pingingPort), nil)
	dropped, _ := wstest.DialWelcome(t, fmt.Sprintf("ws://127.0.0.1:%d/ws", silentPort), nil)
	keptDone, droppedDone := reader(kept), reader(dropped)

	select {
	case err := <-droppedDone:
		t.Logf("without pings nginx dropped the idle connection as expected: %v", err)
	case <-time.After(3 * readTimeout):
		t.Fatal("the control connection without pings survived nginx's read timeout: the test proves nothing")
	}
	select {
	case err := <-keptDone:
		t.Fatalf("the connection with pings was dropped while idle: %v", err)
	case <-time.After(2*readTimeout + time.Second):
	}
	kept.Send(map[string]any{"id": 1, "event": "ping"})
	wstest.WaitFor(t, "the server to count the ping", func() bool { return pinging.App.WS.Stats().Received >= 1 })
}

func TestNginxTLS(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	certFile, keyFile, roots := wstest.SelfSignedCert(t)
	port := wstest.FreePort(t)
	wstest.StartNginx(t, wstest.ShippedNginxConf(t, "template-ws-tls.conf",
		"listen 8443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", port),
		"server 127.0.0.1:8000;", fmt.Sprintf("server 127.0.0.1:%d;", nodePort(node)),
		"/etc/ssl/certs/template-ws.crt", certFile,
		"/etc/ssl/private/template-ws.key", keyFile,
	), port)
	dialer := *websocket.DefaultDialer
	dialer.TLSClientConfig = &tls.Config{RootCAs: roots}
	conn, resp, err := dialer.Dial(fmt.Sprintf("wss://127.0.0.1:%d/ws", port), nil)
	if err != nil {
		t.Fatalf("wss through nginx: %v %v", resp, err)
	}
	c := &wstest.Client{Conn: conn}
	t.Cleanup(func() { conn.Close() })
	_ = c.SetReadDeadline(time.Now().Add(wstest.Timeout))
	_, frame, err := c.ReadMessage()
	if err != nil || !strings.Contains(string(frame), `"event":"welcome"`) {
		t.Fatalf("welcome over wss: %s %v", frame, err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"event":"echo","data":"secure"}`)); err != nil {
		t.Fatal(err)
	}
	if _, frame, err = c.ReadMessage(); err != nil || !strings.Contains(string(frame), `"data":"secure"`) {
		t.Fatalf("echo over wss: %s %v", frame, err)
	}
}

func TestNginxFastCGISplit(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"fastcgi.address": "127.0.0.1:0"})
	fcgiAddr := node.App.FastCGIAddr()
	port, misroutedPort := wstest.FreePort(t), wstest.FreePort(t)
	split := wstest.ShippedNginxConf(t, "template-ws-fastcgi.conf",
		"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port),
		"proxy_pass http://127.0.0.1:8000;", fmt.Sprintf("proxy_pass http://127.0.0.1:%d;", nodePort(node)),
		"fastcgi_pass 127.0.0.1:9000;", "fastcgi_pass "+fcgiAddr+";",
	)
	// The mistake the split prevents: everything, /ws included, to FastCGI.
	misrouted := fmt.Sprintf(`server {
    listen 127.0.0.1:%d;
    location / { fastcgi_pass %s; include fastcgi_params; }
}
`, misroutedPort, fcgiAddr)
	wstest.StartNginx(t, split+misrouted, port, misroutedPort)

	resp, err := wstest.HTTP.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz over FastCGI: %d", resp.StatusCode)
	}
	c, _ := wstest.DialWelcome(t, fmt.Sprintf("ws://127.0.0.1:%d/ws", port), nil)
	if r := c.Call("1", "echo", "split"); r.CodeOf(t) != 0 {
		t.Fatalf("echo over the HTTP side: %+v", r)
	}

	status, body := refusedUpgrade(t, fmt.Sprintf("ws://127.0.0.1:%d/ws", misroutedPort))
	if status != 500 || body.Code != 59 || !strings.Contains(body.Message, "template-ws-fastcgi.conf") {
		t.Fatalf("upgrade over FastCGI: %d %+v", status, body)
	}
}

func TestNginxBareProxyPassGetsTheDiagnosis(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	port := wstest.FreePort(t)
	wstest.StartNginx(t, fmt.Sprintf(`server {
    listen 127.0.0.1:%d;
    location /ws { proxy_pass http://127.0.0.1:%d; }
}
`, port, nodePort(node)), port)
	status, body := refusedUpgrade(t, fmt.Sprintf("ws://127.0.0.1:%d/ws", port))
	for _, want := range []string{"proxy_http_version 1.1", "proxy_set_header Upgrade $http_upgrade", "proxy_set_header Connection $connection_upgrade"} {
		if status != 426 || body.Code != 66 || !strings.Contains(body.Message, want) {
			t.Fatalf("bare proxy_pass: %d %+v, want 426 naming %q", status, body, want)
		}
	}
}

// Two nodes behind one upstream: a client whose node stops reconnects
// through nginx and lands on the other.
func TestNginxClientMovesToTheOtherNodeOnShutdown(t *testing.T) {
	t.Parallel()
	nodes := []*server{launch(t, nil), launch(t, nil)}
	var upstream strings.Builder
	for _, n := range nodes {
		wstest.WaitFor(t, "a node to be ready", func() bool { return n.status("/readyz") == 200 })
		upstream.WriteString(fmt.Sprintf("server %s;\n    ", strings.TrimPrefix(n.base, "http://")))
	}
	port := wstest.FreePort(t)
	wstest.StartNginx(t, wstest.ShippedNginxConf(t, "template-ws.conf",
		"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port),
		"server 127.0.0.1:8000;", upstream.String(),
	), port)
	url := fmt.Sprintf("ws://127.0.0.1:%d/ws", port)

	c, welcome := wstest.DialWelcome(t, url, nil)
	first := welcomeNode(t, welcome)
	var connID struct{ ConnID string }
	_ = json.Unmarshal(welcome.Data, &connID)
	// The welcome can arrive before the node has logged the connection.
	var victim *server
	wstest.WaitFor(t, "a node to log connection "+connID.ConnID, func() bool {
		for _, n := range nodes {
			if strings.Contains(n.output.String(), "conn="+connID.ConnID) {
				victim = n
			}
		}
		return victim != nil
	})
	if err := victim.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if reason := c.ExpectClose(websocket.CloseGoingAway); reason != "server shutting down" {
		t.Fatalf("close reason %q", reason)
	}
	// Reconnect at once, as the bundled client does after a 1001: the
	// stopping node refuses or is gone, and nginx moves on.
	again, welcome := wstest.DialWelcome(t, url, nil)
	if second := welcomeNode(t, welcome); second == first {
		t.Fatalf("reconnected to the stopping node %s", first)
	}
	if r := again.Call("1", "echo", "moved"); r.CodeOf(t) != 0 {
		t.Fatalf("echo on the other node: %+v", r)
	}
	if err := victim.waitExit(t); err != nil {
		t.Fatalf("the stopped node exited with %v", err)
	}
}
