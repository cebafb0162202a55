package ws

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gorilla/websocket"
)

// Handler speaks the application protocol over connections; Router is the
// template's, with its JSON envelope.
type Handler interface {
	// Open runs once per connection on the handshake's goroutine, before
	// Hooks.OnOpen and before the first message is read: the place to
	// queue a first message, which nothing sent to the connection goes
	// before.
	Open(c *Conn)
	// HandleMessage receives each data message, on the connection's reader
	// goroutine, one at a time, in the order they arrived. Text messages
	// are valid UTF-8. data is only valid during the call.
	HandleMessage(c *Conn, binary bool, data []byte)
}

// Hooks lets the layers above the transport follow connections. None of
// them may block: they run on the goroutines that serve connections.
type Hooks struct {
	// OnOpen runs on the handshake's goroutine once the welcome message is
	// queued and before it is written, so a client that has its welcome
	// is already known to the layers above.
	OnOpen func(c *Conn)
	// OnClose runs once on the connection's teardown goroutine, after the
	// socket is closed and the Conn is removed from the Server. byClient
	// says the client chose the code, which it may pick at will, even one
	// of the codes the server closes with.
	OnClose func(c *Conn, code int, byClient bool)
	// OnRefuse runs on the handshake's goroutine for every handshake that
	// is answered without an upgrade, with one of the Refused* reasons.
	OnRefuse func(reason string)
}

// Server accepts WebSocket connections on a ghttp route and keeps the
// registry the connection caps and the drain need. Its methods are safe for
// concurrent use.
type Server struct {
	cfg      Config
	node     string
	handler  Handler
	hooks    Hooks
	upgrader websocket.Upgrader

	mu       sync.Mutex
	conns    map[string]*Conn // upgraded connections
	slots    int              // reserved slots: conns plus handshakes in flight
	perUser  map[string]int
	perIP    map[string]int
	draining bool
	drained  chan struct{} // closed when draining and no slot is left
	stopPing chan struct{} // stops the pinger; nil while it is not running

	// batchBuffers hold the frames of a burst while the writer joins them
	// into one write: ws.writeBufferSize at first, at most maxBatch.
	batchBuffers sync.Pool

	// Connection ids are this Server's random prefix and a counter: unique
	// across nodes without a random read per handshake.
	idPrefix string
	lastID   atomic.Uint64

	received atomic.Uint64
	sent     atomic.Uint64
}

// Stats are a Server's message counters since it started.
type Stats struct {
	Received uint64 // data messages read from clients
	Sent     uint64 // data messages written to clients
}

// Stats returns the message counters.
func (s *Server) Stats() Stats {
	return Stats{Received: s.received.Load(), Sent: s.sent.Load()}
}

// NewServer returns a Server that hands the messages of connections
// accepted with cfg to handler, usually a Router. node names this process
// in the welcome message.
func NewServer(cfg Config, node string, handler Handler, hooks Hooks) *Server {
	s := &Server{
		cfg:     cfg,
		node:    node,
		handler: handler,
		hooks:   hooks,
		conns:   make(map[string]*Conn),
		perUser: make(map[string]int),
		perIP:   make(map[string]int),
		// 48 random bits: two of a thousand nodes share a prefix with
		// odds of about one in 500 million.
		idPrefix: RandomID(6),
	}
	s.batchBuffers.New = func() any {
		b := make([]byte, 0, cfg.WriteBufferSize)
		return &b
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.HandshakeTimeout,
		ReadBufferSize:   cfg.ReadBufferSize,
		// The server writes its own frames (see socket), so gorilla never
		// needs a write buffer: the pool keeps it from allocating one.
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: cfg.Compression,
		// The same check already ran before Upgrade and produced a refusal
		// a person can read; this keeps gorilla from ever accepting more.
		CheckOrigin: s.originAllowed,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeRefusal(w, status, gcode.CodeInvalidRequest, "WebSocket handshake failed: "+reason.Error(), nil)
		},
	}
	return s
}

