// Command wsbench loads a WebSocket server on loopback and prints one JSON
// line of results. Modes: echo (request/reply throughput), fanout (room
// broadcast delivery), handshake (connection setup rate) and idle (server
// memory per open connection).
//
//	go run ./hack/wsbench -mode echo -url ws://127.0.0.1:8000/ws -conns 100 -inflight 4
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

const (
	dialTimeout   = 30 * time.Second
	dialParallel  = 64
	writeTimeout  = 10 * time.Second
	closeTimeout  = time.Second
	welcomeEvent  = "welcome"
	benchRoom     = "bench"
	fanoutTimeout = 60 * time.Second
)

type config struct {
	mode, url, label string

	conns, inflight, payload int
	members, messages        int
	concurrency, pid         int
	duration                 time.Duration
	rate                     float64
	srcs                     []net.IP
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(2)
	}
	var res any
	switch cfg.mode {
	case "echo":
		res, err = runEcho(cfg)
	case "fanout":
		res, err = runFanout(cfg)
	case "handshake":
		res, err = runHandshake(cfg)
	case "idle":
		res, err = runIdle(cfg)
	}
	// A run that measured something but saw errors still prints its line,
	// so the caller can see how bad it was, and then fails.
	if res != nil {
		line, merr := json.Marshal(res)
		if merr != nil {
			fmt.Fprintln(os.Stderr, "wsbench:", merr)
			os.Exit(1)
		}
		fmt.Println(string(line))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("wsbench", flag.ContinueOnError)
	fs.StringVar(&cfg.mode, "mode", "", "echo, fanout, handshake or idle")
	fs.StringVar(&cfg.url, "url", "", "server URL, e.g. ws://127.0.0.1:8000/ws (loopback only)")
	fs.StringVar(&cfg.label, "label", "", "copied into the output as \"label\"")
	src := fs.String("src", "127.0.0.1", "comma-separated loopback source IPs, used round-robin")
	fs.IntVar(&cfg.conns, "conns", 10, "connections (echo, idle)")
	fs.IntVar(&cfg.inflight, "inflight", 1, "echo requests in flight per connection (echo)")
	fs.IntVar(&cfg.payload, "payload", 16, "payload size in bytes (echo, fanout)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time (echo, handshake)")
	fs.IntVar(&cfg.members, "members", 100, "receiving room members (fanout)")
	fs.IntVar(&cfg.messages, "messages", 100, "messages published (fanout)")
	fs.Float64Var(&cfg.rate, "rate", 0, "publish rate in messages/s, 0 = as fast as possible (fanout)")
	fs.IntVar(&cfg.concurrency, "concurrency", 10, "parallel handshake loops (handshake)")
	fs.IntVar(&cfg.pid, "pid", 0, "server process id whose RSS is sampled (idle)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := checkURL(cfg.url); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*src, ",") {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("-src %q: not a loopback IP", s)
		}
		cfg.srcs = append(cfg.srcs, ip)
	}
	return cfg, checkMode(cfg)
}

// checkURL refuses anything but loopback so the tool cannot be pointed at
// someone else's server.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("-url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("-url %q: scheme must be ws or wss", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-url %q: host must be 127.x.x.x, localhost or ::1", raw)
}

func checkMode(cfg *config) error {
	positive := func(name string, v int) error {
		if v < 1 {
			return fmt.Errorf("-%s must be at least 1", name)
		}
		return nil
	}
	if cfg.payload < 0 {
		return errors.New("-payload must not be negative")
	}
	switch cfg.mode {
	case "echo":
		if cfg.duration <= 0 {
			return errors.New("-duration must be positive")
		}
		return errors.Join(positive("conns", cfg.conns), positive("inflight", cfg.inflight))
	case "fanout":
		if cfg.rate < 0 {
			return errors.New("-rate must not be negative")
		}
		return errors.Join(positive("members", cfg.members), positive("messages", cfg.messages))
	case "handshake":
		if cfg.duration <= 0 {
			return errors.New("-duration must be positive")
		}
		return positive("concurrency", cfg.concurrency)
	case "idle":
		return errors.Join(positive("conns", cfg.conns), positive("pid", cfg.pid))
	case "":
		return errors.New("-mode is required")
	}
	return fmt.Errorf("unknown -mode %q", cfg.mode)
}

// pool spreads connections over the source IPs so that many thousands of
// them do not run out of one address's ephemeral ports.
type pool struct {
	url   string
	ds    []*websocket.Dialer
	next  atomic.Uint64
	slots chan struct{}
}

