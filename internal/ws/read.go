package ws

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gorilla/websocket"
)

// rateAbuseWindow is how long a connection may keep exceeding its rate
// limit before it is closed; a gap of rateAbuseGap without a refused
// message ends the episode.
const (
	rateAbuseWindow = 10 * time.Second
	rateAbuseGap    = time.Second
)

// messageDeadline is how long the frames of one message may take to
// arrive after its first: a message left unfinished would otherwise hold
// its buffer, and its inflater, for as long as the client sends pongs.
var messageDeadline = 10 * time.Second

// extendReadDeadline gives the peer ws.pongTimeout for its next frame,
// unless a message is arriving: its own deadline stands.
func (c *Conn) extendReadDeadline() {
	if c.inMessage {
		return
	}
	_ = c.sock.SetReadDeadline(time.Now().Add(c.server.cfg.PongTimeout))
}

// startMessage sets the deadline of the message whose first frame came.
func (c *Conn) startMessage() {
	c.inMessage = true
	_ = c.sock.SetReadDeadline(time.Now().Add(c.messageWithin()))
}

// messageWithin is how long a message's frames may take after its first.
func (c *Conn) messageWithin() time.Duration {
	return min(messageDeadline, c.server.cfg.PongTimeout)
}

// onPing answers a ping through the send queue, after what is already
// queued. Pings count against the rate limit like messages.
func (c *Conn) onPing(payload string) error {
	c.extendReadDeadline()
	if c.admit() {
		c.enqueue(outbound{op: opPong, data: []byte(payload)})
	}
	return nil
}

// onPong counts a pong against the rate limit as well: a client is sent
// one ping per ws.pingInterval, and a flood of pongs would otherwise take
// a core unchecked.
func (c *Conn) onPong(string) error {
	c.admit()
	c.extendReadDeadline()
	return nil
}

// readBuffers hold one message while it is handled: messages are read
// into a pooled buffer instead of a fresh slice each.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledRead keeps a rare huge message from pinning its buffer.
const maxPooledRead = 256 << 10

// readLoop is the connection's only reader. Handlers run here, one message
// at a time. It reads at most ws.maxMessageSize bytes of a message, after
// inflating: gorilla's own limit counts the compressed bytes.
func (c *Conn) readLoop() {
	defer close(c.readerDone)
	limit := c.server.cfg.MaxMessageSize
	for {
		kind, reader, err := c.reader.NextReader()
		if err != nil {
			c.closeWith(c.readFailure(err))
			return
		}
		c.startMessage()
		buf := readBuffers.Get().(*bytes.Buffer)
		buf.Reset()
		_, err = buf.ReadFrom(io.LimitReader(reader, limit+1))
		if err != nil {
			c.closeWith(c.readFailure(err)) // while the message counts as arriving
		}
		c.inMessage = false
		switch {
		case err != nil: // closed above
		case int64(buf.Len()) > limit:
			c.Close(websocket.CloseMessageTooBig, "message too big: at most "+strconv.FormatInt(limit, 10)+" bytes")
		default:
			c.handle(kind, buf.Bytes())
		}
		if buf.Cap() <= maxPooledRead {
			readBuffers.Put(buf)
		}
		if err != nil {
			return
		}
	}
}

// handle processes one message; data is only valid during the call.
func (c *Conn) handle(kind int, data []byte) {
	if c.isClosing() {
		return // drain until the peer answers our close frame
	}
	c.server.received.Add(1)
	c.extendReadDeadline()
	// Before the rate limit, whose refusal echoes the message's id.
	if kind == websocket.TextMessage && !utf8.Valid(data) {
		c.Close(websocket.CloseInvalidFramePayloadData, "text frame is not valid UTF-8")
		return
	}
	if !c.admit() {
		if c.isClosing() {
			return
		}
		id, event := peekEnvelope(data)
		c.reply(id, event, gcode.CodeServerBusy, "rate limit exceeded: at most "+
			formatRate(c.server.cfg.RateLimit)+" messages per second; this one was not processed", nil)
		return
	}
	reserveHandlerStack(len(data))
	c.server.handler.HandleMessage(c, kind == websocket.BinaryMessage, data)
}

