package ws

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// batchConn is the socket under gorilla's Conn. While the writer goroutine
// drains a burst of queued messages it collects their frames and sends
// them with one write, instead of one system call per message. Outside a
// burst, writes (pongs and close frames from other goroutines) go straight
// through. gorilla serialises its own writes; the mutex also covers a
// control frame arriving during a burst, which joins the batch.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      *[]byte // pooled while batching, nil otherwise
}

var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBatch keeps one huge burst from pinning its buffer in the pool.
const maxPooledBatch = 256 << 10

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.batching {
		*b.buf = append(*b.buf, p...)
		return len(p), nil
	}
	return b.Conn.Write(p)
}

func (b *batchConn) begin() {
	b.mu.Lock()
	b.batching = true
	b.buf = batchBuffers.Get().(*[]byte)
	b.mu.Unlock()
}

// flush sends what the burst collected, under the write deadline gorilla
// set for its last frame.
func (b *batchConn) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = false
	buf := b.buf
	b.buf = nil
	var err error
	if len(*buf) > 0 {
		_, err = b.Conn.Write(*buf)
	}
	if cap(*buf) <= maxPooledBatch {
		*buf = (*buf)[:0]
		batchBuffers.Put(buf)
	}
	return err
}

// batchingHijacker hands gorilla's Upgrade a batchConn when it hijacks
// through r.Response.Writer, which still records the hijack for ghttp.
type batchingHijacker struct {
	http.ResponseWriter
	hijacker http.Hijacker
	conn     *batchConn
}

func (h *batchingHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := h.hijacker.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: conn}
	return h.conn, rw, nil
}
