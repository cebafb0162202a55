package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	joinTimeout   = 30 * time.Second
	rssInterval   = 500 * time.Millisecond
	rssMaxWait    = 20 * time.Second
	idleReadSlack = 30 * time.Second
)

type fanoutResult struct {
	Mode             string  `json:"mode"`
	Members          int     `json:"members"`
	Messages         int     `json:"messages"`
	Deliveries       int64   `json:"deliveries"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	P50ms            float64 `json:"p50_ms"`
	P99ms            float64 `json:"p99_ms"`
	Label            string  `json:"label,omitempty"`
}

// member is one room connection. Its reader owns every field below c until
// it has sent the member on results, after which main owns them.
type member struct {
	c       *websocket.Conn
	joinID  string
	joined  chan error
	expect  int
	results chan<- *member

	next   int
	lat    []int64
	doneAt time.Time
	err    error
}

var (
	roomMarker     = []byte(`room.message`)
	roomEventExact = []byte(`"event":"room.message"`)
)

func runFanout(cfg *config) (any, error) {
	p := newPool(cfg)
	members := make([]*member, cfg.members)
	results := make(chan *member, cfg.members)
	var (
		closing   atomic.Bool
		delivered atomic.Int64
		readers   sync.WaitGroup
		pub       *member
	)
	cleanup := func() {
		closing.Store(true)
		for _, m := range members {
			if m != nil {
				closeConn(m.c)
			}
		}
		if pub != nil {
			closeConn(pub.c)
		}
		readers.Wait()
	}
	join := func(name string, expect int, out chan<- *member) (*member, error) {
		c, err := p.dial(true)
		if err != nil {
			return nil, err
		}
		m := &member{c: c, joinID: "join-" + name, joined: make(chan error, 1), expect: expect, results: out}
		if expect > 0 {
			m.lat = make([]int64, 0, expect)
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			m.read(&closing, &delivered)
		}()
		frame := fmt.Sprintf(`{"id":%q,"event":"room.join","data":{"room":%q}}`, m.joinID, benchRoom)
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			return m, fmt.Errorf("sending room.join: %w", err)
		}
		select {
		case err := <-m.joined:
			return m, err
		case <-time.After(joinTimeout):
			return m, errors.New("no room.join reply within " + joinTimeout.String())
		}
	}
	err := dialAll(cfg.members, func(i int) error {
		m, err := join(strconv.Itoa(i), cfg.messages, results)
		members[i] = m
		return err
	})
	if err == nil {
		// The publisher joins last so that it is not sent every member's
		// join notice.
		pub, err = join("publisher", 0, nil)
	}
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("setup: %w", err)
	}

	deadline := time.Now().Add(fanoutTimeout)
	if cfg.rate > 0 {
		deadline = deadline.Add(time.Duration(float64(cfg.messages) / cfg.rate * float64(time.Second)))
	}
	for _, m := range append([]*member{pub}, members...) {
		_ = m.c.SetReadDeadline(deadline.Add(5 * time.Second))
	}
	first := time.Now()
	pubErr := make(chan error, 1)
	go func() { pubErr <- publish(pub.c, cfg, first, deadline) }()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var (
		done    int
		last    time.Time
		failure error
	)
	pubErrs := (<-chan error)(pubErr)
	for done < cfg.members && failure == nil {
		select {
		case m := <-results:
			if m.err != nil {
				failure = m.err
			} else if done++; m.doneAt.After(last) {
				last = m.doneAt
			}
		case err := <-pubErrs:
			pubErrs = nil
			if err != nil {
				failure = fmt.Errorf("publisher: %w", err)
			}
		case <-timer.C:
			failure = fmt.Errorf("deadline %s passed", deadline.Sub(first).Round(time.Second))
		}
	}
	if failure != nil {
		got := delivered.Load()
		cleanup()
		return nil, fmt.Errorf("%v; %d of %d members got every message, %d of %d deliveries arrived",
			failure, done, cfg.members, got, int64(cfg.members)*int64(cfg.messages))
	}
	cleanup()

	res := &fanoutResult{Mode: "fanout", Members: cfg.members, Messages: cfg.messages, Label: cfg.label}
	res.Deliveries = int64(cfg.members) * int64(cfg.messages)
	lat := make([]int64, 0, res.Deliveries)
	for _, m := range members {
		lat = append(lat, m.lat...)
	}
	res.DeliveriesPerSec = perSec(res.Deliveries, last.Sub(first))
	res.P50ms, res.P99ms = percentiles(lat)
	return res, nil
}

// publish sends the room messages, each stamped with its sequence number
// and send time so that receivers can check order and compute latency.
func publish(c *websocket.Conn, cfg *config, start, deadline time.Time) error {
	prefix := []byte(`{"event":"room.send","data":{"room":"` + benchRoom + `","text":"`)
	pad := bytes.Repeat([]byte("x"), cfg.payload)
	buf := make([]byte, 0, len(prefix)+cfg.payload+64)
	for i := range cfg.messages {
		if cfg.rate > 0 {
			at := start.Add(time.Duration(float64(i) / cfg.rate * float64(time.Second)))
			time.Sleep(time.Until(at))
		}
		now := time.Now()
		if now.After(deadline) {
			return fmt.Errorf("deadline passed after %d of %d messages", i, cfg.messages)
		}
		buf = append(buf[:0], prefix...)
		textStart := len(buf)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, now.UnixNano(), 10)
		buf = append(buf, ':')
		if n := cfg.payload - (len(buf) - textStart); n > 0 {
			buf = append(buf, pad[:n]...)
		}
		buf = append(buf, `"}}`...)
		_ = c.SetWriteDeadline(now.Add(writeTimeout))
		if err := c.WriteMessage(websocket.TextMessage, buf); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}

func (m *member) read(closing *atomic.Bool, delivered *atomic.Int64) {
	var buf bytes.Buffer
	joined, reported := false, false
	finish := func(err error) {
		if reported || m.results == nil {
			return
		}
		reported = true
		m.err = err
		m.results <- m
	}
	for {
		b, err := readFrame(m.c, &buf)
		if err != nil {
			if !joined {
				m.joined <- err
			}
			if !closing.Load() {
				finish(fmt.Errorf("member %s: connection lost after %d of %d messages: %w",
					m.joinID, m.next, m.expect, err))
			}
			return
		}
		if text, ok := roomText(b); ok {
			if reported || m.expect == 0 {
				continue
			}
			now := time.Now().UnixNano()
			seq, ts, ok := parseText(text)
			if !ok {
				finish(fmt.Errorf("member %s: malformed room.message text %.80q", m.joinID, text))
				continue
			}
			if seq != m.next {
				finish(fmt.Errorf("member %s: got message %d, want %d", m.joinID, seq, m.next))
				continue
			}
			m.lat = append(m.lat, now-ts)
			m.next++
			delivered.Add(1)
			if m.next == m.expect {
				m.doneAt = time.Unix(0, now)
				finish(nil)
			}
			continue
		}
		if joined {
			continue
		}
		var env envelope
		if json.Unmarshal(b, &env) == nil && env.ID == m.joinID {
			joined = true
			if env.Code != 0 {
				m.joined <- fmt.Errorf("room.join code %d: %s", env.Code, env.Message)
			} else {
				m.joined <- nil
			}
		}
	}
}

type idleResult struct {
	Mode         string `json:"mode"`
	Conns        int    `json:"conns"`
	RSSBeforeKB  int64  `json:"rss_before_kb"`
	RSSAfterKB   int64  `json:"rss_after_kb"`
	BytesPerConn int64  `json:"bytes_per_conn"`
	Label        string `json:"label,omitempty"`
}

func runIdle(cfg *config) (any, error) {
	before, err := readRSS(cfg.pid)
	if err != nil {
		return nil, err
	}
	p := newPool(cfg)
	conns := make([]*websocket.Conn, cfg.conns)
	var (
		closing atomic.Bool
		lost    atomic.Int64
		readers sync.WaitGroup
	)
	cleanup := func() {
		closing.Store(true)
		for _, c := range conns {
			closeConn(c)
		}
		readers.Wait()
	}
	// Readers keep running so that the server's pings are answered and a
	// connection the server drops is noticed.
	err = dialAll(cfg.conns, func(i int) error {
		c, err := p.dial(true)
		if err != nil {
			return err
		}
		conns[i] = c
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := c.NextReader(); err != nil {
					if !closing.Load() {
						lost.Add(1)
					}
					return
				}
			}
		}()
		return nil
	})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("dial: %w", err)
	}
	readEnd := time.Now().Add(rssMaxWait + idleReadSlack)
	for _, c := range conns {
		_ = c.SetReadDeadline(readEnd)
	}

	after, err := readRSS(cfg.pid)
	stable := false
	for end := time.Now().Add(rssMaxWait); err == nil && time.Now().Before(end); {
		time.Sleep(rssInterval)
		var cur int64
		if cur, err = readRSS(cfg.pid); err != nil {
			break
		}
		diff := cur - after
		after = cur
		if diff < 0 {
			diff = -diff
		}
		if diff*100 < after {
			stable = true
			break
		}
	}
	n := lost.Load()
	cleanup()
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, fmt.Errorf("%d of %d connections were closed while idle", n, cfg.conns)
	}
	if !stable {
		fmt.Fprintf(os.Stderr, "wsbench: RSS still changing after %s; reporting the last sample\n", rssMaxWait)
	}
	return &idleResult{
		Mode: "idle", Conns: cfg.conns, RSSBeforeKB: before, RSSAfterKB: after,
		BytesPerConn: (after - before) * 1024 / int64(cfg.conns), Label: cfg.label,
	}, nil
}

func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmRSS %q: %w", v, err)
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status: has the process exited?", pid)
}
