package ws

import (
	"time"

	"github.com/gogf/gf/v2/os/glog"
	"github.com/gorilla/websocket"
)

// closeReplyWait is how long the server waits for the peer to answer its
// close frame before it drops the TCP connection anyway.
const closeReplyWait = 2 * time.Second

// writeLoop is the connection's only writer of data frames, and the one
// place a connection is torn down.
func (c *Conn) writeLoop() {
	cfg := c.server.cfg
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	// broken is set once a write fails: the stream may end mid-frame, so no
	// close frame can follow.
	broken := false
	for !c.isClosing() {
		select {
		case m := <-c.send:
			if err := c.write(m); err != nil {
				broken = true
				c.closeWith(closeState{code: websocket.CloseAbnormalClosure, reason: "write failed: " + err.Error()})
				continue
			}
			c.server.sent.Add(1)
		case <-ping.C:
			err := c.socket.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.WriteTimeout))
			if err != nil {
				broken = true
				c.closeWith(closeState{code: websocket.CloseAbnormalClosure, reason: "ping failed: " + err.Error()})
			}
		case <-c.closing:
		}
	}
	c.teardown(broken)
}

func (c *Conn) write(m outbound) error {
	_ = c.socket.SetWriteDeadline(time.Now().Add(c.server.cfg.WriteTimeout))
	if m.prepared != nil {
		return c.socket.WritePreparedMessage(m.prepared)
	}
	return c.socket.WriteMessage(websocket.TextMessage, m.text)
}

// teardown sends the close frame when one is owed and the stream is
// intact, waits briefly for the peer's answer, closes the socket, waits for
// the reader and unregisters.
func (c *Conn) teardown(broken bool) {
	st := c.closingState()
	if st.sendFrame && !broken {
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
