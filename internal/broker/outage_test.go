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
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
	relays sync.WaitGroup
	// writes counts the writes the node made to Redis through the link:
	// a round trip each, at least, unless pipelined.
	writes atomic.Int64
}

func startLink(t *testing.T, target string) *link {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &link{ln: ln, target: target}
	l.relays.Add(1)
	go func() {
		defer l.relays.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.relay(c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		l.cut()
		l.relays.Wait()
	})
	return l
}

func (l *link) relay(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		_ = c.Close()
		return
	}
	s, err := net.Dial("tcp", l.target)
	if err != nil {
		_ = c.Close()
		return
	}
	l.conns = append(l.conns, c, s)
	for _, pair := range [][2]net.Conn{{s, c}, {c, s}} {
		l.relays.Add(1)
		go func(to, from net.Conn) {
			defer l.relays.Done()
			if from == c {
				from = countingConn{c, &l.writes}
			}
			_, _ = io.Copy(to, from)
			_ = to.Close()
			_ = from.Close()
		}(pair[0], pair[1])
	}
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

func (l *link) addr() string { return l.ln.Addr().String() }

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
