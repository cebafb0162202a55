package ws_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// serveTransport runs the bare transport with handler and returns its URL
// and the server-side connections as they open.
func serveTransport(t *testing.T, cfg ws.Config, handler ws.Handler) (string, *ws.Server, <-chan *ws.Conn) {
	t.Helper()
	opened := make(chan *ws.Conn, 16)
	srv := ws.NewServer(cfg, "test-node", handler, ws.Hooks{OnOpen: func(c *ws.Conn) { opened <- c }})
	base := wstest.Serve(t, func(s *ghttp.Server) {
		s.BindHandler(cfg.Path, srv.Handle)
	})
	t.Cleanup(func() { srv.Drain(wstest.ShutdownContext(t)) })
	return "ws" + strings.TrimPrefix(base, "http") + cfg.Path, srv, opened
}

func accepted(t *testing.T, opened <-chan *ws.Conn) *ws.Conn {
	t.Helper()
	select {
	case c := <-opened:
		return c
	case <-time.After(wstest.Timeout):
		t.Fatal("no connection opened")
		return nil
	}
}

// readTexts reads n text messages and checks each is want(i).
func readTexts(t *testing.T, c *wstest.Client, n int, want func(i int) string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wstest.Timeout))
	for i := range n {
		_, got, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, n, err)
		}
		if string(got) != want(i) {
			t.Fatalf("message %d: got %.60q, want %.60q", i, got, want(i))
		}
	}
}

func numbered(i int) string { return fmt.Sprintf("message %d", i) }

// What the server queued before it closes is written before the close
// frame, whoever closes: a kick, a drain, a token expiry.
func TestServerCloseFlushesWhatWasQueued(t *testing.T) {
	t.Parallel()
	url, srv, opened := serveTransport(t, ws.DefaultConfig(), ws.Echo{})
	for _, tc := range []struct {
		name  string
		close func(c *ws.Conn)
		code  int
	}{
		{"kick", func(c *ws.Conn) { c.Close(ws.CloseKicked, "kicked") }, ws.CloseKicked},
		{"token expiry", func(c *ws.Conn) { c.Close(ws.CloseTokenExpired, "token expired") }, ws.CloseTokenExpired},
		// Last: the drained server takes no more connections.
		{"drain", func(*ws.Conn) { srv.Drain(wstest.ShutdownContext(t)) }, websocket.CloseGoingAway},
	} {
		client := wstest.Dial(t, url, nil)
		conn := accepted(t, opened)
		const queued = 200
		for i := range queued {
			if !conn.Send([]byte(numbered(i))) {
				t.Fatalf("%s: send %d refused", tc.name, i)
			}
		}
		// The client reads only after the close began: the drain waits
		// for the connections it closed, so it runs beside the reading.
		done := make(chan struct{})
		go func() {
			defer close(done)
			tc.close(conn)
		}()
		readTexts(t, client, queued, numbered)
		client.ExpectClose(tc.code)
		<-done
		if conn.Send([]byte("after the close")) {
			t.Fatalf("%s: a message queued after the close was accepted", tc.name)
		}
	}
}

// A protocol error the reader finds closes with 1002 only after the
// replies to the messages before it.
func TestProtocolErrorFollowsEarlierReplies(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.rateLimit.rate": 0})
	for name, bad := range map[string][]byte{
		"reserved opcode":   {0x83, 0x80, 1, 2, 3, 4},
		"reserved bit":      {0xc1, 0x80, 1, 2, 3, 4},
		"bad continuation":  {0x80, 0x80, 1, 2, 3, 4},
		"1-byte close":      {0x88, 0x81, 1, 2, 3, 4, 0x03},
		"length top bit on": {0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4},
	} {
		c, _ := wstest.DialWelcome(t, node.WSURL, nil)
		var burst bytes.Buffer
		const requests = 100
		for i := range requests {
			burst.Write(maskedText(fmt.Sprintf(`{"id":%d,"event":"echo","data":%d}`, i, i)))
		}
		burst.Write(bad)
		if _, err := c.UnderlyingConn().Write(burst.Bytes()); err != nil {
			t.Fatal(err)
		}
		for i := range requests {
			if r := c.Read(); r.CodeOf(t) != 0 || string(r.ID) != fmt.Sprint(i) {
				t.Fatalf("%s: reply %d: %+v", name, i, r)
			}
		}
		c.ExpectClose(websocket.CloseProtocolError)
	}
}

