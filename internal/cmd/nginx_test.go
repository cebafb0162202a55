package cmd_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
)

// Every nginx file the template ships is started here in a real nginx,
// with only its addresses, certificate and log paths (and, where a test
// says so, its timeouts) rewritten.

func nodePort(n *wstest.Node) int { return n.App.HTTP.GetListenedPort() }

// nginxFront is a real nginx started from a shipped file in front of one
// node.
type nginxFront struct {
	port      int
	base      string // http://127.0.0.1:port, or https:// for the TLS file
	wsURL     string // ws:// or wss://127.0.0.1:port/ws
	accessLog string // the file the /ws location logs to
	client    *http.Client
	dialer    *websocket.Dialer
}

// startShippedNginx starts manifest/deploy/nginx/<name> on a free port in
// front of node, with the file's addresses rewritten and then replacements
// applied. The FastCGI file needs a node with fastcgi.address set.
func startShippedNginx(t *testing.T, name string, node *wstest.Node, replacements ...string) *nginxFront {
	t.Helper()
	front := &nginxFront{
		port:      wstest.FreePort(t),
		accessLog: filepath.Join(t.TempDir(), "access.log"),
		client:    wstest.HTTP,
		dialer:    websocket.DefaultDialer,
	}
	listen := fmt.Sprintf("listen 127.0.0.1:%d;", front.port)
	upstream := fmt.Sprintf("127.0.0.1:%d;", nodePort(node))
	rewrites := []string{"/var/log/nginx/access.log", front.accessLog}
	scheme := "http"
	switch name {
	case "template-ws.conf":
		rewrites = append(rewrites, "listen 8080;", listen, "server 127.0.0.1:8000 ", "server "+strings.TrimSuffix(upstream, ";")+" ")
	case "template-ws-tls.conf":
		certFile, keyFile, roots := wstest.SelfSignedCert(t)
		rewrites = append(rewrites,
			"listen 8443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", front.port),
			"server 127.0.0.1:8000 ", "server "+strings.TrimSuffix(upstream, ";")+" ",
			"/etc/ssl/certs/template-ws.crt", certFile,
			"/etc/ssl/private/template-ws.key", keyFile)
		scheme = "https"
		tlsConfig := &tls.Config{RootCAs: roots}
		front.client = &http.Client{Timeout: wstest.Timeout,
			Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: tlsConfig}}
		front.dialer = &websocket.Dialer{HandshakeTimeout: wstest.Timeout, TLSClientConfig: tlsConfig}
	case "template-ws-fastcgi.conf":
		rewrites = append(rewrites, "listen 8080;", listen,
			"proxy_pass http://127.0.0.1:8000;", "proxy_pass http://"+upstream,
			"fastcgi_pass 127.0.0.1:9000;", "fastcgi_pass "+node.FastCGIAddr+";")
	default:
		t.Fatalf("no shipped nginx file %s", name)
	}
	wstest.StartNginx(t, wstest.ShippedNginxConf(t, name, append(rewrites, replacements...)...), front.port)
	front.base = fmt.Sprintf("%s://127.0.0.1:%d", scheme, front.port)
	front.wsURL = "ws" + strings.TrimPrefix(front.base, "http") + "/ws"
	return front
}

// dialWelcome dials /ws with query through nginx and reads the welcome.
func (f *nginxFront) dialWelcome(t *testing.T, query string, header http.Header) (*wstest.Client, wstest.Msg) {
	t.Helper()
	conn, resp, err := f.dialer.Dial(f.wsURL+query, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s%s through nginx: status %d, %v", f.wsURL, query, status, err)
	}
	c := wstest.Wrap(t, conn)
	welcome := c.Read()
	if welcome.Event != "welcome" {
		t.Fatalf("first message through nginx is %+v, want the welcome", welcome)
	}
	return c, welcome
}

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

