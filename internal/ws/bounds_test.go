package ws_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
)

// With compression on, ws.maxMessageSize bounds the inflated message: a
// small frame that inflates past it closes with 1009 instead of being
// inflated whole.
func TestCompressedMessageIsBoundAfterInflating(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.compression": true, "ws.rateLimit.rate": 0})
	dialer := *websocket.DefaultDialer
	dialer.EnableCompression = true
	c := wstest.DialWith(t, &dialer, node.WSURL, nil)
	conn := c.Conn
	if w := c.Read(); w.Event != "welcome" {
		t.Fatalf("first message %+v", w)
	}
	// Compressed replies still arrive whole.
	if r := c.Call("small", "echo", strings.Repeat("ab", 1000)); r.CodeOf(t) != 0 || len(r.Data) != 2002 {
		t.Fatalf("a compressed echo: %+v", r)
	}
	conn.EnableWriteCompression(true)
	if err := conn.SetCompressionLevel(9); err != nil {
		t.Fatal(err)
	}
	bomb := `{"event":"echo","data":"` + strings.Repeat("a", 10<<20) + `"}` // 10 MB, a few KB on the wire
	c.SendRaw(websocket.TextMessage, []byte(bomb))
	if reason := c.ExpectClose(websocket.CloseMessageTooBig); !strings.Contains(reason, "65536") {
		t.Fatalf("close reason %q", reason)
	}
}

// A reply carries back at most a short prefix of the request: an event
// name or id over its bound is refused without being echoed, and JSON is
// not HTML-escaped.
func TestRepliesDoNotEchoOversizedInput(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.rateLimit.rate": 0})
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)

	longEvent := strings.Repeat("<", 60<<10)
	c.SendRaw(websocket.TextMessage, []byte(`{"id":1,"event":"`+longEvent+`"}`))
	_ = c.SetReadDeadline(time.Now().Add(wstest.Timeout))
	_, frame, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) > 512 || bytes.Contains(frame, []byte("<<")) || bytes.Contains(frame, []byte(`\u003c`)) {
		t.Fatalf("reply to a 60 KB event name is %d bytes: %.200s", len(frame), frame)
	}
	if !bytes.Contains(frame, []byte(`"code":66`)) || !bytes.Contains(frame, []byte("at most 64")) {
		t.Fatalf("reply to a 60 KB event name: %s", frame)
	}

	if r := c.Call(strings.Repeat("9", 100), "echo", 1); r.CodeOf(t) != 66 || r.ID != nil || !r.HasText("at most 64") {
		t.Fatalf("a 100-byte id: %+v", r)
	}
	// At the bounds: 64 bytes pass, 65 do not. An id's bytes are its
	// JSON's, quotes included.
	if r := c.Call(strings.Repeat("i", 62), "echo", 1); r.CodeOf(t) != 0 || string(r.ID) != `"`+strings.Repeat("i", 62)+`"` {
		t.Fatalf("an id of 64 bytes: %+v", r)
	}
	if r := c.Call(strings.Repeat("i", 63), "echo", 1); r.CodeOf(t) != 66 || r.ID != nil {
		t.Fatalf("an id of 65 bytes: %+v", r)
	}
	if r := c.Call("e64", strings.Repeat("e", 64), nil); r.CodeOf(t) == 66 {
		t.Fatalf("an event name of 64 bytes: %+v", r)
	}
	if r := c.Call("e65", strings.Repeat("e", 65), nil); r.CodeOf(t) != 66 {
		t.Fatalf("an event name of 65 bytes: %+v", r)
	}
	// A huge value quoted by a validation message is cut.
	r := c.Call("v", "room.join", map[string]string{"room": strings.Repeat("!", 30<<10)})
	if r.CodeOf(t) != 51 || len(r.Message) > 512 {
		t.Fatalf("validation reply for a 30 KB room name: code %d, %d-byte message", r.CodeOf(t), len(r.Message))
	}

	c.SendRaw(websocket.TextMessage, []byte(`{"id":"html","event":"<b>&"}`))
	_, frame, err = c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(frame, []byte(`<b>`)) || bytes.Contains(frame, []byte(`\u003c`)) {
		t.Fatalf("markup in a reply was escaped: %s", frame)
	}
}

// Any JSON number is an id, echoed as sent, however large.
func TestHugeNumberIDIsEchoed(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	c.SendRaw(websocket.TextMessage, []byte(`{"id":1e999999,"event":"echo","data":1}`))
	if r := c.Read(); r.CodeOf(t) != 0 || string(r.ID) != "1e999999" {
		t.Fatalf("reply %+v", r)
	}
}

// A token's sub becomes the user id in logs, presence and messages: one
// that is too long, has control characters or poses as an anonymous
// connection is refused before the upgrade.
func TestTokenSubjectRules(t *testing.T) {
	t.Parallel()
	const secret = "sub-secret"
	node := wstest.Start(t, map[string]any{"ws.auth.jwtSecret": secret})
	for _, tc := range []struct{ sub, rule string }{
		{strings.Repeat("u", 129), "at most 128 bytes"},
		{"admin\nuser=root remote=1.2.3.4", "control characters"},
		{"anon-1234", `starts with "anon-"`},
	} {
		token := wstest.Token(t, secret, tc.sub, time.Time{})
		dialRefused(t, node.WSURL, http.Header{"Authorization": {"Bearer " + token}},
			refusal{status: 401, code: 61, message: []string{tc.rule}})
	}
	wstest.DialWelcome(t, node.WSURL, http.Header{"Authorization": {"Bearer " + wstest.Token(t, secret, strings.Repeat("u", 128), time.Time{})}})
}

// ws.sendQueueBytes bounds a backlog, not a message: one message larger
// than it still goes through an empty queue, here the welcome.
func TestMessageOverTheQueueBytesGoesThroughAnEmptyQueue(t *testing.T) {
	t.Parallel()
	const bound = 64
	node := wstest.Start(t, map[string]any{"ws.sendQueueBytes": bound})
	_, welcome := wstest.DialWelcome(t, node.WSURL, nil)
	if len(welcome.Data) <= bound {
		t.Fatalf("the welcome's data is %d bytes, not over ws.sendQueueBytes %d", len(welcome.Data), bound)
	}
	if n := wstest.Metric(t, node.HTTPURL, "ws_slow_consumer_closed_total"); n != 0 {
		t.Fatalf("ws_slow_consumer_closed_total = %v after a welcome over the bound", n)
	}
}
