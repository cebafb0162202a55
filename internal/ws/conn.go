package ws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gorilla/websocket"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/gfws/template-ws/internal/edge"
)

// Conn is one accepted WebSocket connection. Its exported methods are safe
// for concurrent use; see the package documentation for who touches the
// socket.
type Conn struct {
	server    *Server
	id        string
	userID    string
	clientIP  string
	clientNet string // what ws.maxConnectionsPerIP counts by: see edge.ClientNetwork
	since     time.Time
	ctx       context.Context
	cancel    context.CancelFunc
	sock      *socket         // the hijacked connection; only the writer writes to it
	reader    *websocket.Conn // gorilla, used only to read frames
	compress  bool            // permessage-deflate was negotiated
	limiter   *rate.Limiter   // nil when ws.rateLimit.rate is 0
	abuse     rateAbuse       // owned by the reader goroutine
	inMessage bool            // a message's frames are arriving; owned by the reader goroutine
	// afterReply runs once the current request's reply is queued; owned
	// by the reader goroutine, where handlers run.
	afterReply []func()
	expires    time.Time   // the token's exp, zero for none
	expiry     *time.Timer // closes the connection at expires

	// The send queue: queue is filled by enqueue and drained by the writer
	// goroutine, which runs only while there is something to send.
	// queued and queuedBytes count the messages queued or being written.
	queueMu     sync.Mutex
	queue       []outbound
	spare       []outbound // the drained slice, reused
	queued      int
	queuedBytes int
	dropped     bool      // the queue was thrown away: nothing more is written
	writing     bool      // a writer goroutine is running
	writerIdle  sync.Cond // signalled when writing turns false, and after each write
	broken      atomic.Bool

	closing    chan struct{} // closed once the connection starts to close
	readerDone chan struct{}
	closeOnce  sync.Once
	close      closeState // written once under closeOnce, read after closing
}

// outbound is one queued message: a text or binary payload, a frame
// encoded once for many receivers, or a control frame.
type outbound struct {
	op    byte
	data  []byte
	frame *Frame
}

func (m outbound) size() int {
	if m.frame != nil {
		return m.frame.Len()
	}
	return len(m.data)
}

type connContextKey struct{}

// FromContext returns the connection a handler's ctx belongs to, or nil
// outside a WebSocket handler.
func FromContext(ctx context.Context) *Conn {
	c, _ := ctx.Value(connContextKey{}).(*Conn)
	return c
}

// AfterReply makes fn run on the connection of ctx once the reply to the
// request being handled is queued (or would have been, for a request
// without an id). Whatever fn sends follows the reply. It reports false,
// and does nothing, outside a WebSocket handler.
func AfterReply(ctx context.Context, fn func()) bool {
	c := FromContext(ctx)
	if c == nil {
		return false
	}
	c.afterReply = append(c.afterReply, fn)
	return true
}

func (c *Conn) runAfterReply() {
	for _, fn := range c.afterReply {
		fn()
	}
	clear(c.afterReply)
	c.afterReply = c.afterReply[:0]
}

// RandomID returns n random bytes in hex: the part of an id that keeps
// two nodes or processes from ever choosing the same one.
func RandomID(n int) string {
	raw := make([]byte, n)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

func newConn(s *Server, r *ghttp.Request, who identity) *Conn {
	c := &Conn{
		server:     s,
		id:         s.nextConnID(),
		userID:     who.userID,
		clientIP:   s.clientIP(r.Request),
		since:      time.Now(),
		expires:    who.expires,
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	c.writerIdle.L = &c.queueMu
	c.clientNet = edge.ClientNetworkName(c.clientIP)
	if c.userID == "" {
		c.userID = AnonymousPrefix + c.id
	}
	if s.cfg.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(s.cfg.RateLimit), s.cfg.RateBurst)
	}
	// The request context ends when the handler returns, right after the
	// upgrade, and holds the whole ghttp request; the connection outlives
	// both. It keeps only the handshake's span context, a value, so that
	// its logs carry the handshake's trace id for the cost of a few words
	// per connection rather than a span of its own.
	base := trace.ContextWithSpanContext(context.Background(), trace.SpanContextFromContext(r.Context()))
	ctx, cancel := context.WithCancel(base)
	c.ctx = context.WithValue(ctx, connContextKey{}, c)
	c.cancel = cancel
	return c
}

