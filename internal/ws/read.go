package ws

import (
	"bytes"
	"errors"
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

// attach gives the connection its socket after a successful upgrade. From
// here on Close is safe: a teardown has the socket it needs.
func (c *Conn) attach(socket *websocket.Conn, conn *batchConn) {
	c.socket, c.conn = socket, conn
	cfg := c.server.cfg
	socket.SetReadLimit(cfg.MaxMessageSize)
	// gorilla leaves the HTTP server's read deadline in place; replace it
	// with ours at once.
	c.extendReadDeadline()
	socket.SetPongHandler(func(string) error {
		c.extendReadDeadline()
		return nil
	})
	socket.SetPingHandler(func(payload string) error {
		c.extendReadDeadline()
		err := socket.WriteControl(websocket.PongMessage, []byte(payload), time.Now().Add(cfg.WriteTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
}

// start registers the connection with the layers above, then queues the
// welcome and starts the reader: a client holding its welcome can already
// be reached by room and user deliveries.
func (c *Conn) start() {
	c.server.opened(c)
	c.Push("welcome", map[string]any{
		"connId":       c.id,
		"userId":       c.userID,
		"node":         c.server.node,
		"pingInterval": c.server.cfg.PingInterval.Milliseconds(),
	})
	go c.readLoop()
}

func (c *Conn) extendReadDeadline() {
	_ = c.socket.SetReadDeadline(time.Now().Add(c.server.cfg.PongTimeout))
}

// readBuffers hold one message while it is handled: messages are read
// into a pooled buffer instead of a fresh slice each.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readLoop is the connection's only reader. Handlers run here, one message
// at a time.
func (c *Conn) readLoop() {
	defer close(c.readerDone)
	var abuse rateAbuse
	for {
		kind, reader, err := c.socket.NextReader()
		if err != nil {
			c.closeWith(readFailure(err))
			return
		}
		buf := readBuffers.Get().(*bytes.Buffer)
		buf.Reset()
		if _, err := buf.ReadFrom(reader); err != nil {
			readBuffers.Put(buf)
			c.closeWith(readFailure(err))
			return
		}
		c.handle(kind, buf.Bytes(), &abuse)
		readBuffers.Put(buf)
	}
}

// handle processes one message; data is only valid during the call.
func (c *Conn) handle(kind int, data []byte, abuse *rateAbuse) {
	if c.isClosing() {
		return // drain until the peer answers our close frame
	}
	c.server.received.Add(1)
	c.extendReadDeadline()
	if c.limiter != nil && !c.limiter.Allow() {
		if abuse.refused(time.Now()) {
			c.Close(websocket.ClosePolicyViolation, "rate limit exceeded for too long")
			return
		}
		id, event := peekEnvelope(data)
		c.reply(id, event, gcode.CodeServerBusy, "rate limit exceeded: at most "+
			formatRate(c.server.cfg.RateLimit)+" messages per second; this one was not processed", nil)
		return
	}
	switch {
	case kind == websocket.BinaryMessage:
		c.reply(nil, "error", gcode.CodeNotSupported,
			"binary frames are not supported: send each message as a JSON text frame", nil)
	case !utf8.Valid(data):
		c.Close(websocket.CloseInvalidFramePayloadData, "text frame is not valid UTF-8")
	default:
		c.server.router.dispatch(c, data)
	}
}

// readFailure turns the error that ended the read loop into how the
// connection closes. gorilla has already sent the close frame for a peer's
// close (echoing its code), an oversized message (1009) and a protocol
// error (1002), so none of these sends another.
func readFailure(err error) closeState {
	var closeErr *websocket.CloseError
	var netErr net.Error
	switch {
	case errors.As(err, &closeErr):
		return closeState{code: closeErr.Code, reason: closeErr.Text}
	case errors.Is(err, websocket.ErrReadLimit):
		return closeState{code: websocket.CloseMessageTooBig, reason: "message too big"}
	case errors.As(err, &netErr) && netErr.Timeout():
		return closeState{code: websocket.CloseAbnormalClosure, reason: "no frame or pong within ws.pongTimeout"}
	case strings.HasPrefix(err.Error(), "websocket: "):
		return closeState{code: websocket.CloseProtocolError, reason: err.Error()}
	default:
		return closeState{code: websocket.CloseAbnormalClosure, reason: "connection lost"}
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
