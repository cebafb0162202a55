package cmd_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"

	"github.com/gfws/template-ws/internal/edge"
	"github.com/gfws/template-ws/internal/wstest"
)

// rawConn is a TCP connection to a node from the loopback address src
// ("" for any), for requests sent by hand.
type rawConn struct {
	net.Conn
	r *bufio.Reader
	t *testing.T
}

func dialRaw(t *testing.T, node *wstest.Node, src string) *rawConn {
	t.Helper()
	dialer := net.Dialer{Timeout: wstest.Timeout}
	if src != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	conn, err := dialer.Dial("tcp", strings.TrimPrefix(node.HTTPURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{Conn: conn, r: bufio.NewReader(conn), t: t}
}

// get sends a whole GET for path and returns the response.
func (c *rawConn) get(path string) (*http.Response, string) {
	c.t.Helper()
	_ = c.SetDeadline(time.Now().Add(wstest.Timeout))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: node\r\n\r\n", path); err != nil {
		c.t.Fatal(err)
	}
	return c.response()
}

func (c *rawConn) response() (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// trickle sends a request header one byte every 100ms, as a slowloris
// client does, and returns how long the node kept the connection open.
// The header never ends within the test's time.
func (c *rawConn) trickle() time.Duration {
	c.t.Helper()
	start := time.Now()
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		header := "GET /healthz HTTP/1.1\r\nHost: node\r\nX-Slow: " + strings.Repeat("a", 1000)
		for i := 0; i < len(header); i++ {
			if _, err := c.Write([]byte{header[i]}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	// The node may answer 400 before it closes, as net/http does for a
	// header cut off mid-line.
	_ = c.SetReadDeadline(time.Now().Add(wstest.Timeout))
	_, err := io.Copy(io.Discard, c.r)
	elapsed := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatalf("the node still held the trickling connection after %s", elapsed)
	}
	_ = c.Close() // ends the trickle
	return elapsed
}

func TestReadHeaderTimeoutCutsSlowHeadersOnly(t *testing.T) {
	node := wstest.Start(t, map[string]any{"server.readHeaderTimeout": "1s"})
	const limit = time.Second + 2*time.Second // the timeout plus slack for a loaded machine

	if held := dialRaw(t, node, "").trickle(); held > limit {
		t.Errorf("a trickled first header held its connection %s", held)
	}

	// The time between two requests of a keep-alive connection is idle
	// time, not header time; the next header gets the same bound.
	c := dialRaw(t, node, "")
	if resp, _ := c.get("/healthz"); resp.StatusCode != 200 {
		t.Fatalf("first request: %d", resp.StatusCode)
	}
	time.Sleep(1500 * time.Millisecond)
	if resp, _ := c.get("/healthz"); resp.StatusCode != 200 {
		t.Fatalf("request after 1.5s of keep-alive idle: %d", resp.StatusCode)
	}
	if held := c.trickle(); held > limit {
		t.Errorf("a trickled keep-alive header held its connection %s", held)
	}

	// A WebSocket is past its header: its transport keeps its own deadlines.
	ws, _ := wstest.DialWelcome(t, node.WSURL, nil)
	time.Sleep(1500 * time.Millisecond)
	if r := ws.Call("1", "echo", "still here"); r.CodeOf(t) != 0 {
		t.Fatalf("echo after 1.5s: %+v", r)
	}
}

func TestHeaderWaitsPerAddressAreCapped(t *testing.T) {
	// 127.0.0.1 stays a trusted proxy, not counted; other loopback
	// addresses stand for clients on other hosts.
	node := wstest.Start(t, map[string]any{
		"server.readHeaderTimeout": "30s",
		"server.trustedProxies":    []string{"127.0.0.1/32"},
	})
	waiting := make([]*rawConn, edge.MaxHeaderWaitsPerAddress)
	for i := range waiting {
		waiting[i] = dialRaw(t, node, "127.0.0.2")
	}
	// Accepted in order: the node has counted every waiting connection by
	// the time it accepts this one.
	over := dialRaw(t, node, "127.0.0.2")
	_ = over.SetDeadline(time.Now().Add(wstest.Timeout))
	resp, body := over.response()
	var refusal ghttp.DefaultHandlerResponse
	if err := json.Unmarshal([]byte(body), &refusal); err != nil || resp.StatusCode != 429 || refusal.Code != 63 ||
		!strings.Contains(refusal.Message, fmt.Sprintf("at most %d", edge.MaxHeaderWaitsPerAddress)) {
		t.Fatalf("connection over the cap: %d %s", resp.StatusCode, body)
	}
	if resp, _ := dialRaw(t, node, "127.0.0.3").get("/healthz"); resp.StatusCode != 200 {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
	for range edge.MaxHeaderWaitsPerAddress + 1 {
		dialRaw(t, node, "127.0.0.1")
	}
	if resp, _ := dialRaw(t, node, "127.0.0.1").get("/healthz"); resp.StatusCode != 200 {
		t.Fatalf("a trusted proxy with many connections waiting: %d", resp.StatusCode)
	}

	// A connection whose header arrived, or that closed, no longer counts.
	if resp, _ := waiting[0].get("/healthz"); resp.StatusCode != 200 {
		t.Fatalf("a waiting connection's request: %d", resp.StatusCode)
	}
	dialRaw(t, node, "127.0.0.2") // takes the freed place
	if status := getFrom(node, "127.0.0.2"); status != 429 {
		t.Fatalf("over the cap again: %d", status)
	}
	waiting[1].Close()
	wstest.WaitFor(t, "a closed waiting connection to free its place", func() bool {
		return getFrom(node, "127.0.0.2") == 200
	})
}

// The cap holds for kept-alive connections too: finishing a request on
// each first does not let a client hold more in their header phase.
func TestHeaderWaitsOfKeptAliveConnectionsAreCapped(t *testing.T) {
	node := wstest.Start(t, map[string]any{
		"server.readHeaderTimeout": "30s",
		"server.trustedProxies":    []string{"127.0.0.1/32"},
	})
	conns := make([]*rawConn, edge.MaxHeaderWaitsPerAddress+1)
	for i := range conns {
		conns[i] = dialRaw(t, node, "127.0.0.2")
		if resp, _ := conns[i].get("/healthz"); resp.StatusCode != 200 {
			t.Fatalf("connection %d's first request: %d", i, resp.StatusCode)
		}
	}
	// Every one begins its next header; one is over the cap, whichever
	// the node reads last. The others wait for the rest of their header.
	statuses := make(chan int, len(conns))
	for _, c := range conns {
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nX-Slow: a"); err != nil {
			t.Fatal(err)
		}
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			resp, err := http.ReadResponse(c.r, nil)
			if err != nil {
				statuses <- 0 // still waiting
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	refused := 0
	for range conns {
		switch status := <-statuses; status {
		case 0:
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Errorf("a second header cut short got %d", status)
		}
	}
	if refused != 1 {
		t.Fatalf("%d of %d kept-alive connections refused, want the one over the cap of %d", refused, len(conns), edge.MaxHeaderWaitsPerAddress)
	}
}

// getFrom sends GET /healthz on a new connection from src and returns the
// status, or 0 when the connection failed.
func getFrom(node *wstest.Node, src string) int {
	dialer := net.Dialer{Timeout: wstest.Timeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	conn, err := dialer.Dial("tcp", strings.TrimPrefix(node.HTTPURL, "http://"))
	if err != nil {
		return 0
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(wstest.Timeout))
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n"); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
