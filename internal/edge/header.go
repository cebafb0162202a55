package edge

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/net/ghttp"
)

// MaxHeaderWaitsPerAddress is how many connections one client address (an
// IPv6 client's /64: see ClientNetwork) may have in their header phase at
// once (see HeaderGuard). A browser or a service sends a header in
// milliseconds, so even many clients behind one NAT rarely have more than
// a few in flight; a client trickling headers to hold sockets open
// reaches it at once.
const MaxHeaderWaitsPerAddress = 32

// HeaderGuard bounds how long a client may take to send a request's
// header, and how many connections one address may keep in that state.
// ghttp's http.Server has no ReadHeaderTimeout, and its ReadTimeout (60s by
// default) also bounds request bodies, so a client trickling a header one
// byte at a time held a socket for a minute.
//
// A connection is in its header phase from its accept, and again from the
// first byte after a response, until ghttp's handler starts; the time
// between a response and the next request's first byte is keep-alive idle
// time, bounded by server.idleTimeout, not by the guard. While the phase
// lasts, every read deadline the server sets is capped at the phase's end.
// When the handler starts, the server's own deadline comes back; a
// connection the handler hijacks (a WebSocket) is left alone from then on,
// and its transport sets its own deadlines.
//
// Addresses the exempt function accepts (the trusted proxies) are not
// counted: a proxy sends whole headers, and every client behind it shares
// its address.
type HeaderGuard struct {
	timeout time.Duration
	exempt  func(netip.Addr) bool

	mu      sync.Mutex
	conns   map[string]*guardedConn // by connKey, until closed or hijacked
	waiting map[netip.Prefix]int    // connections in their header phase, by ClientNetwork
}

// NewHeaderGuard returns a guard giving each header timeout.
func NewHeaderGuard(timeout time.Duration, exempt func(netip.Addr) bool) *HeaderGuard {
	return &HeaderGuard{
		timeout: timeout,
		exempt:  exempt,
		conns:   map[string]*guardedConn{},
		waiting: map[netip.Prefix]int{},
	}
}

// Listen listens on the TCP address and returns a listener whose
// connections the guard watches. The server that serves them must use
// Handler.
func (g *HeaderGuard) Listen(address string) (net.Listener, error) {
	l, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	return &guardedListener{Listener: l, guard: g}, nil
}

// Handler wraps the server's handler, so the guard knows when each
// request's header is complete and when a handler hijacks its connection.
// Requests that did not arrive through a guarded listener pass untouched.
func (g *HeaderGuard) Handler(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if local == nil {
			next(w, r)
			return
		}
		g.mu.Lock()
		c := g.conns[connKey(local.String(), r.RemoteAddr)]
		g.mu.Unlock()
		if c == nil {
			next(w, r)
			return
		}
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			// ghttp reads the body before it routes: until the body is in,
			// the client holds the connection as a slow header would, and
			// stays under the same bound and the same count.
			r.Body = &guardedBody{ReadCloser: r.Body, conn: c}
		} else {
			c.handlerStarted()
		}
		next(&hijackWatcher{ResponseWriter: w, conn: c}, r)
		c.handlerDone()
	}
}

// guardedBody ends its connection's header phase once the request body
// has been read to its end, or has failed.
type guardedBody struct {
	io.ReadCloser
	conn *guardedConn
}

func (b *guardedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.conn.bodyRead()
	}
	return n, err
}

func connKey(local, remote string) string { return local + " " + remote }

// admit registers a new connection in its header phase, or returns nil
// when its address already has MaxHeaderWaitsPerAddress of them.
func (g *HeaderGuard) admit(raw net.Conn) *guardedConn {
	c := &guardedConn{Conn: raw, guard: g, key: connKey(raw.LocalAddr().String(), raw.RemoteAddr().String()),
		headerBy: time.Now().Add(g.timeout)}
	if peer, err := netip.ParseAddrPort(raw.RemoteAddr().String()); err == nil {
		addr := peer.Addr().Unmap()
		c.network = ClientNetwork(addr)
		c.counted = !g.exempt(addr)
	}
	g.mu.Lock()
	if !g.enterHeaderLocked(c) {
		g.mu.Unlock()
		return nil
	}
	g.conns[c.key] = c
	g.mu.Unlock()
	_ = raw.SetReadDeadline(c.headerBy)
	return c
}

// leaveHeader uncounts a connection that leaves its header phase.
func (g *HeaderGuard) leaveHeader(c *guardedConn) {
	if !c.counted {
		return
	}
	g.mu.Lock()
	if g.waiting[c.network]--; g.waiting[c.network] <= 0 {
		delete(g.waiting, c.network)
	}
	g.mu.Unlock()
}

// enterHeader counts a kept-alive connection whose next header began, or
// reports false when its address already has MaxHeaderWaitsPerAddress
// connections in their header phase: finishing a request on each first
// must not let a client hold more.
func (g *HeaderGuard) enterHeader(c *guardedConn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.enterHeaderLocked(c)
}

// enterHeaderLocked counts c in its header phase unless its address has
// MaxHeaderWaitsPerAddress there already. Called with mu held.
func (g *HeaderGuard) enterHeaderLocked(c *guardedConn) bool {
	if !c.counted {
		return true
	}
	if g.waiting[c.network] >= MaxHeaderWaitsPerAddress {
		return false
	}
	g.waiting[c.network]++
	return true
}

func (g *HeaderGuard) forget(c *guardedConn) {
	g.mu.Lock()
	if g.conns[c.key] == c {
		delete(g.conns, c.key)
	}
	g.mu.Unlock()
}

