package ws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gogf/gf/v2/net/gtrace"
	"github.com/gogf/gf/v2/os/gctx"
	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// CloseSlowConsumer is the reason sent with 1008 when a connection's send
// queue overflows.
const CloseSlowConsumer = "slow consumer"

// Conn is one accepted WebSocket connection. Its exported methods are safe
// for concurrent use; see the package documentation for who touches the
// socket.
type Conn struct {
	server   *Server
	id       string
	userID   string
	clientIP string
	since    time.Time
	ctx      context.Context
	cancel   context.CancelFunc
	conn     *batchConn // the socket under gorilla's Conn
	socket   *websocket.Conn
	limiter  *rate.Limiter // nil when ws.rateLimit.rate is 0
	expires  time.Time     // the token's exp, zero for none
	expiry   *time.Timer   // closes the connection at expires

	// The send queue: queue is filled by enqueue and drained by the writer
	// goroutine, which runs only while there is something to send.
	queueMu    sync.Mutex
	queue      []outbound
	spare      []outbound // the drained slice, reused
	writing    bool       // a writer goroutine is running
	writerIdle sync.Cond  // signalled when writing turns false
	broken     atomic.Bool

	closing    chan struct{} // closed once the connection starts to close
	readerDone chan struct{}
	closeOnce  sync.Once
	close      closeState // written once under closeOnce, read after closing
}

// outbound is one queued message: raw text, a frame prepared once for
// many receivers, or a ping.
type outbound struct {
	text     []byte
	prepared *websocket.PreparedMessage
	ping     bool
}

// closeState is how the connection ends: the code and reason, and whether
// the server still has to send the close frame (it does not when the peer
// closed first or the socket already failed).
type closeState struct {
	code      int
	reason    string
	sendFrame bool
}

type connContextKey struct{}

// FromContext returns the connection a handler's ctx belongs to, or nil
// outside a WebSocket handler.
func FromContext(ctx context.Context) *Conn {
	c, _ := ctx.Value(connContextKey{}).(*Conn)
	return c
}

func newConn(s *Server, r *ghttp.Request, who identity) *Conn {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	c := &Conn{
		server:     s,
		id:         hex.EncodeToString(raw[:]),
		userID:     who.userID,
		clientIP:   s.clientIP(r.Request),
		since:      time.Now(),
		expires:    who.expires,
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	c.writerIdle.L = &c.queueMu
	if c.userID == "" {
		c.userID = "anon-" + c.id
	}
	if s.cfg.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(s.cfg.RateLimit), s.cfg.RateBurst)
	}
	// The request context ends when the handler returns, right after the
	// upgrade, and holds the whole ghttp request; the connection outlives
	// both. It keeps only the trace id, so its logs join the handshake's.
	base, err := gtrace.WithTraceID(context.Background(), gtrace.GetTraceID(r.Context()))
	if err != nil {
		base = context.Background()
	}
	ctx, cancel := context.WithCancel(gctx.NeverDone(base))
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

// Send queues a text frame. It never blocks: when the queue is full the
// connection is closed with 1008 and Send reports false, as it does once
// the connection is closing.
func (c *Conn) Send(text []byte) bool {
	return c.enqueue(outbound{text: text})
}

// SendPrepared queues a frame prepared once for many receivers; see Send.
func (c *Conn) SendPrepared(m *websocket.PreparedMessage) bool {
	return c.enqueue(outbound{prepared: m})
}

// Push queues a server push {"event","data"}; see Send.
func (c *Conn) Push(event string, data any) bool {
	frame, err := EncodePush(event, data)
	if err != nil {
		return false
	}
	return c.Send(frame)
}

// Close starts the close handshake with code and reason and returns at
// once; a teardown goroutine sends the frame and ends the connection.
// Only the first call of Close or of a failure counts.
func (c *Conn) Close(code int, reason string) {
	c.closeWith(closeState{code: code, reason: reason, sendFrame: true})
}

func (c *Conn) closeWith(st closeState) {
	c.closeOnce.Do(func() {
		c.close = st
		close(c.closing)
		go c.teardown()
	})
}

// closingState returns how the connection ends; only valid after closing.
func (c *Conn) closingState() closeState {
	<-c.closing
	return c.close
}

func (c *Conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}
