package broker_test

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// A node's pipeline keeps its order on a Redis that knows none of its
// scripts yet, as after Redis restarts, even when another node loads a
// script while Redis is halfway through the pipeline: two appends of one
// sender, sent in one pipeline, take their offsets in the order sent.
func TestAPipelineKeepsItsOrderWhileAnotherNodeLoadsTheScripts(t *testing.T) {
	redis := wstest.StartRedis(t)
	relay := startPausingRelay(t, redis.Addr())
	a := newBrokerThrough(t, relay.addr(), "a", nil)
	ctx := context.Background()

	// The writer's pipeline of one publish waits at the relay, so that
	// the two appends queued meanwhile go out together in the next one.
	gate := relay.pause(nil, "publish", 1)
	if err := a.Publish(ctx, broker.Message{Kind: broker.ToUser, Target: "nobody", Frame: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	wstest.WaitFor(t, "the publish to wait at the relay", gate.waiting)
	offsets := make([]chan uint64, 2)
	for i := range offsets {
		offsets[i] = make(chan uint64, 1)
		go func() {
			offset, err := a.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(strconv.Itoa(i))})
			if err != nil {
				t.Error(err)
			}
			offsets[i] <- offset
		}()
		wstest.WaitFor(t, "append "+strconv.Itoa(i)+" to queue", func() bool { return a.Queued() == i+1 })
	}
	// Redis runs the first append, then the relay waits before the
	// second while another node loads the scripts.
	split := relay.pause(nil, "evalsha", 2)
	gate.release()
	wstest.WaitFor(t, "Redis to answer the first append", split.answered)
	b := newRedisBroker(t, redis, testPrefix, "b", nil)
	if _, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "elsewhere", Frame: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	split.release()
	first, second := <-offsets[0], <-offsets[1]
	if first != 1 || second != 2 {
		t.Fatalf("the appends sent first and second took offsets %d and %d, want 1 and 2", first, second)
	}
}

// pausingRelay relays connections to Redis and can pause what one of them
// sends just before a given command: a way to have Redis run part of a
// pipeline, then another client's commands, then the rest.
type pausingRelay struct {
	address string
	mu      sync.Mutex
	current *relayPause
}

// relayPause is one pause: before the nth command named word that conn
// (nil: any connection) sends after the pause was asked for.
type relayPause struct {
	relay    *pausingRelay
	word     []byte // the command's name as sent, with its length line
	left     int    // commands named word still to let through first
	conn     net.Conn
	released chan struct{}
	paused   bool
	replies  bool // Redis answered conn while it was paused
}

func startPausingRelay(t *testing.T, target string) *pausingRelay {
	r := &pausingRelay{}
	r.address = wstest.Relay(t, target, r.forward, r.answer)
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if p := r.current; p != nil && p.paused {
			close(p.released)
			r.current = nil
		}
	})
	return r
}

func (r *pausingRelay) addr() string { return r.address }

// pause asks for a pause before the nth command named word that conn (nil:
// any) sends from now on.
func (r *pausingRelay) pause(conn net.Conn, word string, nth int) *relayPause {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.current = &relayPause{
		relay: r, word: []byte("\r\n$" + strconv.Itoa(len(word)) + "\r\n" + word + "\r\n"),
		left: nth - 1, conn: conn, released: make(chan struct{}),
	}
	return r.current
}

func (p *relayPause) waiting() bool {
	p.relay.mu.Lock()
	defer p.relay.mu.Unlock()
	return p.paused
}

func (p *relayPause) answered() bool {
	p.relay.mu.Lock()
	defer p.relay.mu.Unlock()
	return p.replies
}

// release lets the paused connection go on; it was the relay's current
// pause, or another has been asked for since.
func (p *relayPause) release() {
	p.relay.mu.Lock()
	defer p.relay.mu.Unlock()
	if p.relay.current == p {
		p.relay.current = nil
	}
	close(p.released)
}

// forward copies what the client sends to Redis, stopping at the pause.
func (r *pausingRelay) forward(to, from net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := from.Read(buf)
		for chunk := buf[:n]; len(chunk) > 0; {
			at, released := r.pauseIn(from, chunk)
			if _, err := to.Write(chunk[:at]); err != nil {
				return
			}
			if released == nil {
				break
			}
			<-released
			chunk = chunk[at:]
		}
		if err != nil {
			return
		}
	}
}

// pauseIn returns where in chunk from must pause and what lets it go on,
// or len(chunk) and nil.
func (r *pausingRelay) pauseIn(from net.Conn, chunk []byte) (int, chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.current
	if p == nil || p.paused || (p.conn != nil && p.conn != from) {
		return len(chunk), nil
	}
	for seen := 0; ; {
		i := bytes.Index(chunk[seen:], p.word)
		if i < 0 {
			return len(chunk), nil
		}
		name := seen + i
		if p.left > 0 {
			p.left--
			seen = name + len(p.word)
			continue
		}
		// The command starts at its array header, the line before its name.
		p.paused, p.conn = true, from
		return bytes.LastIndexByte(chunk[:name], '*'), p.released
	}
}

// answer copies Redis's replies to the client, noting those that reach a
// paused connection.
func (r *pausingRelay) answer(to, from net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			r.mu.Lock()
			if p := r.current; p != nil && p.paused && p.conn == to {
				p.replies = true
			}
			r.mu.Unlock()
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
