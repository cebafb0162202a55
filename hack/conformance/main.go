// Command conformance serves the template's own WebSocket transport (the
// handshake, Conn, reader, writer, close handling and UTF-8 checks of
// internal/ws) on ghttp, echoing every text and binary message verbatim,
// so that external suites such as the Autobahn TestSuite's fuzzing client
// test the code path the template runs. See README.md beside it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gogf/gf/v2/net/ghttp"

	"github.com/gfws/template-ws/internal/ws"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	compression := flag.Bool("compression", false, "offer permessage-deflate")
	flag.Parse()
	_, err := serve(*addr, *compression)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("echoing WebSocket messages on ws://%s/ (compression %v)\n", *addr, *compression)
	ghttp.Wait()
}

// serve starts the echo server on addr.
func serve(addr string, compression bool) (*echoServer, error) {
	cfg := ws.DefaultConfig()
	cfg.MaxMessageSize = 16 << 20
	cfg.Compression = compression
	cfg.AllowedOrigins = []string{"*"}
	cfg.RateLimit = 0
	cfg.MaxConnections = 0
	// The suite sends bursts of thousands of messages and large ones;
	// only a client that stops reading should overflow.
	cfg.SendQueueSize = 1 << 20
	cfg.SendQueueBytes = 256 << 20
	transport := ws.NewServer(cfg, "conformance", ws.Echo{}, ws.Hooks{})
	s := ghttp.GetServer("conformance")
	if err := s.SetConfigWithMap(map[string]any{"address": addr, "dumpRouterMap": false}); err != nil {
		return nil, err
	}
	s.BindHandler("/*", transport.Handle)
	if err := s.Start(); err != nil {
		return nil, err
	}
	return &echoServer{Server: s, transport: transport}, nil
}

// echoServer is the running server.
type echoServer struct {
	*ghttp.Server
	transport *ws.Server
}
