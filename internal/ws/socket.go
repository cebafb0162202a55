package ws

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// socket is the hijacked connection. gorilla reads frames from it; the
// server writes its own frames to it, so that what was queued before a
// close always goes out before the close frame. gorilla's own writes after
// the 101 response are the close frames it sends when it finds a protocol
// error: those are dropped, and the teardown sends the close after the
// queue is flushed.
type socket struct {
	net.Conn
	writeTimeout time.Duration
	attached     atomic.Bool // the 101 is out: gorilla's writes are dropped
	deflate      bool        // the 101 accepted permessage-deflate
	scan         frameScanner

	deadlineMu sync.Mutex
	writesBy   time.Time // no write may last past this once a close began

	// The 101 response waits for the connection's first frame, usually
	// the welcome, so that both go out in one write; release sends it
	// alone when nothing is queued.
	holding  atomic.Bool
	heldMu   sync.Mutex
	response []byte
}

// Read feeds what gorilla reads through the scanner, which notices the
// frames gorilla accepts but RFC 6455 does not.
func (s *socket) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	s.scan.feed(p[:n])
	return n, err
}

// deflateAccepted is how gorilla's 101 response says compression is on.
var deflateAccepted = []byte("\r\nSec-WebSocket-Extensions: permessage-deflate")

// Write serves gorilla only: the 101 response, then close frames that the
// teardown replaces with its own.
func (s *socket) Write(p []byte) (int, error) {
	if s.attached.Load() {
		return len(p), nil
	}
	s.deflate = s.deflate || bytes.Contains(p, deflateAccepted)
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	// gorilla reuses p as its write buffer: keep a copy.
	s.response = append(s.response, p...)
	s.holding.Store(true)
	return len(p), nil
}

// write sends bytes of whole frames under the write deadline.
func (s *socket) write(p []byte) error {
	return s.writev(p, nil)
}

// writev sends a frame header and its payload without joining them,
// after the 101 response while it is held.
func (s *socket) writev(header, payload []byte) error {
	if s.holding.Load() {
		s.heldMu.Lock()
		defer s.heldMu.Unlock()
		if s.holding.Load() {
			// Cleared once the write is done, so that no other write can
			// go out before the 101. Joining them copies a few hundred
			// bytes and saves a system call.
			defer s.holding.Store(false)
			header, payload = append(append(s.response, header...), payload...), nil
			s.response = nil
		}
	}
	if len(header) == 0 && len(payload) == 0 {
		return nil
	}
	s.setWriteDeadline()
	if len(payload) == 0 {
		_, err := s.Conn.Write(header)
		return err
	}
	bufs := net.Buffers{header, payload}
	_, err := bufs.WriteTo(s.Conn)
	return err
}

// release sends the 101 response if no frame has taken it along.
func (s *socket) release() error {
	if !s.holding.Load() {
		return nil
	}
	return s.writev(nil, nil)
}

// setWriteDeadline bounds the next write by ws.writeTimeout, or by the
// limit a close set, whichever comes first.
func (s *socket) setWriteDeadline() {
	s.deadlineMu.Lock()
	defer s.deadlineMu.Unlock()
	deadline := time.Now().Add(s.writeTimeout)
	if !s.writesBy.IsZero() && s.writesBy.Before(deadline) {
		deadline = s.writesBy
	}
	_ = s.Conn.SetWriteDeadline(deadline)
}

// limitWrites makes every write, the one under way included, end by t.
func (s *socket) limitWrites(t time.Time) {
	s.deadlineMu.Lock()
	defer s.deadlineMu.Unlock()
	s.writesBy = t
	_ = s.Conn.SetWriteDeadline(t)
}

// socketHijacker hands gorilla's Upgrade a socket when it hijacks through
// r.Response.Writer, which still records the hijack for ghttp.
type socketHijacker struct {
	http.ResponseWriter
	hijacker     http.Hijacker
	writeTimeout time.Duration
	sock         *socket
}

// Hijack hijacks the connection and wraps it. A client that sent data
// behind its handshake, before the 101, broke RFC 6455 (4.1), and gorilla
// closes its socket unanswered: it is told why here first.
func (h *socketHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := h.hijacker.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if rw.Reader.Buffered() > 0 {
		_ = conn.SetWriteDeadline(time.Now().Add(h.writeTimeout))
		_, _ = conn.Write(earlyDataRefusal)
	}
	h.sock = &socket{Conn: conn, writeTimeout: h.writeTimeout}
	return h.sock, rw, nil
}
