package ws

import "testing"

// The send queue's bounds hold exactly: ws.sendQueueSize messages and
// ws.sendQueueBytes bytes may wait, one more of either condemns, and one
// message over the byte bound passes an empty queue.
func TestSendQueueBoundsAreExact(t *testing.T) {
	c := &Conn{server: &Server{cfg: Config{SendQueueSize: 3, SendQueueBytes: 100}}}
	queue := func(sizes ...int) {
		c.queue, c.queuedBytes = nil, 0
		for _, n := range sizes {
			c.queue = append(c.queue, outbound{op: opText, data: make([]byte, n)})
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