// ID returns the connection id, unique across nodes.
func (c *Conn) ID() string { return c.id }

// UserID returns the authenticated user, or "anon-<connId>".
func (c *Conn) UserID() string { return c.userID }

// RemoteAddr returns the client address, resolved through trusted proxies.
func (c *Conn) RemoteAddr() string { return c.clientIP }

// Since returns when the connection was accepted.
func (c *Conn) Since() time.Time { return c.since }

// Context returns the connection's context, cancelled when it closes.
func (c *Conn) Context() context.Context { return c.ctx }

// Send queues a text frame; text must not change afterwards. Send never
// blocks: when the queue is over ws.sendQueueSize messages or
// ws.sendQueueBytes bytes the connection is closed as a slow consumer
// (4008) and Send reports false, as it does once the connection is
// closing.
func (c *Conn) Send(text []byte) bool {
	return c.enqueue(outbound{op: opText, data: text})
}

// SendBinary queues a binary frame; see Send.
func (c *Conn) SendBinary(data []byte) bool {
	return c.enqueue(outbound{op: opBinary, data: data})
}

// SendFrame queues a frame encoded once for many receivers; see Send.
func (c *Conn) SendFrame(f *Frame) bool {
	return c.enqueue(outbound{op: opText, frame: f})
}

// SendFrames queues frames in order as SendFrame would one by one, but
// under one lock and with one wake of the writer, so that a burst goes
// out in one write; see Send.
func (c *Conn) SendFrames(frames ...*Frame) bool {
	if len(frames) == 0 {
		return !c.isClosing()
	}
	run := make([]outbound, len(frames))
	for i, f := range frames {
		run[i] = outbound{op: opText, frame: f}
	}
	return c.enqueue(run...)
}

// SendReplay queues frames the client asked for itself, such as the
// messages a join with since replays, as SendFrames does, but first
// waits, at most ws.writeTimeout, until the queue has room for them and
// for the reply that follows. A client rejoining many rooms at once then
// takes their replays at the pace it reads, where queueing them all at
// once would overflow its queue and close it as a slow consumer each
// time it came back. A replay that fills the whole queue on its own
// (rooms.history.size may be ws.sendQueueSize) waits for an idle writer,
// and once queued, within the same time, for room for the reply. Call it
// only from the connection's reader (a handler): while it waits, the
// connection reads nothing more.
func (c *Conn) SendReplay(frames ...*Frame) bool {
	size := 0
	for _, f := range frames {
		size += f.Len()
	}
	deadline := time.Now().Add(c.server.cfg.WriteTimeout)
	wake := time.AfterFunc(c.server.cfg.WriteTimeout, func() {
		c.queueMu.Lock()
		c.writerIdle.Broadcast()
		c.queueMu.Unlock()
	})
	defer wake.Stop()
	c.awaitRoom(len(frames)+1, size, deadline)
	if !c.SendFrames(frames...) {
		return false
	}
	c.awaitRoom(1, 0, deadline) // the reply's
	return true
}

// awaitRoom waits until the queue has room for n more messages of size
// bytes, the writer goes idle, the connection closes or deadline passes,
// whichever comes first. Only a writer at work frees room; past the
// deadline what follows goes to the queue's bounds as anything else does.
func (c *Conn) awaitRoom(n, size int, deadline time.Time) {
	c.queueMu.Lock()
	for c.writing && !c.isClosing() && c.overflowsLocked(n, size) && time.Now().Before(deadline) {
		c.writerIdle.Wait()
	}
	c.queueMu.Unlock()
}

// Push queues a server push {"event","data"}; see Send.
func (c *Conn) Push(event string, data any) bool {
	frame, err := EncodePush(event, data)
	if err != nil {
		return false
	}
	return c.Send(frame)
}