func newPool(cfg *config) *pool {
	p := &pool{url: cfg.url, slots: make(chan struct{}, dialParallel)}
	for _, ip := range cfg.srcs {
		nd := &net.Dialer{Timeout: dialTimeout, LocalAddr: &net.TCPAddr{IP: ip}, Control: loopbackOnly}
		p.ds = append(p.ds, &websocket.Dialer{
			NetDialContext:   nd.DialContext,
			HandshakeTimeout: dialTimeout,
			ReadBufferSize:   1024,
			WriteBufferSize:  1024,
		})
	}
	return p
}

// loopbackOnly runs on the resolved address, so a "localhost" that
// resolves elsewhere is still refused before any packet is sent.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to dial non-loopback address %s", address)
	}
	return nil
}

// dial opens one connection and consumes its welcome push. limited dials
// share the pool's slots, since servers can be slow to accept thousands of
// connections at once.
func (p *pool) dial(limited bool) (*websocket.Conn, error) {
	if limited {
		p.slots <- struct{}{}
		defer func() { <-p.slots }()
	}
	d := p.ds[(p.next.Add(1)-1)%uint64(len(p.ds))]
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	c, resp, err := d.DialContext(ctx, p.url, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, err
	}
	if err := readWelcome(c); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func readWelcome(c *websocket.Conn) error {
	if err := c.SetReadDeadline(time.Now().Add(dialTimeout)); err != nil {
		return err
	}
	_, b, err := c.ReadMessage()
	if err != nil {
		return fmt.Errorf("reading welcome: %w", err)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil || env.Event != welcomeEvent {
		return fmt.Errorf("first frame is not a welcome push: %.200s", b)
	}
	return c.SetReadDeadline(time.Time{})
}

// dialAll runs fn for 0..n-1 on dialParallel workers and stops handing out
// work at the first error.
func dialAll(n int, fn func(i int) error) error {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for range min(n, dialParallel) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				mu.Lock()
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// closeConn says goodbye properly but never waits long for a busy peer.
func closeConn(c *websocket.Conn) {
	if c == nil {
		return
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeTimeout))
	_ = c.Close()
}

type envelope struct {
	ID      string          `json:"id"`
	Event   string          `json:"event"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// readFrame reuses buf so that hot read loops do not allocate per frame.
// The returned slice is valid until the next call.
func readFrame(c *websocket.Conn, buf *bytes.Buffer) ([]byte, error) {
	_, r, err := c.NextReader()
	if err != nil {
		return nil, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(r)
	return buf.Bytes(), err
}

var (
	patID   = []byte(`"id":"`)
	patCode = []byte(`"code":`)
	patRoom = []byte(`"room":"`)
	patText = []byte(`"text":"`)
)

// strAfter reads the string value following pat. The hot paths use it
// instead of encoding/json because the client shares the CPU with the
// server it measures; anything unusual (escapes) makes it give up so the
// caller can fall back to encoding/json.
func strAfter(b, pat []byte) ([]byte, bool) {
	i := bytes.Index(b, pat)
	if i < 0 {
		return nil, false
	}
	rest := b[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return nil, false
	}
	return rest[:j], true
}

func intAfter(b, pat []byte) (int, bool) {
	i := bytes.Index(b, pat)
	if i < 0 {
		return 0, false
	}
	rest := b[i+len(pat):]
	j := 0
	for j < len(rest) && (rest[j] == '-' || rest[j] >= '0' && rest[j] <= '9') {
		j++
	}
	n, err := strconv.Atoi(string(rest[:j]))
	return n, err == nil
}

// roomText returns the text of a room.message push for the bench room.
func roomText(b []byte) ([]byte, bool) {
	if !bytes.Contains(b, roomMarker) {
		return nil, false
	}
	if bytes.Contains(b, roomEventExact) {
		room, okRoom := strAfter(b, patRoom)
		text, okText := strAfter(b, patText)
		if okRoom && okText {
			return text, string(room) == benchRoom
		}
	}
	var env envelope
	if json.Unmarshal(b, &env) != nil || env.Event != "room.message" {
		return nil, false
	}
	var data struct{ Room, Text string }
	if json.Unmarshal(env.Data, &data) != nil || data.Room != benchRoom {
		return nil, false
	}
	return []byte(data.Text), true
}

func parseText(text []byte) (seq int, ts int64, ok bool) {
	parts := bytes.SplitN(text, []byte(":"), 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	seq, err1 := strconv.Atoi(string(parts[0]))
	ts, err2 := strconv.ParseInt(string(parts[1]), 10, 64)
	return seq, ts, err1 == nil && err2 == nil
}