// refusedUpgrade dials url with header, which must refuse the upgrade, and
// returns the refusal's status and GoFrame body.
func refusedUpgrade(t *testing.T, dialer *websocket.Dialer, url string, header http.Header) (int, ghttp.DefaultHandlerResponse) {
	t.Helper()
	var body ghttp.DefaultHandlerResponse
	_, resp, err := dialer.Dial(url, header)
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
	front := startShippedNginx(t, "template-ws.conf", node)
	url := front.wsURL

	c, _ := wstest.DialWelcome(t, url, nil)
	if r := c.Call("1", "echo", map[string]int{"through": 1}); r.CodeOf(t) != 0 || string(r.Data) != `{"through":1}` {
		t.Fatalf("echo through nginx: %+v", r)
	}
	if resp, err := wstest.HTTP.Get(front.base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz through nginx: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// The README's check of an nginx setup, a plain request to /ws, is
	// told it is not a handshake, not that this correct file dropped the
	// upgrade headers: it had none to drop.
	if status, body := request(t, front.client, front.base, "GET /ws"); status != 426 || strings.Contains(body, "hop-by-hop") {
		t.Fatalf("a plain GET /ws through the shipped file: %d %s", status, body)
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
	behindNginx := func(node *wstest.Node) string {
		return startShippedNginx(t, "template-ws.conf", node, "proxy_read_timeout 75s;", "proxy_read_timeout 2s;").wsURL
	}
	pinging := wstest.Start(t, map[string]any{"ws.pingInterval": "500ms", "ws.pongTimeout": "1500ms", "ws.writeTimeout": "1s"})
	// The control: pings far apart, so nothing crosses nginx while idle.
	silent := wstest.Start(t, map[string]any{"ws.pingInterval": "30s", "ws.pongTimeout": "60s"})

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
	kept, _ := wstest.DialWelcome(t, behindNginx(pinging), nil)
	dropped, _ := wstest.DialWelcome(t, behindNginx(silent), nil)
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
	front := startShippedNginx(t, "template-ws-tls.conf", node)
	// As a page served by this nginx over https:// dials.
	c, _ := front.dialWelcome(t, "", http.Header{"Origin": {front.base}})
	if r := c.Call(1, "echo", "secure"); r.CodeOf(t) != 0 || string(r.Data) != `"secure"` {
		t.Fatalf("echo over wss: %+v", r)
	}
}

// A page served through nginx on its own port connects with the default
// ws.allowedOrigins: nginx passes the Host with its port, and the node
// compares the Origin's host and port with it.
func TestNginxSameOriginKeepsThePort(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"fastcgi.address": "127.0.0.1:0"})
	for _, name := range shippedNginxFiles {
		t.Run(name, func(t *testing.T) {
			front := startShippedNginx(t, name, node)
			c, _ := front.dialWelcome(t, "", http.Header{"Origin": {front.base}})
			if r := c.Call(1, "echo", "same origin"); r.CodeOf(t) != 0 {
				t.Fatalf("echo: %+v", r)
			}
			// The same host on the scheme's default port is another origin.
			portless := front.base[:strings.LastIndex(front.base, ":")]
			status, body := refusedUpgrade(t, front.dialer, front.wsURL, http.Header{"Origin": {portless}})
			if status != http.StatusForbidden || body.Code != 62 || !strings.Contains(body.Message, portless) {
				t.Fatalf("origin %s through nginx on port %d: %d %+v, want the node's 403", portless, front.port, status, body)
			}
		})
	}
}

func TestNginxFastCGISplit(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"fastcgi.address": "127.0.0.1:0"})
	split := startShippedNginx(t, "template-ws-fastcgi.conf", node)
	// The mistake the split prevents: everything, /ws included, to FastCGI.
	misroutedPort := wstest.FreePort(t)
	wstest.StartNginx(t, fmt.Sprintf(`server {
    listen 127.0.0.1:%d;
    location / { fastcgi_pass %s; include fastcgi_params; }
}
`, misroutedPort, node.FastCGIAddr), misroutedPort)

	resp, err := wstest.HTTP.Get(split.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz over FastCGI: %d", resp.StatusCode)
	}
	c, _ := wstest.DialWelcome(t, split.wsURL, nil)
	if r := c.Call("1", "echo", "split"); r.CodeOf(t) != 0 {
		t.Fatalf("echo over the HTTP side: %+v", r)
	}

	status, body := refusedUpgrade(t, websocket.DefaultDialer, fmt.Sprintf("ws://127.0.0.1:%d/ws", misroutedPort), nil)
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
	status, body := refusedUpgrade(t, websocket.DefaultDialer, fmt.Sprintf("ws://127.0.0.1:%d/ws", port), nil)
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
		upstream.WriteString(fmt.Sprintf("server %s max_fails=0;\n    ", strings.TrimPrefix(n.base, "http://")))
	}
	port := wstest.FreePort(t)
	wstest.StartNginx(t, wstest.ShippedNginxConf(t, "template-ws.conf",
		"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port),
		"server 127.0.0.1:8000 max_fails=0;", upstream.String(),
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
