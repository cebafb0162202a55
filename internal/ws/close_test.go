package ws_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

func TestClientCloseIsEchoedWithTheSameCode(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	for _, code := range []int{websocket.CloseNormalClosure, 4000, ws.CloseSlowConsumer} {
		c, _ := wstest.DialWelcome(t, node.WSURL, nil)
		msg := websocket.FormatCloseMessage(code, "bye")
		if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(wstest.Timeout)); err != nil {
			t.Fatal(err)
		}
		c.ExpectClose(code)
	}
	// A close frame without a code, as a browser's close() sends.
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	if err := c.WriteControl(websocket.CloseMessage, nil, time.Now().Add(wstest.Timeout)); err != nil {
		t.Fatal(err)
	}
	c.ExpectClose(websocket.CloseNoStatusReceived)
	wstest.WaitFor(t, "the node to forget closed connections", func() bool { return node.App.WS.Len() == 0 })
	// The metric labels a code the protocol names by itself, and counts as
	// other one a client chose outside those a client may close with, so
	// that clients can neither make series at will nor pass for the
	// server's closes: a client's 4008 is no slow consumer.
	wstest.WaitFor(t, "the closes to be counted", func() bool {
		return wstest.Metric(t, node.HTTPURL, `ws_connections_closed_total{code="1000"}`) == 1 &&
			wstest.Metric(t, node.HTTPURL, `ws_connections_closed_total{code="1005"}`) == 1 &&
			wstest.Metric(t, node.HTTPURL, `ws_connections_closed_total{code="other"}`) == 2
	})
	if n := wstest.Metric(t, node.HTTPURL, "ws_slow_consumer_closed_total"); n != 0 {
		t.Errorf("ws_slow_consumer_closed_total = %v after a client closed with 4008, want 0", n)
	}
}

// A client that ends its stream without a close frame gets none back:
// 1006, what the node records, is never sent on the wire.
func TestAStreamEndedWithoutACloseFrameGetsNone(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	tcp := c.UnderlyingConn().(*net.TCPConn)
	if err := tcp.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = tcp.SetReadDeadline(time.Now().Add(wstest.Timeout))
	if after, err := io.ReadAll(tcp); err != nil || len(after) != 0 {
		t.Fatalf("the node sent % x after the client's end of stream (%v)", after, err)
	}
}

func TestDrainSends1001AndRefusesNewcomers(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.shutdownTimeout": "5s"})
	// This client does not read until later, so it does not answer the
	// close frame and the drain has to wait for it.
	lingering, _ := wstest.DialWelcome(t, node.WSURL, nil)

	drained := make(chan int)
	go func() { drained <- node.App.WS.Drain(wstest.ShutdownContext(t)) }()
	wstest.WaitFor(t, "the node to start draining", node.App.WS.Draining)

	resp, err := wstest.HTTP.Get(node.HTTPURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	checkRefusal(t, resp.StatusCode, resp.Header, readBody(t, resp), refusal{status: 503, code: 63, message: []string{"shutting down"}})
	resp, err = wstest.HTTP.Get(node.HTTPURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("healthz while draining: %d %s", resp.StatusCode, body)
	}
	dialRefused(t, node.WSURL, nil, refusal{
		status: 503, code: 63, header: map[string]string{"Retry-After": "5"}, message: []string{"shutting down"},
	})

	if reason := lingering.ExpectClose(websocket.CloseGoingAway); reason != "server shutting down" {
		t.Fatalf("close reason %q", reason)
	}
	if left := <-drained; left != 0 {
		t.Fatalf("%d connections left after the drain", left)
	}
}

// A drain stops waiting at ws.shutdownTimeout and reports who is left:
// here a client that never answers the close frame, which the node would
// otherwise wait for a while longer.
func TestDrainStopsAtTheShutdownTimeout(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.shutdownTimeout": "200ms"})
	wstest.DialWelcome(t, node.WSURL, nil)
	if left := node.App.WS.Drain(wstest.ShutdownContext(t)); left != 1 {
		t.Fatalf("drain returned with %d connections left, want the one still owing its close", left)
	}
}

// Frames no valid client sends close the connection with 1002.
func TestProtocolErrorCloses1002(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, nil)
	for name, frame := range map[string][]byte{
		"reserved opcode 3, masked, empty": {0x83, 0x80, 1, 2, 3, 4},
		"text without the mask bit":        {0x81, 0x02, 'h', 'i'},
	} {
		c, _ := wstest.DialWelcome(t, node.WSURL, nil)
		if _, err := c.UnderlyingConn().Write(frame); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.ExpectClose(websocket.CloseProtocolError)
	}
}

// A text frame that is not UTF-8 closes with 1007, also when it is over
// the rate limit: the limit's refusal would echo its id in a text frame.
func TestInvalidUTF8Closes1007(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.rateLimit.rate": 1, "ws.rateLimit.burst": 1})
	for _, overLimit := range []bool{false, true} {
		c, _ := wstest.DialWelcome(t, node.WSURL, nil)
		if overLimit {
			if r := c.Call("spent", "echo", "x"); r.CodeOf(t) != 0 {
				t.Fatalf("the burst's one message: %+v", r)
			}
		}
		c.SendRaw(websocket.TextMessage, []byte("{\"id\":\"\xff\xfe\",\"event\":\"echo\"}"))
		if reason := c.ExpectClose(websocket.CloseInvalidFramePayloadData); !strings.Contains(reason, "UTF-8") {
			t.Fatalf("over the limit %v: close reason %q", overLimit, reason)
		}
	}
}

