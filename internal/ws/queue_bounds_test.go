package ws

import (
	"context"
	"net"
	"testing"
	"time"
)

// The send queue's bounds hold exactly: ws.sendQueueSize messages and
// ws.sendQueueBytes bytes may wait, one more of either condemns, and one
// message over the byte bound passes an empty queue.
func TestSendQueueBoundsAreExact(t *testing.T) {
	c := &Conn{server: &Server{cfg: Config{SendQueueSize: 3, SendQueueBytes: 100}}}
	queue := func(sizes ...int) {
		c.queue, c.queued, c.queuedBytes = nil, 0, 0
		for _, n := range sizes {
			c.queue = append(c.queue, outbound{op: opText, data: make([]byte, n)})
			c.queued++
			c.queuedBytes += n
		}
	}
	for _, tc := range []struct {
		queued    []int
		n, size   int
		overflows bool
	}{
		{[]int{1, 1}, 1, 1, false},   // the third message
		{[]int{1, 1, 1}, 1, 1, true}, // the fourth
		{[]int{1}, 2, 2, false},      // a batch that fills it
		{[]int{1, 1}, 2, 2, true},    // a batch one over
		{[]int{60}, 1, 40, false},    // 100 bytes
		{[]int{60}, 1, 41, true},     // 101 bytes
		{nil, 1, 1000, false},        // one large message, nothing waiting
	} {
		queue(tc.queued...)
		if got := c.overflowsLocked(tc.n, tc.size); got != tc.overflows {
			t.Errorf("queued %v, %d more of %d bytes: overflows %v, want %v", tc.queued, tc.n, tc.size, got, tc.overflows)
		}
	}
}

// ws.sendQueueSize counts the batch being written: a writer blocked on a
// full socket does not make room for as many messages again.
func TestSendQueueSizeCountsTheBatchBeingWritten(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SendQueueSize = 4
	s := NewServer(cfg, "n", Echo{}, Hooks{})
	s.slots, s.perUser[""], s.perIP[""] = 1, 1, 1 // what the teardown gives back
	server, client := net.Pipe()                  // nobody reads: the first write blocks
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{server: s, ctx: ctx, cancel: cancel, closing: make(chan struct{}), readerDone: make(chan struct{}),
		sock: &socket{Conn: server, writeTimeout: time.Minute}}
	c.writerIdle.L = &c.queueMu
	close(c.readerDone) // no reader here
	f := NewFrame([]byte("m"))
	if !c.SendFrames(f, f, f, f) {
		t.Fatal("a burst of ws.sendQueueSize messages was refused")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c.queueMu.Lock()
		taken := len(c.queue) == 0
		c.queueMu.Unlock()
		if taken {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer did not take the burst")
		}
	}
	if c.Send([]byte("m")) {
		t.Fatal("a fifth message was queued while four were being written")
	}
	<-ctx.Done() // the slow consumer's teardown has run
}
