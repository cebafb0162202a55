package ws

import (
	"time"

	"github.com/gogf/gf/v2/os/glog"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/edge"
)

// A connection's life, in order: attach (the socket is ours), register
// (server.go), start and opened (the handler queues its first message,
// the layers above know it, the reader runs), then Close or a failure,
// teardown, closed and release (server.go).

// attach gives the connection its socket after a successful upgrade. From
// here on Close is safe: a teardown has the socket it needs.
func (c *Conn) attach(reader *websocket.Conn, sock *socket) {
	c.reader, c.sock, c.compress = reader, sock, sock.deflate
	sock.attached.Store(true)
	// gorilla leaves the HTTP server's read deadline in place; replace it
	// with ours at once. No read limit is set on gorilla, whose limit counts
	// compressed bytes: readLoop bounds messages itself.
	c.extendReadDeadline()
	reader.SetPongHandler(c.onPong)
	reader.SetPingHandler(c.onPing)
	// The answer to the peer's close goes out after the queue, from the
	// teardown.
	reader.SetCloseHandler(func(int, string) error { return nil })
	if !c.expires.IsZero() {
		c.expiry = time.AfterFunc(time.Until(c.expires), func() {
			c.Close(CloseTokenExpired, "token expired")
		})
	}
}

// start queues the handler's first message, registers the connection
// with the layers above and starts the reader. The writer is held until
// then: deliveries that reach the connection once the layers above know
// it go after the welcome, and a client holding its welcome can already
// be reached by room and user deliveries.
func (c *Conn) start() {
	c.queueMu.Lock()
	c.writing = true
	c.queueMu.Unlock()
	c.server.handler.Open(c)
	c.server.opened(c)
	c.releaseWriter()
	go c.readLoop()
}

// releaseWriter writes what was queued while the writer was held, the
// held 101 response in front; with nothing queued it sends the 101 alone.
func (c *Conn) releaseWriter() {
	c.queueMu.Lock()
	pending := len(c.queue) > 0 && !c.dropped
	c.writing = pending
	c.queueMu.Unlock()
	if pending {
		go c.writeLoop()
		return
	}
	c.writerIdle.Broadcast()
	if err := c.sock.release(); err != nil {
		c.writeFailed(err)
	}
}

// opened tells the layers above and logs the connection.
func (s *Server) opened(c *Conn) {
	if s.hooks.OnOpen != nil {
		s.hooks.OnOpen(c)
	}
	glog.Infof(c.ctx, "ws open conn=%s user=%q remote=%q", c.id, c.userID, c.clientIP)
}

// closed removes the connection and logs how it ended.
func (s *Server) closed(c *Conn, st closeState) {
	s.release(c)
	if s.hooks.OnClose != nil {
		s.hooks.OnClose(c, st.code, st.byPeer)
	}
	reason := st.reason
	if st.byPeer {
		reason = "the client closed with this code" // its own reason is not logged
	}
	glog.Infof(c.ctx, "ws close conn=%s user=%q remote=%q code=%d reason=%q duration=%s",
		c.id, c.userID, c.clientIP, st.code, reason, time.Since(c.since).Round(time.Millisecond))
}

// Close starts the close handshake with code and reason and returns at
// once. What was queued before it is still written, within
// ws.writeTimeout, then the close frame; Send refuses anything after. Only
// the first call of Close or of a failure counts.
func (c *Conn) Close(code int, reason string) {
	c.closeWith(closeState{code: code, reason: reason, frame: true})
}

// condemn closes a slow consumer: its queue is what is wrong, so the queue
// is dropped, and a write under way on its full socket has
// condemnedWriteWait to finish.
func (c *Conn) condemn() {
	c.closeWith(closeState{code: CloseSlowConsumer, reason: "slow consumer", frame: true, drop: true})
}

func (c *Conn) closeWith(st closeState) {
	c.closeOnce.Do(func() {
		st.reason = edge.Clip(st.reason, maxCloseReason)
		c.close = st
		if st.drop {
			c.queueMu.Lock()
			c.dropQueueLocked()
			c.queueMu.Unlock()
			c.sock.limitWrites(time.Now().Add(condemnedWriteWait))
		} else {
			c.sock.limitWrites(time.Now().Add(c.server.cfg.WriteTimeout))
		}
		close(c.closing)
		go c.teardown()
	})
}

func (c *Conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// teardown runs once per connection, on its own goroutine, when it starts
// to close: it waits for the writer to flush or give up, sends the close
// frame when one is owed and the stream is intact, waits briefly for the
// peer's answer, closes the socket, waits for the reader and unregisters.
func (c *Conn) teardown() {
	st := c.close
	c.queueMu.Lock()
	for c.writing {
		c.writerIdle.Wait()
	}
	c.dropQueueLocked()
	c.queueMu.Unlock()
	if st.frame && !c.broken.Load() {
		if st.drop {
			c.sock.limitWrites(time.Now().Add(condemnedCloseWait))
		}
		err := c.sock.write(appendFrame(nil, opClose, false, websocket.FormatCloseMessage(st.code, st.reason)))
		if err == nil && !st.byPeer && !st.drop {
			wait := time.NewTimer(closeReplyWait)
			select {
			case <-c.readerDone:
			case <-wait.C:
			}
			wait.Stop()
		}
	}
	_ = c.sock.Close()
	<-c.readerDone
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.cancel()
	c.server.closed(c, st)
}
