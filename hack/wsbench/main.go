// Command wsbench loads a WebSocket server on loopback and prints one JSON
// line of results. Modes: echo (request/reply throughput), fanout (room
// broadcast delivery), crossnode (fanout with the publisher on another
// node of a cluster), roomfill (joining thousands of members to one room,
// then fanout), recover (time to rejoin a room with the messages missed),
// handshake (connection setup rate) and idle (server memory per open
// connection).
//
//	go run ./hack/wsbench -mode echo -url ws://127.0.0.1:8000/ws -conns 100 -inflight 4
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
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
	mode, label string
	// urls are the servers members connect to, round-robin; publishURL is
	// where the publisher of fanout, crossnode and roomfill connects.
	urls       []string
	publishURL string

	conns, inflight, payload int
	members, messages, joins int
	concurrency, pid         int
	// serverPIDs are the processes whose CPU a roomfill's join phase is
	// charged: the server, or a cluster's nodes and its Redis.
	serverPIDs          []int
	duration, cpuWindow time.Duration
	rate                float64
	srcs                []net.IP
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
	case "fanout", "crossnode":
		res, err = runFanout(cfg)
	case "roomfill":
		res, err = runRoomFill(cfg)
	case "recover":
		res, err = runRecover(cfg)
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
	fs.StringVar(&cfg.mode, "mode", "", "echo, fanout, crossnode, roomfill, recover, handshake or idle")
	rawURL := fs.String("url", "", "server URL, e.g. ws://127.0.0.1:8000/ws (loopback only); fanout, crossnode and roomfill\n"+
		"take several, comma-separated, and spread the members over them round-robin")
	fs.StringVar(&cfg.publishURL, "publish-url", "", "server URL of the publisher (crossnode: required, another node; roomfill, recover: default the first -url)")
	fs.StringVar(&cfg.label, "label", "", "copied into the output as \"label\"")
	src := fs.String("src", "127.0.0.1", "comma-separated loopback source IPs, used round-robin")
	fs.IntVar(&cfg.conns, "conns", 10, "connections (echo, idle)")
	fs.IntVar(&cfg.inflight, "inflight", 1, "echo requests in flight per connection (echo)")
	fs.IntVar(&cfg.payload, "payload", 16, "payload size in bytes (echo, fanout, crossnode, roomfill, recover)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time (echo, handshake)")
	fs.IntVar(&cfg.members, "members", 100, "receiving room members (fanout, crossnode; roomfill: default 10000)")
	fs.IntVar(&cfg.messages, "messages", 100, "messages published (fanout, crossnode, recover: also missed by each join; roomfill: default 10, 0 for the join phase alone, as on nodes that share no room)")
	fs.IntVar(&cfg.joins, "joins", recoverJoins, "fresh connections that rejoin with since, one at a time (recover)")
	fs.Float64Var(&cfg.rate, "rate", 0, "publish rate in messages/s, 0 = as fast as possible (fanout, crossnode, roomfill)")
	fs.IntVar(&cfg.concurrency, "concurrency", 10, "parallel handshake loops (handshake)")
	fs.IntVar(&cfg.pid, "pid", 0, "server process id whose RSS is sampled (idle)")
	serverPIDs := fs.String("server-pids", "", "comma-separated process ids whose CPU time per join is reported (roomfill)")
	fs.DurationVar(&cfg.cpuWindow, "cpu-window", 0, "after RSS settles, also measure the server's CPU for this long, e.g. 30s (idle)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if cfg.mode == "roomfill" {
		if !given["members"] {
			cfg.members = roomFillMembers
		}
		if !given["messages"] {
			cfg.messages = roomFillMessages
		}
	}
	if err := parseURLs(cfg, *rawURL); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*src, ",") {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("-src %q: not a loopback IP", s)
		}
		cfg.srcs = append(cfg.srcs, ip)
	}
	if *serverPIDs != "" {
		for _, s := range strings.Split(*serverPIDs, ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || pid <= 0 {
				return nil, fmt.Errorf("-server-pids %q: not a process id", s)
			}
			cfg.serverPIDs = append(cfg.serverPIDs, pid)
		}
	}
	return cfg, checkMode(cfg)
}

// parseURLs checks -url and -publish-url for the mode: several member
// URLs only where members are spread over nodes, and a publisher URL only
// where there is a publisher.
func parseURLs(cfg *config, raw string) error {
	if raw == "" {
		return errors.New("-url is required")
	}
	for _, u := range strings.Split(raw, ",") {
		u = strings.TrimSpace(u)
		if err := checkURL(u); err != nil {
			return err
		}
		cfg.urls = append(cfg.urls, u)
	}
	spreads := cfg.mode == "fanout" || cfg.mode == "crossnode" || cfg.mode == "roomfill"
	if len(cfg.urls) > 1 && !spreads {
		return fmt.Errorf("-url: -mode %s takes one URL, got %d", cfg.mode, len(cfg.urls))
	}
	switch {
	case cfg.mode == "crossnode" && cfg.publishURL == "":
		return errors.New("-mode crossnode needs -publish-url, a node other than -url's")
	case cfg.mode == "crossnode" && slices.Contains(cfg.urls, cfg.publishURL):
		return fmt.Errorf("-publish-url %s is also a member URL; crossnode publishes from another node", cfg.publishURL)
	case cfg.publishURL != "" && cfg.mode != "crossnode" && cfg.mode != "roomfill" && cfg.mode != "recover":
		return fmt.Errorf("-publish-url: -mode %s has no separate publisher (crossnode, roomfill and recover do)", cfg.mode)
	case cfg.publishURL == "":
		cfg.publishURL = cfg.urls[0]
	}
	return checkURL(cfg.publishURL)
}

// checkURL refuses anything but loopback so the tool cannot be pointed at
// someone else's server.
func checkURL(raw string) error {
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
	case "fanout", "crossnode", "roomfill":
		if cfg.rate < 0 {
			return errors.New("-rate must not be negative")
		}
		if cfg.mode == "roomfill" && cfg.messages == 0 {
			return positive("members", cfg.members) // the join phase alone
		}
		return errors.Join(positive("members", cfg.members), positive("messages", cfg.messages))
	case "recover":
		return errors.Join(positive("messages", cfg.messages), positive("joins", cfg.joins))
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
// them do not run out of one address's ephemeral ports, and over the
// server URLs.
type pool struct {
	urls    []string
	ds      []*websocket.Dialer
	next    atomic.Uint64
	nextURL atomic.Uint64
	slots   chan struct{}
}

func newPool(urls []string, srcs []net.IP) *pool {
	p := &pool{urls: urls, slots: make(chan struct{}, dialParallel)}
	for _, ip := range srcs {
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
	u := p.urls[(p.nextURL.Add(1)-1)%uint64(len(p.urls))]
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	c, resp, err := d.DialContext(ctx, u, nil)
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
