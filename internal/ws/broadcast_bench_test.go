package ws_test

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gogf/gf/v2/os/glog"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// countingClients dials n clients to a bare transport and counts the bytes
// they receive after the welcome, reading raw TCP so that the clients
// allocate nothing per message. It returns the server-side connections.
func countingClients(b *testing.B, n int) ([]*ws.Conn, *atomic.Int64) {
	b.Helper()
	var mu sync.Mutex
	var conns []*ws.Conn
	cfg := ws.DefaultConfig()
	cfg.RateLimit = 0
	cfg.MaxConnections = 0
	srv := ws.NewServer(cfg, "bench", ws.NewRouter(), ws.Hooks{OnOpen: func(c *ws.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}})
	// A benchmark reports on stdout, a line per benchmark: the server's
	// and the connections' log lines would split it.
	quiet := glog.New()
	quiet.SetStdoutPrint(false)
	glog.SetStdoutPrint(false)
	b.Cleanup(func() { glog.SetStdoutPrint(true) })
	base := wstest.Serve(b, func(s *ghttp.Server) {
		s.SetLogger(quiet)
		s.BindHandler("/ws", srv.Handle)
	})
	b.Cleanup(func() { srv.Drain(wstest.ShutdownContext(b)) })
	received := &atomic.Int64{}
	for range n {
		c, _ := wstest.DialWelcome(b, "ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
		go func() {
			buf := make([]byte, 32<<10)
			for {
				k, err := c.UnderlyingConn().Read(buf)
				received.Add(int64(k))
				if err != nil {
					return
				}
			}
		}()
	}
	wstest.WaitFor(b, "every client to be registered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(conns) == n
	})
	return conns, received
}

var benchFrame = []byte(`{"event":"room.message","data":{"room":"bench","from":"u1","text":"` +
	strings.Repeat("x", 64) + `","ts":1795318841054}}`)

// frameSize is what one server frame of benchFrame costs on the wire: a
// 4-byte header for payloads of 126 to 65535 bytes.
var frameSize = int64(4 + len(benchFrame))

// BenchmarkBroadcast1000 sends one frame, encoded once, to 1,000
// connections and waits until every client has it. allocs/op is per
// broadcast.
func BenchmarkBroadcast1000(b *testing.B) {
	const members = 1000
	conns, received := countingClients(b, members)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		frame := ws.NewFrame(benchFrame)
		for _, c := range conns {
			c.SendFrame(frame)
		}
		want := int64(i+1) * members * frameSize
		for received.Load() < want {
			runtime.Gosched() // the wait is part of the measured delivery
		}
	}
}

// BenchmarkWriterSteadyState queues frames for one connection as fast as
// its writer drains them; allocs/op is per message and should be zero.
func BenchmarkWriterSteadyState(b *testing.B) {
	conns, received := countingClients(b, 1)
	frame := ws.NewFrame(benchFrame)
	c := conns[0]
	const window = 64 // stay under the send queue limit
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for int64(i)-received.Load()/frameSize >= window {
			runtime.Gosched()
		}
		if !c.SendFrame(frame) {
			b.Fatalf("the connection closed at message %d of %d", i, b.N)
		}
	}
	for received.Load() < int64(b.N)*frameSize {
		runtime.Gosched()
	}
}
