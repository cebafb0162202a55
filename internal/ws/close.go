package ws

import (
	"time"

	"github.com/gogf/gf/v2/os/glog"
	"github.com/gorilla/websocket"
)

// Close codes of the application range (PROTOCOL.md section 4): each tells
// the client whether to come back.
const (
	// CloseSlowConsumer: the send queue overflowed. Reconnect with backoff
	// and recover the rooms.
	CloseSlowConsumer = 4008
	// CloseRateLimited: the client stayed over its rate limit. Reconnect
	// after a backoff.
	CloseRateLimited = 4029
	// CloseTokenExpired: the token expired. Reconnect only with a new one.
	CloseTokenExpired = 4401
	// CloseKicked: closed by the admin API. Do not reconnect.
	CloseKicked = 4403
)

// ShutdownReason goes with 1001 when the node drains.
const ShutdownReason = "server shutting down"

const (
	// maxCloseReason is the most a close frame's reason can hold: 125 bytes
	// of control payload less the code.
	maxCloseReason = 123
	// closeReplyWait is how long the server waits for the peer to answer
	// its close frame before it drops the TCP connection anyway.
	closeReplyWait = 2 * time.Second
	// condemnedCloseWait is the chance a slow consumer's close frame gets:
	// its socket is full, and it must not hold its memory any longer.
	condemnedCloseWait = 100 * time.Millisecond
)

// closeState is how the connection ends.
type closeState struct {
	code   int
	reason string
	frame  bool // a close frame is owed to the peer
	byPeer bool // the peer closed first: answer it and wait for nothing
	drop   bool // throw the queue away and abort a blocked write
}

// Close starts the close handshake with code and reason and returns at
// once. What was queued before it is still written, within
// ws.writeTimeout, then the close frame; Send refuses anything after. Only
// the first call of Close or of a failure counts.
func (c *Conn) Close(code int, reason string) {
	c.closeWith(closeState{code: code, reason: reason, frame: true})
}

// condemn closes a slow consumer: its queue is what is wrong, so the queue
// is dropped and a write stuck on its full socket is aborted at once.
func (c *Conn) condemn() {
	c.closeWith(closeState{code: CloseSlowConsumer, reason: "slow consumer", frame: true, drop: true})
}

func (c *Conn) closeWith(st closeState) {
	c.closeOnce.Do(func() {
		st.reason = clip(st.reason, maxCloseReason)
		c.close = st
		if st.drop {
			c.queueMu.Lock()
			c.dropQueueLocked()
			c.queueMu.Unlock()
			c.sock.limitWrites(time.Now())
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

// opened registers the connection's hooks and logs it.
func (s *Server) opened(c *Conn) {
	if !c.expires.IsZero() {
		c.expiry = time.AfterFunc(time.Until(c.expires), func() {
			c.Close(CloseTokenExpired, "token expired")
		})
	}
	if s.hooks.OnOpen != nil {
		s.hooks.OnOpen(c)
	}
	glog.Infof(c.ctx, "ws open conn=%s user=%q remote=%q", c.id, c.userID, c.clientIP)
}

// closed removes the connection and logs how it ended.
func (s *Server) closed(c *Conn, st closeState) {
	s.release(c)
	if s.hooks.OnClose != nil {
		s.hooks.OnClose(c, st.code, st.reason)
	}
	glog.Infof(c.ctx, "ws close conn=%s user=%q remote=%q code=%d reason=%q duration=%s",
		c.id, c.userID, c.clientIP, st.code, st.reason, time.Since(c.since).Round(time.Millisecond))
}