// handlerStack is about what a handler's deepest path (decoding JSON
// into its input, then the hub) takes on the stack.
const handlerStack = 4 << 10

// reserveHandlerStack grows the reader's stack, when it is small, in one
// step from a shallow frame. An idle connection's reader blocks a few
// frames deep and the GC shrinks its stack; left to grow where it runs
// out, deep inside encoding/json, the runtime copies the stack and
// adjusts every frame on the way, once per doubling: about a quarter of
// handling a room.join on a connection's first request. On a stack that
// is large already it costs the zeroing of the frame. n only keeps the
// frame from being optimized away.
//
//go:noinline
func reserveHandlerStack(n int) byte {
	var frame [handlerStack]byte
	frame[n%handlerStack] = 1
	return frame[(n+1)%handlerStack]
}

// admit applies the rate limit to one frame from the client, and closes
// the connection with 4029 once it has stayed over the limit for
// rateAbuseWindow. Called on the reader goroutine.
func (c *Conn) admit() bool {
	if c.limiter == nil || c.limiter.Allow() {
		return true
	}
	if c.abuse.refused(time.Now()) {
		c.Close(CloseRateLimited, "rate limit")
	}
	return false
}

// readFailure turns the error that ended the read loop into how the
// connection closes. gorilla's own close frames were dropped by the
// socket, so every close frame owed is sent by the teardown.
func (c *Conn) readFailure(err error) closeState {
	var closeErr *websocket.CloseError
	var netErr net.Error
	switch {
	case errors.As(err, &closeErr) && closeErr.Code == websocket.CloseNoStatusReceived && c.sock.scan.badClose:
		return closeState{code: websocket.CloseProtocolError, reason: "a close frame payload must not be 1 byte", frame: true}
	case errors.As(err, &closeErr) && closeErr.Code == websocket.CloseAbnormalClosure:
		// gorilla's word for the peer's end of the stream without a close
		// frame: 1006 names that, and is never sent.
		return closeState{code: websocket.CloseAbnormalClosure, reason: "connection lost", drop: true}
	case errors.As(err, &closeErr):
		// Answered with the same code; the reason is not echoed.
		return closeState{code: closeErr.Code, frame: true, byPeer: true}
	case errors.Is(err, websocket.ErrReadLimit):
		// No read limit is set, so this is a frame length over 2^63.
		return closeState{code: websocket.CloseProtocolError, reason: "invalid frame length", frame: true}
	case errors.As(err, &netErr) && netErr.Timeout() && c.inMessage:
		return closeState{code: websocket.ClosePolicyViolation, reason: "a message's frames did not all arrive within " +
			c.messageWithin().String() + " of its first", frame: true}
	case errors.As(err, &netErr) && netErr.Timeout():
		return closeState{code: websocket.CloseAbnormalClosure, reason: "no frame or pong within ws.pongTimeout", drop: true}
	case strings.HasPrefix(err.Error(), "websocket: "):
		return closeState{code: websocket.CloseProtocolError, reason: strings.TrimPrefix(err.Error(), "websocket: "), frame: true}
	default:
		return closeState{code: websocket.CloseAbnormalClosure, reason: "connection lost", drop: true}
	}
}

// rateAbuse tracks one episode of refused messages. Allowed messages do not
// end it: a client sending far over the limit still gets some through as
// tokens refill, and that is exactly the abuse to stop.
type rateAbuse struct {
	since, last time.Time
}

// refused records a refused message and reports whether the episode has
// lasted rateAbuseWindow.
func (a *rateAbuse) refused(now time.Time) bool {
	if a.since.IsZero() || now.Sub(a.last) > rateAbuseGap {
		a.since = now
	}
	a.last = now
	return now.Sub(a.since) >= rateAbuseWindow
}

func formatRate(perSecond float64) string {
	return strconv.FormatFloat(perSecond, 'f', -1, 64)
}
