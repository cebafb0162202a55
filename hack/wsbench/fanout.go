package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const joinTimeout = 30 * time.Second

// deliveryStats is the fan-out part of a result: every member's messages,
// timed from the first publish to the last member's last message.
type deliveryStats struct {
	Deliveries       int64   `json:"deliveries"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	P50ms            float64 `json:"p50_ms"`
	P99ms            float64 `json:"p99_ms"`
}

// fanoutResult is also the result of crossnode, so that the two can be
// read side by side.
type fanoutResult struct {
	Mode     string `json:"mode"`
	Members  int    `json:"members"`
	Messages int    `json:"messages"`
	deliveryStats
	Label string `json:"label,omitempty"`
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

// roomRun is the connections of one room benchmark. Every connection has
// its reader from the moment it is dialled, so that no socket's receive
// buffer fills while others join or publish.
type roomRun struct {
	cfg       *config
	members   []*member
	pub       *member
	results   chan *member
	closing   atomic.Bool
	delivered atomic.Int64
	readers   sync.WaitGroup
}

func newRoomRun(cfg *config) *roomRun {
	return &roomRun{cfg: cfg, members: make([]*member, cfg.members), results: make(chan *member, cfg.members)}
}

// connect dials one connection on p and starts its reader. A member
// (expect > 0) reports on r.results once it has expect messages; the
// publisher (expect 0) skips the room's messages.
func (r *roomRun) connect(p *pool, name string, expect int) (*member, error) {
	c, err := p.dial(true)
	if err != nil {
		return nil, err
	}
	m := &member{c: c, joinID: "join-" + name, joined: make(chan error, 1), expect: expect}
	if expect > 0 {
		m.results = r.results
		m.lat = make([]int64, 0, expect)
	}
	r.readers.Add(1)
	go func() {
		defer r.readers.Done()
		m.read(&r.closing, &r.delivered)
	}()
	return m, nil
}

// join sends m's room.join and waits for the reply.
func (r *roomRun) join(m *member) error {
	frame := fmt.Sprintf(`{"id":%q,"event":"room.join","data":{"room":%q}}`, m.joinID, benchRoom)
	_ = m.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := m.c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		return fmt.Errorf("sending room.join: %w", err)
	}
	select {
	case err := <-m.joined:
		return err
	case <-time.After(joinTimeout):
		return errors.New("no room.join reply within " + joinTimeout.String())
	}
}

// joinPublisher connects the publisher to -publish-url and joins it. It
// joins after the members so that it is not sent their join notices.
func (r *roomRun) joinPublisher() error {
	m, err := r.connect(newPool([]string{r.cfg.publishURL}, r.cfg.srcs), "publisher", 0)
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	r.pub = m
	if err := r.join(m); err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	return nil
}

// close says goodbye on every connection and waits for the readers.
func (r *roomRun) close() {
	r.closing.Store(true)
	for _, m := range append([]*member{r.pub}, r.members...) {
		if m != nil {
			closeConn(m.c)
		}
	}
	r.readers.Wait()
}

func runFanout(cfg *config) (any, error) {
	r := newRoomRun(cfg)
	defer r.close()
	p := newPool(cfg.urls, cfg.srcs)
	err := dialAll(cfg.members, func(i int) error {
		m, err := r.connect(p, strconv.Itoa(i), cfg.messages)
		if err != nil {
			return err
		}
		r.members[i] = m
		return r.join(m)
	})
	if err == nil {
		err = r.joinPublisher()
	}
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	stats, err := r.fanOut()
	if err != nil {
		return nil, err
	}
	return &fanoutResult{Mode: cfg.mode, Members: cfg.members, Messages: cfg.messages, deliveryStats: stats, Label: cfg.label}, nil
}

// fanOut has the publisher send -messages room messages and waits until
// every member has received all of them, in order.
func (r *roomRun) fanOut() (deliveryStats, error) {
	cfg := r.cfg
	deadline := time.Now().Add(fanoutTimeout)
	if cfg.rate > 0 {
		deadline = deadline.Add(time.Duration(float64(cfg.messages) / cfg.rate * float64(time.Second)))
	}
	for _, m := range append([]*member{r.pub}, r.members...) {
		_ = m.c.SetReadDeadline(deadline.Add(5 * time.Second))
	}
	first := time.Now()
	pubErr := make(chan error, 1)
	go func() { pubErr <- publish(r.pub.c, cfg, first, deadline) }()

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
		case m := <-r.results:
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
		return deliveryStats{}, fmt.Errorf("%v; %d of %d members got every message, %d of %d deliveries arrived",
			failure, done, cfg.members, r.delivered.Load(), int64(cfg.members)*int64(cfg.messages))
	}

	stats := deliveryStats{Deliveries: int64(cfg.members) * int64(cfg.messages)}
	lat := make([]int64, 0, stats.Deliveries)
	for _, m := range r.members {
		lat = append(lat, m.lat...)
	}
	stats.DeliveriesPerSec = perSec(stats.Deliveries, last.Sub(first))
	stats.P50ms, stats.P99ms = percentiles(lat)
	return stats, nil
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
