package ws

import "github.com/gorilla/websocket"

// maxBatch bounds one write to the socket: a burst of small messages goes
// out in writes of at most this size, and the writer never copies more
// than this of a burst at a time.
const maxBatch = 64 << 10

// enqueue adds ms, in order, to the send queue and starts the writer
// goroutine if none is running: an idle connection holds neither a writer
// nor a buffer. A queue over ws.sendQueueSize messages or ws.sendQueueBytes
// bytes condemns the connection as a slow consumer. Pings skip the limits,
// since they are what finds out whether the peer is alive.
func (c *Conn) enqueue(ms ...outbound) bool {
	size := 0
	for _, m := range ms {
		size += m.size()
	}
	c.queueMu.Lock()
	if c.isClosing() {
		c.queueMu.Unlock()
		return false
	}
	if ms[0].op != opPing && c.overflowsLocked(len(ms), size) {
		c.queueMu.Unlock()
		c.condemn()
		return false
	}
	c.queue = append(c.queue, ms...)
	c.queued += len(ms)
	c.queuedBytes += size
	start := !c.writing
	c.writing = true
	c.queueMu.Unlock()
	if start {
		go c.writeLoop()
	}
	return true
}

// overflowsLocked reports whether n more messages of size bytes in all
// break the queue's bounds, which count the batch being written too. One
// message larger than the byte bound still goes through an empty queue,
// so that the bound limits backlog, not message size.
func (c *Conn) overflowsLocked(n, size int) bool {
	cfg := &c.server.cfg
	return c.queued+n > cfg.SendQueueSize ||
		(c.queuedBytes > 0 && c.queuedBytes+size > cfg.SendQueueBytes)
}

// dropQueueLocked throws away what is queued; the writer stops after the
// write under way.
func (c *Conn) dropQueueLocked() {
	c.dropped = true
	clear(c.queue)
	c.queue, c.spare = nil, nil
}

// writeLoop writes queued messages until the queue is empty, then ends.
// The two queue slices are swapped so that the steady state allocates
// nothing. It keeps going while the connection closes gracefully, so that
// the close frame follows everything queued before it.
func (c *Conn) writeLoop() {
	for {
		c.queueMu.Lock()
		if len(c.queue) == 0 || c.dropped {
			c.writing = false
			c.queueMu.Unlock()
			c.writerIdle.Broadcast()
			return
		}
		batch := c.queue
		c.queue = c.spare[:0]
		c.queueMu.Unlock()

		written, err := c.writeBatch(batch)
		clear(batch) // drop references to sent messages
		c.queueMu.Lock()
		c.queued -= len(batch)
		c.queuedBytes -= written
		if !c.dropped {
			c.spare = batch[:0]
		}
		if err != nil {
			c.dropQueueLocked()
		}
		// A replay waiting for room (SendReplay) may go now.
		c.writerIdle.Broadcast()
		c.queueMu.Unlock()
		if err != nil {
			c.writeFailed(err)
		}
	}
}

// writeFailed closes a connection whose socket refused a write: nothing
// more can reach the peer, the close frame included.
func (c *Conn) writeFailed(err error) {
	c.broken.Store(true)
	c.closeWith(closeState{code: websocket.CloseAbnormalClosure, reason: "write failed: " + err.Error(), drop: true})
}

// writeBatch writes the batch's frames: small ones joined into writes of at
// most maxBatch bytes, a large one on its own without a copy. It returns
// the queue bytes the batch held.
func (c *Conn) writeBatch(batch []outbound) (int, error) {
	pooled := c.server.batchBuffers.Get().(*[]byte)
	buf := (*pooled)[:0]
	defer func() {
		*pooled = buf[:0]
		c.server.batchBuffers.Put(pooled)
	}()
	size, sent := 0, uint64(0)
	for _, m := range batch {
		size += m.size()
		frame, payload, compressed := c.encode(m)
		n := len(frame) + len(payload)
		if frame == nil {
			n += maxFrameHeader
		}
		if len(buf) > 0 && len(buf)+n > maxBatch {
			if err := c.sock.write(buf); err != nil {
				return size, err
			}
			buf = buf[:0]
		}
		var err error
		switch {
		case n <= maxBatch && frame != nil:
			buf = append(buf, frame...)
		case n <= maxBatch:
			buf = append(appendHeader(buf, m.op, compressed, len(payload)), payload...)
		case frame != nil:
			err = c.sock.write(frame)
		default:
			err = c.sock.writev(appendHeader(nil, m.op, compressed, len(payload)), payload)
		}
		if err != nil {
			return size, err
		}
		if m.op == opText || m.op == opBinary {
			sent++
		}
	}
	if len(buf) > 0 {
		if err := c.sock.write(buf); err != nil {
			return size, err
		}
	}
	c.server.sent.Add(sent)
	return size, nil
}

// encode returns a shared Frame's encoded bytes as frame, or the payload
// of any other message, compressed when the connection negotiated it and
// the message is data.
func (c *Conn) encode(m outbound) (frame, payload []byte, compressed bool) {
	if m.frame != nil {
		return m.frame.bytes(c.compress), nil, false
	}
	if c.compress && (m.op == opText || m.op == opBinary) {
		return nil, deflate(m.data), true
	}
	return nil, m.data, false
}