func (s *Server) nextConnID() string {
	return s.idPrefix + strconv.FormatUint(s.lastID.Add(1), 36)
}

// Conns returns a snapshot of the live connections.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		list = append(list, c)
	}
	return list
}

// Len returns the number of live connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Draining reports whether Drain has started: the node refuses upgrades and
// reports not ready.
func (s *Server) Draining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// reserve takes a slot for c under the connection caps, so that the check
// and the count are one step and concurrent upgrades cannot overshoot a
// cap. A drain refuses too, in the same step.
func (s *Server) reserve(c *Conn) *refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	retry := http.Header{"Retry-After": {strconv.Itoa(retryAfterSeconds)}}
	switch {
	case s.draining:
		return &refusal{RefusedDraining, http.StatusServiceUnavailable, gcode.CodeServerBusy,
			"this node is shutting down; reconnect, and the proxy sends you to another node", retry}
	case s.cfg.MaxConnections > 0 && s.slots >= s.cfg.MaxConnections:
		return &refusal{RefusedCapacity, http.StatusServiceUnavailable, gcode.CodeServerBusy,
			"this node is at its connection limit (ws.maxConnections); retry later", retry}
	case s.cfg.MaxConnectionsPerUser > 0 && s.perUser[c.userID] >= s.cfg.MaxConnectionsPerUser:
		return &refusal{RefusedCapacity, http.StatusTooManyRequests, gcode.CodeServerBusy,
			"user " + c.userID + " already has the most connections allowed (ws.maxConnectionsPerUser); close one first", nil}
	case s.cfg.MaxConnectionsPerIP > 0 && s.perIP[c.clientNet] >= s.cfg.MaxConnectionsPerIP:
		return &refusal{RefusedCapacity, http.StatusTooManyRequests, gcode.CodeServerBusy,
			"address " + c.clientNet + " already has the most connections allowed (ws.maxConnectionsPerIP); close one first", nil}
	}
	s.slots++
	s.perUser[c.userID]++
	s.perIP[c.clientNet]++
	return nil
}

// register adds an attached connection, starting the pinger with the
// first one. It reports whether a drain began during the handshake, in
// which case the caller closes the connection once it has started.
func (s *Server) register(c *Conn) (draining bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c.id] = c
	if s.stopPing == nil {
		s.stopPing = make(chan struct{})
		go s.pingLoop(s.stopPing)
	}
	return s.draining
}

// release gives back the slot reserve took. It is called exactly once per
// reserved Conn: by its teardown, or by Handle when the upgrade failed.
func (s *Server) release(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c.id)
	s.slots--
	decrement(s.perUser, c.userID)
	decrement(s.perIP, c.clientNet)
	if len(s.conns) == 0 && s.stopPing != nil {
		close(s.stopPing)
		s.stopPing = nil
	}
	if s.draining && s.slots == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// pingLoop queues a ping for every connection each ws.pingInterval: one
// ticker for the node instead of one per connection.
func (s *Server) pingLoop(stop chan struct{}) {
	tick := time.NewTicker(s.cfg.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			for _, c := range s.Conns() {
				c.enqueue(outbound{op: opPing})
			}
		}
	}
}

func decrement(m map[string]int, key string) {
	if m[key] <= 1 {
		delete(m, key)
		return
	}
	m[key]--
}

// Drain stops accepting connections, closes every live one with 1001
// `server shutting down`, and waits until they are gone, ctx ends, or
// Config.ShutdownTimeout passes. It reports how many were still open when
// it stopped waiting. Hijacked connections are invisible to
// http.Server.Shutdown, which is why the node drains them itself.
func (s *Server) Drain(ctx context.Context) (remaining int) {
	s.mu.Lock()
	s.draining = true
	drained := make(chan struct{})
	if s.slots == 0 {
		close(drained)
	} else {
		s.drained = drained
	}
	conns := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	for _, c := range conns {
		c.Close(websocket.CloseGoingAway, ShutdownReason)
	}
	timer := time.NewTimer(s.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
	case <-ctx.Done():
	}
	return s.Len()
}
