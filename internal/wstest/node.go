package wstest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gogf/gf/v2/util/guid"

	"github.com/gfws/template-ws/internal/cmd"
)

// lifecycle serialises creating, starting and stopping ghttp servers:
// ghttp.Server.SetConfig writes package-level state, so parallel tests
// would race inside the framework.
var lifecycle sync.Mutex

// Node is a running template-ws node on a free loopback port.
type Node struct {
	App         *cmd.App
	HTTPURL     string // http://127.0.0.1:port
	WSURL       string // ws://127.0.0.1:port/ws
	FastCGIAddr string // where FastCGI listens, "" when off

	stopOnce sync.Once
}

// Start runs a node with the shipped config plus overrides and stops it
// when the test ends.
func Start(t testing.TB, overrides map[string]any) *Node {
	t.Helper()
	// A FastCGI listener on a port of the node's own choice would be
	// unknown to the test: choose it here.
	fastCGI, _ := overrides["fastcgi.address"].(string)
	if fastCGI == "127.0.0.1:0" {
		fastCGI = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
		overrides = Merge(overrides, map[string]any{"fastcgi.address": fastCGI})
	}
	path, _ := overrides["ws.path"].(string)
	if path == "" {
		path = "/ws"
	}
	cfg := Config(t, overrides)
	lifecycle.Lock()
	defer lifecycle.Unlock()
	app, err := cmd.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatalf("start node: %v", err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", app.HTTP.GetListenedPort())
	n := &Node{App: app, HTTPURL: base, WSURL: "ws" + base[len("http"):] + path, FastCGIAddr: fastCGI}
	t.Cleanup(func() { n.Stop(t) })
	return n
}

// Stop drains the node's connections and stops its HTTP server. Calling it
// again does nothing.
func (n *Node) Stop(t testing.TB) {
	n.stopOnce.Do(func() {
		n.App.Drain(ShutdownContext(t))
		lifecycle.Lock()
		defer lifecycle.Unlock()
		n.App.Shutdown()
	})
}

// Serve runs a bare ghttp server set up by routes on a free loopback port
// and returns its base URL, for tests that wire the transport themselves.
func Serve(t testing.TB, routes func(s *ghttp.Server)) string {
	t.Helper()
	lifecycle.Lock()
	defer lifecycle.Unlock()
	s := ghttp.GetServer("wstest-" + guid.S())
	if err := s.SetConfigWithMap(map[string]any{
		"address":       "127.0.0.1:0",
		"dumpRouterMap": false,
	}); err != nil {
		t.Fatal(err)
	}
	routes(s)
	if err := s.Start(); err != nil {
		t.Fatalf("start http server: %v", err)
	}
	if err := cmd.AwaitServing(s); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", s.GetListenedPort())
	t.Cleanup(func() {
		lifecycle.Lock()
		defer lifecycle.Unlock()
		_ = s.Shutdown()
	})
	return base
}
