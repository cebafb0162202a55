package cmd_test

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// redisRelay relays a node's connections to Redis and can hold a
// connection's commands, from the first that names a given word (a
// command, or a script's operation) on, until told to let them go: a
// way to have one of the node's calls reach Redis after another.
type redisRelay struct {
	address string
	mu      sync.Mutex
	holds   map[string]*relayHold // by the word a held command names, as sent
	counted []byte                // what seen counts
	seen    int                   // the commands that named counted
}

// relayHold is one word's hold.
type relayHold struct {
	released chan struct{}
	waiting  bool // a connection waits at it
}

func startRedisRelay(t *testing.T, target string) *redisRelay {
	r := &redisRelay{holds: make(map[string]*relayHold)}
	r.address = wstest.Relay(t, target, r.forward, func(to, from net.Conn) { _, _ = io.Copy(to, from) })
	t.Cleanup(r.release)
	return r
}

// forward copies what a node sends to Redis, waiting at a held word.
func (r *redisRelay) forward(to, from net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			r.mu.Lock()
			if r.counted != nil {
				r.seen += bytes.Count(bytes.ToLower(buf[:n]), r.counted)
			}
			var held chan struct{}
			for word, h := range r.holds {
				if bytes.Contains(bytes.ToLower(buf[:n]), []byte(word)) {
					h.waiting, held = true, h.released
					break
				}
			}
			r.mu.Unlock()
			if held != nil {
				<-held
			}
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// count starts counting the commands that name word, as hold names it.
func (r *redisRelay) count(word string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counted, r.seen = []byte(relayWord(word)), 0
}

// named returns how many commands named the word given to count since.
func (r *redisRelay) named() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen
}

func (r *redisRelay) addr() string { return r.address }

// hold holds the next commands that name word, as an argument of their
// own, and those sent after them on the same connection, until release or
// let; other words' holds stand.
func (r *redisRelay) hold(word string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holds[relayWord(word)] = &relayHold{released: make(chan struct{})}
}

func relayWord(word string) string { return "\r\n" + word + "\r\n" }

// holding reports whether a connection waits at the relay.
func (r *redisRelay) holding() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.holds {
		if h.waiting {
			return true
		}
	}
	return false
}

// holdingAt reports whether a connection waits at word's hold.
func (r *redisRelay) holdingAt(word string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.holds[relayWord(word)]
	return h != nil && h.waiting
}

// let releases word's hold alone.
func (r *redisRelay) let(word string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.holds[relayWord(word)]; h != nil {
		close(h.released)
		delete(r.holds, relayWord(word))
	}
}

// release releases every hold.
func (r *redisRelay) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for word, h := range r.holds {
		close(h.released)
		delete(r.holds, word)
	}
}