type guardedListener struct {
	net.Listener
	guard *HeaderGuard
}

// Accept answers a connection over its address's header cap with 429 and
// closes it, then waits for the next one: an error here would stop the
// server.
func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c := l.guard.admit(raw); c != nil {
			return c, nil
		}
		refuseOverCap(raw)
	}
}

// refuseOverCap writes the 429 before the request is read: the client is
// the one holding the other connections open. The write fits in any fresh
// socket's buffer, and its deadline keeps the accept loop from waiting on
// it regardless.
func refuseOverCap(raw net.Conn) {
	body, _ := json.Marshal(ghttp.DefaultHandlerResponse{
		Code: gcode.CodeServerBusy.Code(),
		Message: fmt.Sprintf("too many connections from this address are still sending their request header "+
			"(at most %d at once): finish a request before opening more connections", MaxHeaderWaitsPerAddress),
	})
	_ = raw.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = fmt.Fprintf(raw, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	_ = raw.Close()
}

// Connection phases; see HeaderGuard.
const (
	phaseHeader int32 = iota
	phaseHandler
	phaseIdle
	phaseHijacked
)

// guardedConn caps read deadlines while its header phase lasts. The
// server's reads, its deadline calls and the handler's start and end may
// come from different goroutines, so the phase changes under mu; phase is
// also atomic so that reads and deadlines of a hijacked connection skip the
// lock.
type guardedConn struct {
	net.Conn
	guard   *HeaderGuard
	key     string
	network netip.Prefix // what MaxHeaderWaitsPerAddress counts by
	counted bool         // subject to MaxHeaderWaitsPerAddress

	mu        sync.Mutex
	phase     atomic.Int32
	headerBy  time.Time // when the current header phase runs out
	requested time.Time // the read deadline the server last set
	closed    bool
}

func (c *guardedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.phase.Load() == phaseIdle {
		c.mu.Lock()
		if c.phase.Load() == phaseIdle && !c.closed {
			if !c.guard.enterHeader(c) {
				c.mu.Unlock()
				refuseOverCap(c.Conn)
				return 0, errOverHeaderCap
			}
			c.phase.Store(phaseHeader)
			c.headerBy = time.Now().Add(c.guard.timeout)
			_ = c.applyLocked()
		}
		c.mu.Unlock()
	}
	return n, err
}

// errOverHeaderCap ends a kept-alive connection refused by enterHeader;
// the 429 is written already.
var errOverHeaderCap = errors.New("too many connections of this address are sending their request header")

func (c *guardedConn) SetReadDeadline(t time.Time) error {
	if c.phase.Load() == phaseHijacked {
		return c.Conn.SetReadDeadline(t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requested = t
	return c.applyLocked()
}

func (c *guardedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// applyLocked sets the server's requested read deadline, capped at the
// header phase's end while the phase lasts.
func (c *guardedConn) applyLocked() error {
	deadline := c.requested
	if c.phase.Load() == phaseHeader && (deadline.IsZero() || deadline.After(c.headerBy)) {
		deadline = c.headerBy
	}
	return c.Conn.SetReadDeadline(deadline)
}

func (c *guardedConn) handlerStarted() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.startHandlerLocked()
}

// bodyRead ends the header phase of a request whose body is in: the
// handler runs under the server's own deadline. A read after the handler
// (the server draining what it left) changes nothing.
func (c *guardedConn) bodyRead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phase.Load() == phaseHeader {
		c.startHandlerLocked()
	}
}

func (c *guardedConn) startHandlerLocked() {
	if c.phase.Load() == phaseHeader {
		c.guard.leaveHeader(c)
	}
	c.phase.Store(phaseHandler)
	_ = c.applyLocked()
}

func (c *guardedConn) handlerDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.phase.Load() {
	case phaseHeader: // a body the handler left unread
		c.guard.leaveHeader(c)
		c.phase.Store(phaseIdle)
	case phaseHandler:
		c.phase.Store(phaseIdle)
	}
}

func (c *guardedConn) hijacked() {
	c.mu.Lock()
	if c.phase.Load() == phaseHeader {
		c.guard.leaveHeader(c)
	}
	c.phase.Store(phaseHijacked)
	c.mu.Unlock()
	c.guard.forget(c)
}

func (c *guardedConn) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		if c.phase.Load() == phaseHeader {
			c.guard.leaveHeader(c)
		}
	}
	c.mu.Unlock()
	c.guard.forget(c)
	return c.Conn.Close()
}

// CloseWrite lets net/http half-close a TCP connection after an error
// answer, so the client reads the answer before the connection goes.
func (c *guardedConn) CloseWrite() error {
	if closer, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return closer.CloseWrite()
	}
	return nil
}

// hijackWatcher tells the guard when the handler takes its connection
// over. ghttp reaches Hijack and Flush by type assertion, and
// http.ResponseController finds the rest through Unwrap.
type hijackWatcher struct {
	http.ResponseWriter
	conn *guardedConn
}

func (h *hijackWatcher) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hijacker, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the response writer cannot hijack its connection")
	}
	conn, rw, err := hijacker.Hijack()
	if err == nil {
		h.conn.hijacked()
	}
	return conn, rw, err
}

func (h *hijackWatcher) Flush() {
	if flusher, ok := h.ResponseWriter.(http.Flusher); ok {
		flusher.Flush()
	}
}

func (h *hijackWatcher) Unwrap() http.ResponseWriter { return h.ResponseWriter }
