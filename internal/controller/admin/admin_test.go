package admin_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// The hub is the process's service, so these tests run one node at a
// time, never in parallel.

const (
	secret     = "admin-test-secret"
	adminToken = "admin-test-token"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, wstest.FrameworkGoroutines()...)
}

type apiResponse struct {
	Status  int
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// call sends an admin request with the given bearer token ("" for none).
func call(t *testing.T, method, url, token, body string) apiResponse {
	t.Helper()
	header := map[string]string{}
	if token != "" {
		header["Authorization"] = "Bearer " + token
	}
	if body != "" {
		header["Content-Type"] = "application/json"
	}
	return send(t, method, url, header, body)
}

func dialAs(t *testing.T, node *wstest.Node, user string) (*wstest.Client, string) {
	t.Helper()
	return wstest.DialAs(t, node.WSURL, secret, user)
}

func startNode(t *testing.T) *wstest.Node {
	t.Helper()
	return wstest.Start(t, map[string]any{
		"ws.auth.jwtSecret": secret, "admin.token": adminToken,
		"server.openapiPath": "/api.json",
	})
}

func TestAdminAPI(t *testing.T) {
	node := startNode(t)
	api := node.HTTPURL + "/api/v1"
	ann, annID := dialAs(t, node, "ann")
	annPhone, _ := dialAs(t, node, "ann")
	bob, _ := dialAs(t, node, "bob")
	if r := bob.Call("j", "room.join", map[string]string{"room": "news"}); r.CodeOf(t) != 0 {
		t.Fatalf("join: %+v", r)
	}

	t.Run("refuses a missing or wrong token", func(t *testing.T) {
		for _, token := range []string{"", "wrong"} {
			res := call(t, "GET", api+"/connections", token, "")
			if res.Status != 401 || res.Code != 61 || !strings.Contains(res.Message, "admin token") {
				t.Fatalf("token %q: %+v", token, res)
			}
		}
	})

	t.Run("pushes to a user on all devices", func(t *testing.T) {
		res := call(t, "POST", api+"/push", adminToken, `{"user":"ann","event":"notice","data":{"n":1}}`)
		if res.Status != 200 || res.Code != 0 || string(res.Data) != `{"delivered":2}` {
			t.Fatalf("push: %+v %s", res, res.Data)
		}
		for _, c := range []*wstest.Client{ann, annPhone} {
			if m := c.Read(); m.Event != "notice" || m.Code != nil || string(m.Data) != `{"n":1}` {
				t.Fatalf("pushed message: %+v %s", m, m.Data)
			}
		}
	})
	t.Run("pushes to a room", func(t *testing.T) {
		res := call(t, "POST", api+"/push", adminToken, `{"room":"news","event":"headline","data":"extra"}`)
		if string(res.Data) != `{"delivered":1}` {
			t.Fatalf("push: %+v %s", res, res.Data)
		}
		if m := bob.Read(); m.Event != "headline" || string(m.Data) != `"extra"` {
			t.Fatalf("pushed message: %+v", m)
		}
	})
	t.Run("pushes to everyone", func(t *testing.T) {
		res := call(t, "POST", api+"/push", adminToken, `{"all":true,"event":"bell"}`)
		if string(res.Data) != `{"delivered":3}` {
			t.Fatalf("push: %+v %s", res, res.Data)
		}
		for _, c := range []*wstest.Client{ann, annPhone, bob} {
			if m := c.Read(); m.Event != "bell" || string(m.Data) != "null" {
				t.Fatalf("pushed message: %+v", m)
			}
		}
	})
	t.Run("refuses a push without exactly one target, or to a room no one can join", func(t *testing.T) {
		for _, body := range []string{`{"event":"x"}`, `{"user":"ann","all":true,"event":"x"}`, `{"user":"ann"}`, `{"room":"no/such","event":"x"}`} {
			res := call(t, "POST", api+"/push", adminToken, body)
			if res.Status != 400 || res.Code != 51 {
				t.Fatalf("push %s: %+v", body, res)
			}
		}
	})

	t.Run("refuses a push under an event the server sends itself", func(t *testing.T) {
		for _, event := range []string{"welcome", "room.message", "room.joined", "user.message", "error", "rejoined"} {
			res := call(t, "POST", api+"/push", adminToken, `{"room":"news","event":"`+event+`","data":"spoof"}`)
			if res.Status != 400 || res.Code != 51 || !strings.Contains(res.Message, "an event name of your own") {
				t.Fatalf("push of %s: %+v", event, res)
			}
		}
	})

	t.Run("lists connections", func(t *testing.T) {
		var all, anns struct {
			List []struct {
				ConnID, UserID, RemoteAddr string
				Since                      time.Time
				Rooms                      []string
			}
		}
		if err := json.Unmarshal(call(t, "GET", api+"/connections", adminToken, "").Data, &all); err != nil || len(all.List) != 3 {
			t.Fatalf("list: %+v %v", all, err)
		}
		if err := json.Unmarshal(call(t, "GET", api+"/connections?user=ann", adminToken, "").Data, &anns); err != nil || len(anns.List) != 2 {
			t.Fatalf("list for ann: %+v %v", anns, err)
		}
		first := anns.List[0]
		if first.ConnID != annID || first.RemoteAddr != "127.0.0.1" || first.Since.IsZero() || len(first.Rooms) != 0 {
			t.Fatalf("ann's first connection: %+v", first)
		}
		for _, c := range all.List {
			if c.UserID == "bob" && (len(c.Rooms) != 1 || c.Rooms[0] != "news") {
				t.Fatalf("bob's rooms: %+v", c)
			}
		}
	})

	t.Run("lists a room's users", func(t *testing.T) {
		res := call(t, "GET", api+"/rooms/news", adminToken, "")
		if res.Code != 0 || wstest.WithoutEpoch(res.Data) != `{"room":"news","count":1,"users":["bob"],"offset":1,"epoch":"E"}` {
			t.Fatalf("room: %+v %s", res, res.Data)
		}
		// A room nobody used has no stream, and reading it starts none.
		for range 2 {
			if res := call(t, "GET", api+"/rooms/unused", adminToken, ""); string(res.Data) != `{"room":"unused","count":0,"users":[],"offset":0,"epoch":""}` {
				t.Fatalf("a room never used: %+v %s", res, res.Data)
			}
		}
		if res := call(t, "GET", api+"/rooms/bad%20name", adminToken, ""); res.Status != 400 || res.Code != 51 {
			t.Fatalf("bad room name: %+v", res)
		}
		if res := call(t, "GET", api+"/rooms/news?after=bob", adminToken, ""); wstest.WithoutEpoch(res.Data) != `{"room":"news","count":1,"users":[],"offset":1,"epoch":"E"}` {
			t.Fatalf("the page after the last user: %+v %s", res, res.Data)
		}
		if res := call(t, "GET", api+"/rooms/news?limit=1001", adminToken, ""); res.Status != 400 || res.Code != 51 {
			t.Fatalf("a page of 1001: %+v", res)
		}
	})

	t.Run("kicks a connection with 4403", func(t *testing.T) {
		res := call(t, "DELETE", api+"/connections/"+annID, adminToken, "")
		if res.Code != 0 || string(res.Data) != `{"connId":"`+annID+`"}` {
			t.Fatalf("kick: %+v %s", res, res.Data)
		}
		if reason := ann.ExpectClose(ws.CloseKicked); reason != "kicked" {
			t.Fatalf("kicked client saw %q", reason)
		}
		if res := call(t, "DELETE", api+"/connections/no-such-conn", adminToken, ""); res.Status != 404 || res.Code != 65 {
			t.Fatalf("kick unknown: %+v", res)
		}
	})
}

func TestEmptyAdminTokenAdmitsLoopback(t *testing.T) {
	node := wstest.Start(t, nil)
	res := call(t, "GET", node.HTTPURL+"/api/v1/connections", "", "")
	if res.Status != 200 || res.Code != 0 {
		t.Fatalf("loopback without token: %+v", res)
	}
}

func TestMetricsMove(t *testing.T) {
	node := startNode(t)
	series := func(name string) float64 { return wstest.Metric(t, node.HTTPURL, name) }
	for _, name := range []string{"ws_connections", "ws_messages_received_total", "ws_messages_sent_total",
		`ws_handshake_rejected_total{reason="origin"}`, "ws_slow_consumer_closed_total", "go_goroutines"} {
		series(name)
	}
	c, _ := dialAs(t, node, "mo")
	if n := series("ws_connections"); n != 1 {
		t.Fatalf("ws_connections = %v with one client", n)
	}
	received, sent := series("ws_messages_received_total"), series("ws_messages_sent_total")
	c.Call("1", "echo", "x")
	if series("ws_messages_received_total") != received+1 || series("ws_messages_sent_total") != sent+1 {
		t.Fatalf("message counters did not move by one per message")
	}
	_, resp, err := websocket.DefaultDialer.Dial(node.WSURL, http.Header{"Origin": {"https://elsewhere.example"}})
	if err == nil {
		t.Fatal("foreign origin accepted")
	}
	resp.Body.Close()
	if n := series(`ws_handshake_rejected_total{reason="origin"}`); n != 1 {
		t.Fatalf("origin rejections = %v", n)
	}
	c.Close()
	wstest.WaitFor(t, "ws_connections to drop", func() bool { return series("ws_connections") == 0 })
	// The WebSocket route stays out of HTTP latency figures.
	body := func() string {
		resp, err := wstest.HTTP.Get(node.HTTPURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return string(raw)
	}()
	if strings.Contains(body, `route="/ws"`) || !strings.Contains(body, `route="/metrics"`) {
		t.Fatalf("HTTP latency series wrong:\n%s", body)
	}
}

// A push followed at once by a kick of the same user reaches every device
// before the 4403: the close waits for what was queued before it.
func TestPushThenKickDeliversThePushFirst(t *testing.T) {
	node := startNode(t)
	api := node.HTTPURL + "/api/v1"
	phone, _ := dialAs(t, node, "dana")
	laptop, _ := dialAs(t, node, "dana")
	const pushes = 50
	for i := range pushes {
		if res := call(t, "POST", api+"/push", adminToken, fmt.Sprintf(`{"user":"dana","event":"notice","data":%d}`, i)); res.Code != 0 {
			t.Fatalf("push %d: %+v", i, res)
		}
	}
	if res := call(t, "DELETE", api+"/users/dana/connections", adminToken, ""); res.Code != 0 {
		t.Fatalf("kick: %+v", res)
	}
	for _, c := range []*wstest.Client{phone, laptop} {
		for i := range pushes {
			if m := c.Read(); m.Event != "notice" || string(m.Data) != fmt.Sprint(i) {
				t.Fatalf("message %d before the kick: %+v", i, m)
			}
		}
		c.ExpectClose(ws.CloseKicked)
	}
}
