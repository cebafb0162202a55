package broker_test

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// A user who leaves while Redis is out of reach does not stay counted
// once it is back: the room is restored with the node's users there,
// none, although the node no longer has it.
func TestALeaveDuringAnOutageIsMadeGoodAfter(t *testing.T) {
	redis := wstest.StartRedis(t)
	link := startLink(t, redis.Addr())
	a := newBrokerThrough(t, link.addr(), "a", nil)
	b := newRedisBrokerTTL(t, redis, testPrefix, "b", time.Minute, nil)
	join(t, a, "r", "ann")
	link.cut()
	wstest.WaitFor(t, "a to notice the outage", func() bool { return !a.Ready() })
	a.UnwatchRoom("r")
	if _, err := a.Apply(context.Background(), []broker.Change{{Room: "r", User: "ann"}}); err == nil {
		t.Fatal("a leave during the outage reported no error")
	}
	link.mend()
	wstest.WaitFor(t, "ann's leave to reach Redis", func() bool {
		n, err := b.Count(context.Background(), "r")
		return err == nil && n.Users == 0
	})
}

// link is a TCP relay to Redis that can be cut and mended, as a network
// between a node and Redis can.
type link struct {
	address string
	mu      sync.Mutex
	conns   []net.Conn
	down    bool
	// writes counts the writes the node made to Redis through the link:
	// a round trip each, at least, unless pipelined.
	writes atomic.Int64
}

func startLink(t *testing.T, target string) *link {
	l := &link{}
	l.address = wstest.Relay(t, target, l.send, func(to, from net.Conn) { _, _ = io.Copy(to, from) })
	t.Cleanup(l.cut)
	return l
}

// send relays what the node sends, counting its writes; while the link is
// cut it closes the connection at once.
func (l *link) send(to, from net.Conn) {
	l.mu.Lock()
	if l.down {
		l.mu.Unlock()
		_ = from.Close()
		return
	}
	l.conns = append(l.conns, from, to)
	l.mu.Unlock()
	_, _ = io.Copy(to, countingConn{from, &l.writes})
	_ = from.Close()
}

// countingConn counts the reads that bring something.
type countingConn struct {
	net.Conn
	reads *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

func (l *link) addr() string { return l.address }

// cut closes every relayed connection and refuses new ones.
func (l *link) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = true
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
}

func (l *link) mend() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = false
}