// maskedText frames text as a client must: masked, here with a zero key.
func maskedText(text string) []byte {
	if len(text) > 125 {
		panic("maskedText frames short messages only")
	}
	return append([]byte{0x81, 0x80 | byte(len(text)), 0, 0, 0, 0}, text...)
}

// A large message followed at once by the client's close frame is echoed
// before the close is answered.
func TestPeerCloseIsAnsweredAfterTheQueue(t *testing.T) {
	t.Parallel()
	cfg := ws.DefaultConfig()
	cfg.MaxMessageSize = 16 << 20
	url, _, _ := serveTransport(t, cfg, ws.Echo{})
	c := wstest.Dial(t, url, nil)
	big := strings.Repeat("é", 128<<10) // 256 KB
	c.SendRaw(websocket.TextMessage, []byte(big))
	if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"),
		time.Now().Add(wstest.Timeout)); err != nil {
		t.Fatal(err)
	}
	readTexts(t, c, 1, func(int) string { return big })
	c.ExpectClose(websocket.CloseNormalClosure)
}

// slowConsumer serves a connection whose queue holds 256 KiB and whose
// writes may take a minute, and returns the server, both ends and a
// message of 32 KiB to fill it with.
func slowConsumer(t *testing.T) (*ws.Server, *wstest.Client, *ws.Conn, []byte) {
	t.Helper()
	cfg := ws.DefaultConfig()
	cfg.WriteTimeout = time.Minute
	cfg.SendQueueBytes = 256 << 10
	url, srv, opened := serveTransport(t, cfg, ws.Echo{})
	client := wstest.Dial(t, url, nil)
	return srv, client, accepted(t, opened), bytes.Repeat([]byte("x"), 32<<10)
}

// A condemned slow consumer's socket is dropped at once, not after
// ws.writeTimeout: a write stuck on its full socket holds it for no more
// than a short grace.
func TestSlowConsumerIsDroppedAtOnce(t *testing.T) {
	t.Parallel()
	srv, client, conn, chunk := slowConsumer(t)
	// The client never reads: its socket buffers fill, the writer blocks,
	// then the queue passes its byte bound.
	for conn.Send(chunk) {
	}
	start := time.Now()
	wstest.WaitWithin(t, 3*time.Second, "the slow consumer to be dropped", func() bool { return srv.Len() == 0 })
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the slow consumer was dropped %s after its queue overflowed", took)
	}
	client.ExpectEnd()
}

// The answer to a ping goes through the rate limit like a message: a flood
// of pings gets pongs only at the allowed rate.
func TestPingFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"ws.rateLimit.rate": 10, "ws.rateLimit.burst": 10})
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	pongs := make(chan struct{}, 10000)
	c.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	start := time.Now()
	var flood bytes.Buffer
	for range 2000 {
		flood.Write([]byte{0x89, 0x80, 0, 0, 0, 0}) // masked ping, no payload
	}
	if _, err := c.UnderlyingConn().Write(flood.Bytes()); err != nil {
		t.Fatal(err)
	}
	// A request after the flood: its refusal or reply arrives after every
	// pong the flood earned.
	c.Send(map[string]any{"id": "after", "event": "ping"})
	for {
		if m := c.Read(); string(m.ID) == `"after"` {
			break
		}
	}
	allowed := 10 + int(time.Since(start).Seconds()*10) + 1
	if got := len(pongs); got > allowed || got == 0 {
		t.Fatalf("%d pongs for 2000 pings at 10/s with a burst of 10; want 1 to %d", got, allowed)
	}
}

// A slow consumer that still reads gets its close frame, 4008, after
// whole messages: the write under way when its queue overflowed may
// finish within a short grace instead of being cut mid-frame, which the
// client saw as a broken stream (1006).
func TestAReadingSlowConsumerGets4008AfterWholeMessages(t *testing.T) {
	t.Parallel()
	_, client, conn, chunk := slowConsumer(t)
	// The sender twice as fast as the reader: the socket's buffers fill,
	// the writer waits on them, and then the queue overflows.
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for conn.Send(chunk) {
			<-tick.C
		}
	}()
	_ = client.SetReadDeadline(time.Now().Add(wstest.Timeout))
	for {
		_, got, err := client.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, ws.CloseSlowConsumer) {
				t.Fatalf("the slow consumer's stream ended with %v, want close 4008", err)
			}
			return
		}
		if !bytes.Equal(got, chunk) {
			t.Fatalf("got a message of %d bytes, want %d", len(got), len(chunk))
		}
		time.Sleep(2 * time.Millisecond)
	}
}
