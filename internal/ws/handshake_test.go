package ws_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/fcgi"
	"strings"
	"testing"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// refusal is what every handshake refusal must look like.
type refusal struct {
	status  int
	code    int
	header  map[string]string
	message []string // fragments the message must contain
	absent  []string // fragments it must not contain
}

func checkRefusal(t *testing.T, status int, header http.Header, body string, want refusal) {
	t.Helper()
	if status != want.status {
		t.Fatalf("status %d, want %d; body %s", status, want.status, body)
	}
	var res ghttp.DefaultHandlerResponse
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("body %q is not GoFrame's response shape: %v", body, err)
	}
	if res.Code != want.code {
		t.Fatalf("code %d, want %d; body %s", res.Code, want.code, body)
	}
	if res.Data != nil || !strings.Contains(body, `"data":null`) {
		t.Fatalf("data must be null in a refusal: %s", body)
	}
	for name, value := range want.header {
		if got := header.Get(name); got != value {
			t.Fatalf("header %s = %q, want %q", name, got, value)
		}
	}
	for _, fragment := range want.message {
		if !strings.Contains(res.Message, fragment) {
			t.Fatalf("message %q does not mention %q", res.Message, fragment)
		}
	}
	for _, fragment := range want.absent {
		if strings.Contains(res.Message, fragment) {
			t.Fatalf("message %q mentions %q", res.Message, fragment)
		}
	}
}

