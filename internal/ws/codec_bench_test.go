package ws

import (
	"context"
	"testing"

	"github.com/gogf/gf/v2/errors/gcode"

	"github.com/gfws/template-ws/api/ws/v1"
)

// benchEcho is the shipped echo controller's method; the controller
// package itself cannot be imported here without a cycle.
type benchEcho struct{}

func (benchEcho) Echo(ctx context.Context, req *v1.EchoReq) (*v1.EchoRes, error) {
	return &v1.EchoRes{RawMessage: req.RawMessage}, nil
}

var benchRequest = []byte(`{"id":"42","event":"echo","data":{"text":"` +
	`0123456789012345678901234567890123456789012345678901234567890123"}}`)

func BenchmarkDecodeRequest(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := decodeRequest(benchRequest); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeReply(b *testing.B) {
	data := &v1.PingRes{Time: 1795318841054}
	b.ReportAllocs()
	for range b.N {
		if _, err := encodeReply([]byte(`"42"`), "ping", gcode.CodeOK, "", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRouterDispatch is one echo request through decode, routing, the
// controller and the reply's encoding. The connection is closing, so the
// reply is dropped instead of written.
func BenchmarkRouterDispatch(b *testing.B) {
	router := NewRouter()
	if err := router.Bind(benchEcho{}); err != nil {
		b.Fatal(err)
	}
	c := &Conn{server: &Server{cfg: DefaultConfig()}, ctx: context.Background(), closing: make(chan struct{})}
	close(c.closing)
	b.ReportAllocs()
	for range b.N {
		router.HandleMessage(c, false, benchRequest)
	}
}
