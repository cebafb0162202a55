package ws

import (
	"time"

	"github.com/gogf/gf/v2/os/glog"
	"github.com/gorilla/websocket"
)

// closeReplyWait is how long the server waits for the peer to answer its
// close frame before it drops the TCP connection anyway.
const closeReplyWait = 2 * time.Second

// enqueue adds m to the send queue and starts the writer goroutine if none
// is running: an idle connection holds neither a writer nor a buffer. A
// full queue closes the connection as a slow consumer; pings skip the
// limit, since they are what finds out whether the peer is alive.
func (c *Conn) enqueue(m outbound) bool {
	c.queueMu.Lock()
	if c.isClosing() {
		c.queueMu.Unlock()
		return false
	}
	if len(c.queue) >= c.server.cfg.SendQueueSize && !m.ping {
		c.queueMu.Unlock()
		c.Close(websocket.ClosePolicyViolation, CloseSlowConsumer)
		return false
	}
	c.queue = append(c.queue, m)
	start := !c.writing
	c.writing = true
	c.queueMu.Unlock()
	if start {
		go c.writeLoop()
	}
	return true
}

// writeLoop writes queued messages until the queue is empty, then ends.
// Each burst goes out in one system call; the two queue slices are swapped
// so that the steady state allocates nothing.
func (c *Conn) writeLoop() {
	var batch []outbound
	for {
		c.queueMu.Lock()
		if len(c.queue) == 0 || c.isClosing() {
			c.writing = false
			c.queueMu.Unlock()
			c.writerIdle.Broadcast()
			return
		}
		batch, c.queue = c.queue, c.spare[:0]
		c.queueMu.Unlock()

		err := c.writeBatch(batch)
		clear(batch) // drop references to sent frames
		c.queueMu.Lock()
		c.spare = batch[:0]
		c.queueMu.Unlock()
		if err != nil {
			c.broken.Store(true)
			c.closeWith(closeState{code: websocket.CloseAbnormalClosure, reason: "write failed: " + err.Error()})
		}
	}
}

func (c *Conn) writeBatch(batch []outbound) error {
	c.conn.begin()
	sent := uint64(0)
	for _, m := range batch {
		_ = c.socket.SetWriteDeadline(time.Now().Add(c.server.cfg.WriteTimeout))
		var err error
		switch {
		case m.ping:
			err = c.socket.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.server.cfg.WriteTimeout))
		case m.prepared != nil:
			err = c.socket.WritePreparedMessage(m.prepared)
			sent++
		default:
			err = c.socket.WriteMessage(websocket.TextMessage, m.text)
			sent++
		}
		if err != nil {
			_ = c.conn.flush()
			return err
		}
	}
	if err := c.conn.flush(); err != nil {
		return err
	}
	c.server.sent.Add(sent)
	return nil
}

// teardown runs once per connection, on its own goroutine, when it starts
// to close: it waits for the writer, sends the close frame when one is
// owed and the stream is intact, waits briefly for the peer's answer,
// closes the socket, waits for the reader and unregisters.
func (c *Conn) teardown() {
	st := c.closingState()
	c.queueMu.Lock()
	for c.writing {
		c.writerIdle.Wait()
	}
	c.queue, c.spare = nil, nil
	c.queueMu.Unlock()
	if st.sendFrame && !c.broken.Load() {
		frame := websocket.FormatCloseMessage(st.code, st.reason)
		err := c.socket.WriteControl(websocket.CloseMessage, frame, time.Now().Add(c.server.cfg.WriteTimeout))
		if err == nil {
			wait := time.NewTimer(closeReplyWait)
			select {
			case <-c.readerDone:
			case <-wait.C:
			}
			wait.Stop()
		}
	}
	_ = c.socket.Close()
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
			c.Close(websocket.ClosePolicyViolation, "token expired")
		})
	}
	if s.hooks.OnOpen != nil {
		s.hooks.OnOpen(c)
	}
	glog.Infof(c.ctx, "ws open conn=%s user=%s remote=%s", c.id, c.userID, c.clientIP)
}

// closed removes the connection and logs how it ended.
func (s *Server) closed(c *Conn, st closeState) {
	s.release(c)
	if s.hooks.OnClose != nil {
		s.hooks.OnClose(c, st.code, st.reason)
	}
	glog.Infof(c.ctx, "ws close conn=%s user=%s remote=%s code=%d reason=%q duration=%s",
		c.id, c.userID, c.clientIP, st.code, st.reason, time.Since(c.since).Round(time.Millisecond))
}