func TestOversizedMessageCloses1009(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.maxMessageSize": 1024})
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	if r := c.Call("fits", "echo", strings.Repeat("a", 900)); r.CodeOf(t) != 0 {
		t.Fatalf("a message under the limit failed: %+v", r)
	}
	c.Send(map[string]any{"event": "echo", "data": strings.Repeat("a", 2000)})
	c.ExpectClose(websocket.CloseMessageTooBig)
}

func TestExpiredTokenCloses4401(t *testing.T) {
	t.Parallel()
	const secret = "expiry-secret"
	node := wstest.Start(t, map[string]any{"ws.auth.jwtSecret": secret})
	// JWT exp has one-second resolution: two seconds ahead is still valid
	// at the handshake.
	token := wstest.Token(t, secret, "carol", time.Now().Add(2*time.Second))
	c, _ := wstest.DialWelcome(t, node.WSURL+"?token="+token, nil)
	if reason := c.ExpectClose(ws.CloseTokenExpired); reason != "token expired" {
		t.Fatalf("close reason %q", reason)
	}
}

// A client that never reads fills its queue; the server condemns it (4008)
// and drops its socket instead of buffering without bound or blocking. Its
// socket is full, so the client sees the connection end, not the frame.
func TestSlowConsumerIsDropped(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.sendQueueSize": 8, "ws.rateLimit.rate": 0, "rooms.history.size": 0})
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	payload := strings.Repeat("x", 32<<10)
	frame := []byte(`{"id":1,"event":"echo","data":"` + payload + `"}`)
	// Far more than the socket buffers on both sides hold; stop early if
	// the server has already closed the connection.
	for range 2000 {
		_ = c.SetWriteDeadline(time.Now().Add(wstest.Timeout))
		if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
			break
		}
	}
	c.ExpectEnd()
	// The server counts the close when its teardown ends, which may be
	// after the client has seen the end.
	wstest.WaitFor(t, "the slow consumer to be counted", func() bool {
		return wstest.Metric(t, node.HTTPURL, "ws_slow_consumer_closed_total") == 1
	})
	if n := wstest.Metric(t, node.HTTPURL, `ws_connections_closed_total{code="4008"}`); n != 1 {
		t.Fatalf(`ws_connections_closed_total{code="4008"} = %v, want 1`, n)
	}
}

func TestSustainedRateAbuseCloses4029(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.rateLimit.rate": 20, "ws.rateLimit.burst": 1})
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	// Read replies while sending so that only the rate limit can close us.
	closed := make(chan string, 1)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	go func() {
		for {
			_, _, err := c.ReadMessage()
			if err != nil {
				if ce, ok := err.(*websocket.CloseError); ok && ce.Code == ws.CloseRateLimited {
					closed <- ce.Text
				} else {
					closed <- err.Error()
				}
				return
			}
		}
	}()
	frame := []byte(`{"event":"ping"}`)
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case reason := <-closed:
			if reason != "rate limit" {
				t.Fatalf("closed with %q", reason)
			}
			return
		case <-deadline:
			t.Fatal("a client far over its rate limit for 30s was not closed")
		case <-tick.C:
			_ = c.SetWriteDeadline(time.Now().Add(wstest.Timeout))
			_ = c.WriteMessage(websocket.TextMessage, frame)
		}
	}
}

func TestSilentClientIsDroppedAfterPongTimeout(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.pingInterval": "200ms", "ws.pongTimeout": "600ms", "ws.writeTimeout": "500ms"})
	// A client that does not read never answers pings.
	wstest.DialWelcome(t, node.WSURL, nil)
	wstest.WaitFor(t, "the node to drop the silent client", func() bool { return node.App.WS.Len() == 0 })

	// One that reads answers pings automatically and stays.
	alive, _ := wstest.DialWelcome(t, node.WSURL, nil)
	go func() {
		for {
			if _, _, err := alive.NextReader(); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if node.App.WS.Len() != 1 {
			t.Fatalf("a client answering pings was dropped")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A message left unfinished closes its connection with 1008 once its
// frames have had their time, however many pongs keep the connection
// alive; and pongs count against the rate limit, so a flood of them is
// no free core.
func TestAnUnfinishedMessageAndPongsHaveLimits(t *testing.T) {
	restore := ws.SetMessageDeadline(300 * time.Millisecond)
	t.Cleanup(restore)
	node := wstest.Start(t, map[string]any{"ws.rateLimit.rate": 1, "ws.rateLimit.burst": 1})
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	// A masked text frame without FIN: the first of a message that never
	// ends.
	payload := []byte(`{"event":"echo","data":"`)
	frame := []byte{0x01, 0x80 | byte(len(payload)), 1, 2, 3, 4}
	for i, b := range payload {
		frame = append(frame, b^[]byte{1, 2, 3, 4}[i%4])
	}
	if _, err := c.UnderlyingConn().Write(frame); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				_ = c.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
			}
		}
	}()
	if reason := c.ExpectClose(websocket.ClosePolicyViolation); !strings.Contains(reason, "did not all arrive") {
		t.Fatalf("close reason %q", reason)
	}

	// The burst's one token goes to a pong: the request after it is over
	// the limit.
	d, _ := wstest.DialWelcome(t, node.WSURL, nil)
	if err := d.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if r := d.Call("after-pong", "echo", "x"); r.CodeOf(t) != 63 {
		t.Fatalf("a request right after a pong, with a burst of 1: %+v", r)
	}
}
