package ws_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

func TestWelcomeIsTheFirstFrame(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.pingInterval": "7s", "broker.nodeId": "welcome-node"})
	_, welcome := wstest.DialWelcome(t, node.WSURL, nil)
	var data struct {
		ConnID       string `json:"connId"`
		UserID       string `json:"userId"`
		Node         string `json:"node"`
		PingInterval int64  `json:"pingInterval"`
	}
	if err := json.Unmarshal(welcome.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.ConnID == "" || data.UserID != "anon-"+data.ConnID || data.Node != "welcome-node" || data.PingInterval != 7000 {
		t.Fatalf("welcome data %+v", data)
	}
}

// A delivery that reaches a connection as soon as the layers above know
// it still follows the welcome.
func TestWelcomeGoesBeforeADeliveryAtOpen(t *testing.T) {
	t.Parallel()
	cfg := ws.DefaultConfig()
	srv := ws.NewServer(cfg, "n", ws.NewRouter(), ws.Hooks{OnOpen: func(c *ws.Conn) {
		c.Send([]byte(`{"event":"early"}`))
	}})
	base := wstest.Serve(t, func(s *ghttp.Server) { s.BindHandler(cfg.Path, srv.Handle) })
	t.Cleanup(func() { srv.Drain(wstest.ShutdownContext(t)) })
	c := wstest.Dial(t, "ws"+strings.TrimPrefix(base, "http")+cfg.Path, nil)
	for _, want := range []string{"welcome", "early"} {
		if m := c.Read(); m.Event != want {
			t.Fatalf("got %q, want %q next", m.Event, want)
		}
	}
}

func TestPingAndEcho(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)

	before := time.Now().UnixMilli()
	pong := c.Call("1", "ping", nil)
	var clock struct{ Time int64 }
	if err := json.Unmarshal(pong.Data, &clock); err != nil || pong.CodeOf(t) != 0 || pong.Event != "ping" {
		t.Fatalf("ping reply %+v (%v)", pong, err)
	}
	if clock.Time < before || clock.Time > time.Now().UnixMilli() {
		t.Fatalf("ping time %d outside the call", clock.Time)
	}
	// ping takes any data (PROTOCOL 2), and ignores it.
	for _, data := range []string{`0`, `"now"`, `[1,2]`, `true`, `{"a":1}`} {
		c.SendRaw(websocket.TextMessage, []byte(`{"id":"p","event":"ping","data":`+data+`}`))
		if reply := c.Read(); reply.CodeOf(t) != 0 || reply.Event != "ping" {
			t.Fatalf("ping with data %s: %+v", data, reply)
		}
	}

	// The reply carries the id verbatim, string or number, and any data.
	for _, tc := range []struct{ id, data string }{
		{`"7"`, `{"a":[1,2,{"b":null}],"s":"héllo"}`},
		{`7`, `"just a string"`},
		{`-1.5e3`, `[1,true,null]`},
		{`"x"`, `null`},
	} {
		c.SendRaw(websocket.TextMessage, []byte(`{"id":`+tc.id+`,"event":"echo","data":`+tc.data+`}`))
		reply := c.Read()
		if string(reply.ID) != tc.id || string(reply.Data) != tc.data || reply.CodeOf(t) != 0 || reply.Message != "" {
			t.Fatalf("echo id %s data %s: got id %s data %s code %d", tc.id, tc.data, reply.ID, reply.Data, reply.CodeOf(t))
		}
	}
}

func TestRequestWithoutIDGetsNoReply(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	c.Send(map[string]any{"event": "echo", "data": "nobody asked"})
	// Replies come in request order, so the next frame tells whether the
	// first request was answered.
	if reply := c.Call("after", "echo", "second"); string(reply.ID) != `"after"` {
		t.Fatalf("a request without id was answered: %+v", reply)
	}
}

// Every refusal of section 2 is a reply with its gcode, and none of them
// closes the connection or loses the messages around it.
func TestBadInputGetsCodesAndKeepsTheConnection(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	cases := []struct {
		name    string
		kind    int
		frame   string
		code    int
		event   string
		id      string
		message []string
	}{
		{"not JSON", websocket.TextMessage, `{"event":`, 66, "error", "", []string{"not valid JSON"}},
		{"not an object", websocket.TextMessage, `[1,2]`, 66, "error", "", []string{"JSON object", "array"}},
		{"no event", websocket.TextMessage, `{"id":"3","data":{}}`, 66, "error", `"3"`, []string{"no event"}},
		{"event not a string", websocket.TextMessage, `{"id":4,"event":5}`, 66, "error", "4", []string{"event"}},
		{"id an object", websocket.TextMessage, `{"id":{},"event":"echo"}`, 66, "echo", "", []string{"id must be a string or a number"}},
		{"unknown event", websocket.TextMessage, `{"id":"5","event":"nope"}`, 65, "nope", `"5"`, []string{`unknown event "nope"`, "echo", "ping"}},
		{"unknown event without id", websocket.TextMessage, `{"event":"nope"}`, 65, "nope", "", []string{"unknown event"}},
		{"binary frame", websocket.BinaryMessage, `{"id":"6","event":"echo"}`, 59, "error", "", []string{"binary frames are not supported"}},
	}
	for _, tc := range cases {
		c.SendRaw(tc.kind, []byte(tc.frame))
		got := c.Read()
		if got.CodeOf(t) != tc.code || got.Event != tc.event || string(got.ID) != tc.id || !got.HasText(tc.message...) {
			t.Errorf("%s: got code %d event %q id %s message %q; want code %d event %q id %s containing %q",
				tc.name, got.CodeOf(t), got.Event, got.ID, got.Message, tc.code, tc.event, tc.id, tc.message)
		}
		if got.Data != nil && string(got.Data) != "null" {
			t.Errorf("%s: error reply data %s, want null", tc.name, got.Data)
		}
	}
	if reply := c.Call("alive", "echo", "still here"); reply.CodeOf(t) != 0 || string(reply.Data) != `"still here"` {
		t.Fatalf("connection unusable after bad input: %+v", reply)
	}
}

func TestRateLimitAnswers63(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.rateLimit.rate": 1, "ws.rateLimit.burst": 2})
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	for i := range 3 {
		c.Send(map[string]any{"id": i, "event": "echo", "data": i})
	}
	for i := range 2 {
		if r := c.Read(); r.CodeOf(t) != 0 || string(r.ID) != string(rune('0'+i)) {
			t.Fatalf("message %d within the burst: %+v", i, r)
		}
	}
	refused := c.Read()
	if refused.CodeOf(t) != 63 || string(refused.ID) != "2" || refused.Event != "echo" || !refused.HasText("rate limit", "1 messages per second") {
		t.Fatalf("message over the limit: %+v", refused)
	}
}