// dialRefused attempts a WebSocket handshake that must be refused.
func dialRefused(t *testing.T, url string, header http.Header, want refusal) {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err == nil {
		conn.Close()
		t.Fatalf("handshake to %s succeeded, want status %d", url, want.status)
	}
	if resp == nil {
		t.Fatalf("handshake to %s failed without a response: %v", url, err)
	}
	body := readBody(t, resp)
	checkRefusal(t, resp.StatusCode, resp.Header, body, want)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	const secret = "handshake-secret"
	node := wstest.Start(t, map[string]any{"ws.auth.jwtSecret": secret})
	addr := strings.TrimPrefix(node.HTTPURL, "http://")

	t.Run("POST is 405 with Allow", func(t *testing.T) {
		resp, err := wstest.HTTP.Post(node.HTTPURL+"/ws", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		checkRefusal(t, resp.StatusCode, resp.Header, readBody(t, resp), refusal{
			status: 405, code: 66, header: map[string]string{"Allow": "GET"}, message: []string{"only GET"},
		})
	})
	t.Run("plain GET is 426 naming the missing headers", func(t *testing.T) {
		resp, err := wstest.HTTP.Get(node.HTTPURL + "/ws")
		if err != nil {
			t.Fatal(err)
		}
		checkRefusal(t, resp.StatusCode, resp.Header, readBody(t, resp), refusal{
			status: 426, code: 66, header: map[string]string{"Upgrade": "websocket"},
			message: []string{"Upgrade: websocket", "Connection: Upgrade", `new WebSocket("ws://` + addr + `/ws")`},
			absent:  []string{"proxy_http_version"},
		})
	})
	t.Run("426 through a proxy names the nginx lines", func(t *testing.T) {
		for _, mark := range []string{"X-Forwarded-For: 10.1.2.3", "X-Real-IP: 10.1.2.3", "Via: 1.1 edge", "Forwarded: for=10.1.2.3"} {
			// A handshake whose Upgrade and Connection the proxy dropped.
			res := wstest.RawRequest(t, addr, "GET /ws HTTP/1.1", "Host: "+addr, mark, "Connection: close",
				"Sec-WebSocket-Key: "+testKey, "Sec-WebSocket-Version: 13")
			checkRefusal(t, res.Status, res.Header, res.Body, refusal{
				status: 426, code: 66, header: map[string]string{"Upgrade": "websocket"},
				message: []string{"proxy_http_version 1.1", "proxy_set_header Upgrade $http_upgrade",
					"proxy_set_header Connection $connection_upgrade", "manifest/deploy/nginx/template-ws.conf"},
			})
		}
	})
	t.Run("HTTP/1.0 with a WebSocket key is nginx's default and gets the proxy lines", func(t *testing.T) {
		res := wstest.RawRequest(t, addr, "GET /ws HTTP/1.0", "Host: "+addr,
			"Sec-WebSocket-Key: "+testKey, "Sec-WebSocket-Version: 13")
		checkRefusal(t, res.Status, res.Header, res.Body, refusal{
			status: 426, code: 66, message: []string{"Upgrade: websocket", "proxy_http_version 1.1"},
		})
	})
	upgradeLines := func(extra ...string) []string {
		return append([]string{"GET /ws HTTP/1.1", "Host: " + addr, "Connection: Upgrade", "Upgrade: websocket"}, extra...)
	}
	t.Run("wrong version is 400 naming 13", func(t *testing.T) {
		res := wstest.RawRequest(t, addr, upgradeLines("Sec-WebSocket-Version: 8", "Sec-WebSocket-Key: "+testKey)...)
		checkRefusal(t, res.Status, res.Header, res.Body, refusal{
			status: 400, code: 66, header: map[string]string{"Sec-WebSocket-Version": "13"}, message: []string{"version 13"},
		})
	})
	t.Run("missing key is 400", func(t *testing.T) {
		res := wstest.RawRequest(t, addr, upgradeLines("Sec-WebSocket-Version: 13")...)
		checkRefusal(t, res.Status, res.Header, res.Body, refusal{status: 400, code: 66, message: []string{"Sec-WebSocket-Key"}})
	})
	t.Run("malformed key is 400", func(t *testing.T) {
		res := wstest.RawRequest(t, addr, upgradeLines("Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: not-base64!")...)
		checkRefusal(t, res.Status, res.Header, res.Body, refusal{status: 400, code: 66, message: []string{"Sec-WebSocket-Key"}})
	})
	t.Run("a body is 400", func(t *testing.T) {
		res := wstest.RawRequest(t, addr, upgradeLines("Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+testKey,
			"Content-Length: 5", "", "hello")...)
		checkRefusal(t, res.Status, res.Header, res.Body, refusal{status: 400, code: 66, message: []string{"no body"}})
	})
	t.Run("a frame sent before the 101 gets a 400 saying to wait for it", func(t *testing.T) {
		const maskedHello = "\x81\x85\x00\x00\x00\x00hello"
		res := wstest.RawRequest(t, addr, upgradeLines("Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: "+testKey, "", maskedHello)...)
		checkRefusal(t, res.Status, res.Header, res.Body, refusal{status: 400, code: 66, message: []string{"wait for the 101"}})
	})
	t.Run("foreign origin is 403 naming origin, host, setting and proxy fix", func(t *testing.T) {
		host := strings.TrimPrefix(node.HTTPURL, "http://")
		dialRefused(t, node.WSURL, http.Header{"Origin": {"https://evil.example"}}, refusal{
			status: 403, code: 62,
			message: []string{`"https://evil.example"`, `"` + host + `"`, "ws.allowedOrigins", "proxy_set_header Host $http_host"},
		})
		long := "https://" + strings.Repeat("a", 4000) + ".example"
		dialRefused(t, node.WSURL, http.Header{"Origin": {long}}, refusal{
			status: 403, code: 62, absent: []string{strings.Repeat("a", 200)},
		})
	})
	t.Run("same-host origin and no origin are accepted", func(t *testing.T) {
		wstest.DialWelcome(t, node.WSURL, http.Header{"Origin": {node.HTTPURL}})
		wstest.DialWelcome(t, node.WSURL, nil)
	})
	t.Run("bad token is 401 even when auth is optional", func(t *testing.T) {
		forged := wstest.Token(t, "another-secret", "mallory", time.Time{})
		dialRefused(t, node.WSURL, http.Header{"Authorization": {"Bearer " + forged}}, refusal{
			status: 401, code: 61, message: []string{"not valid", "ws.auth.jwtSecret"},
		})
		dialRefused(t, node.WSURL+"?token=garbage", nil, refusal{status: 401, code: 61, message: []string{"not valid"}})
	})
	t.Run("expired token is 401", func(t *testing.T) {
		old := wstest.Token(t, secret, "alice", time.Now().Add(-time.Minute))
		dialRefused(t, node.WSURL+"?token="+old, nil, refusal{status: 401, code: 61, message: []string{"expired"}})
	})
	t.Run("valid token from header or query names the user", func(t *testing.T) {
		token := wstest.Token(t, secret, "alice", time.Now().Add(time.Hour))
		for _, dial := range []func() wstest.Msg{
			func() wstest.Msg {
				_, w := wstest.DialWelcome(t, node.WSURL, http.Header{"Authorization": {"Bearer " + token}})
				return w
			},
			func() wstest.Msg { _, w := wstest.DialWelcome(t, node.WSURL+"?token="+token, nil); return w },
		} {
			var data struct{ UserID string }
			if err := json.Unmarshal(dial().Data, &data); err != nil || data.UserID != "alice" {
				t.Fatalf("welcome userId %q, want alice (%v)", data.UserID, err)
			}
		}
	})
}

// With the shipped placeholder secret, which anybody can sign tokens with,
// a token counts only on a direct connection from the node's machine: a
// proxy on the same host makes every peer loopback, and would otherwise
// let anybody sign in as anybody. Anonymous connections go through.
func TestPlaceholderSecretTakesTokensOnlyFromThisMachineDirectly(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	token := wstest.Token(t, ws.PlaceholderJWTSecret, "alice", time.Time{})
	_, welcome := wstest.DialWelcome(t, node.WSURL+"?token="+token, nil)
	var data struct{ UserID string }
	if err := json.Unmarshal(welcome.Data, &data); err != nil || data.UserID != "alice" {
		t.Fatalf("a direct token: welcome userId %q, want alice (%v)", data.UserID, err)
	}
	proxied := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	dialRefused(t, node.WSURL+"?token="+token, proxied, refusal{
		status: 401, code: 61, message: []string{"ws.auth.jwtSecret is still the shipped placeholder", "long random secret"},
	})
	wstest.DialWelcome(t, node.WSURL, proxied)
}

func TestHandshakeTokenRequired(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.auth.required": true, "ws.auth.jwtSecret": "s3cret"})
	dialRefused(t, node.WSURL, nil, refusal{status: 401, code: 61, message: []string{"token is required", "?token="}})
}

func TestHandshakeAllowedOrigins(t *testing.T) {
	t.Parallel()
	listed := wstest.Start(t, map[string]any{"ws.allowedOrigins": []string{"https://app.example.com"}})
	wstest.DialWelcome(t, listed.WSURL, http.Header{"Origin": {"https://app.example.com"}})
	dialRefused(t, listed.WSURL, http.Header{"Origin": {listed.HTTPURL}}, refusal{status: 403, code: 62})

	anyOrigin := wstest.Start(t, map[string]any{"ws.allowedOrigins": []string{"*"}})
	wstest.DialWelcome(t, anyOrigin.WSURL, http.Header{"Origin": {"https://anything.example"}})
}

func TestHandshakeConnectionCaps(t *testing.T) {
	t.Parallel()
	const secret = "caps-secret"
	perUser := wstest.Start(t, map[string]any{"ws.maxConnectionsPerUser": 1, "ws.auth.jwtSecret": secret})
	bob := http.Header{"Authorization": {"Bearer " + wstest.Token(t, secret, "bob", time.Time{})}}
	first, _ := wstest.DialWelcome(t, perUser.WSURL, bob)
	dialRefused(t, perUser.WSURL, bob, refusal{status: 429, code: 63, message: []string{"bob", "ws.maxConnectionsPerUser"}})
	// The slot comes back when the connection goes.
	first.Close()
	wstest.WaitFor(t, "bob's slot to be released", func() bool { return perUser.App.WS.Len() == 0 })
	wstest.DialWelcome(t, perUser.WSURL, bob)

	perIP := wstest.Start(t, map[string]any{"ws.maxConnectionsPerIP": 1})
	fromLoopback, _ := wstest.DialWelcome(t, perIP.WSURL, nil)
	dialRefused(t, perIP.WSURL, nil, refusal{status: 429, code: 63, message: []string{"127.0.0.1", "ws.maxConnectionsPerIP"}})
	fromLoopback.Close()
	wstest.WaitFor(t, "the address's slot to be released", func() bool { return perIP.App.WS.Len() == 0 })
	wstest.DialWelcome(t, perIP.WSURL, nil)

	// Behind a trusted proxy the cap counts the forwarded client address;
	// a direct client cannot dodge it by sending its own X-Forwarded-For.
	proxied := wstest.Start(t, map[string]any{"ws.maxConnectionsPerIP": 1})
	from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {"198.51.100.7, " + addr}} }
	wstest.DialWelcome(t, proxied.WSURL, from("203.0.113.5"))
	wstest.DialWelcome(t, proxied.WSURL, from("203.0.113.6"))
	dialRefused(t, proxied.WSURL, from("203.0.113.5"), refusal{status: 429, code: 63, message: []string{"address 203.0.113.5 "}})
	// An IPv6 client counts by its /64, which it could otherwise spend an
	// address of per connection.
	wstest.DialWelcome(t, proxied.WSURL, from("2001:db8:0:1::1"))
	dialRefused(t, proxied.WSURL, from("2001:db8:0:1::2"), refusal{status: 429, code: 63, message: []string{"address 2001:db8:0:1::/64 "}})
	wstest.DialWelcome(t, proxied.WSURL, from("2001:db8:0:2::1"))
	untrusted := wstest.Start(t, map[string]any{"ws.maxConnectionsPerIP": 1, "server.trustedProxies": []string{}})
	wstest.DialWelcome(t, untrusted.WSURL, from("203.0.113.5"))
	dialRefused(t, untrusted.WSURL, from("203.0.113.6"), refusal{status: 429, code: 63, message: []string{"address 127.0.0.1 "}})

	total := wstest.Start(t, map[string]any{"ws.maxConnections": 1})
	only, _ := wstest.DialWelcome(t, total.WSURL, nil)
	dialRefused(t, total.WSURL, nil, refusal{
		status: 503, code: 63, header: map[string]string{"Retry-After": "5"}, message: []string{"ws.maxConnections"},
	})
	only.Close()
	wstest.WaitFor(t, "the node's slot to be released", func() bool { return total.App.WS.Len() == 0 })
	wstest.DialWelcome(t, total.WSURL, nil)
}

// A request that reaches the node through FastCGI cannot be upgraded: the
// answer must say so and point at the nginx file that splits the routes.
func TestHandshakeOverFastCGI(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = fcgi.Serve(listener, node.App.HTTP)
	}()
	t.Cleanup(func() { listener.Close(); <-served })

	res := wstest.FastCGIGet(t, listener.Addr().String(), "/ws", map[string]string{
		"Host": "localhost", "Upgrade": "websocket", "Connection": "Upgrade",
		"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": testKey,
	})
	checkRefusal(t, res.Status, res.Header, res.Body, refusal{
		status: 500, code: 59,
		message: []string{"FastCGI", "plain HTTP/1.1", "manifest/deploy/nginx/template-ws-fastcgi.conf"},
	})
}
