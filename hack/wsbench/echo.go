package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	warmup    = time.Second
	drainWait = 10 * time.Second
)

type echoResult struct {
	Mode          string  `json:"mode"`
	Conns         int     `json:"conns"`
	Inflight      int     `json:"inflight"`
	Payload       int     `json:"payload"`
	RepliesPerSec float64 `json:"replies_per_sec"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	Errors        int64   `json:"errors"`
	Label         string  `json:"label,omitempty"`
}

// echoConn keeps a fixed window of requests in flight: the reader hands a
// token back to the writer for every reply.
type echoConn struct {
	c      *websocket.Conn
	tokens chan struct{}
	sent   atomic.Int64
	recv   atomic.Int64

	// Owned by the reader until it exits.
	replies  int64
	lat      []int64
	errs     int64
	firstErr error
	// Owned by the writer until it exits.
	writeErr error
}

var echoMarker = []byte(`"echo"`)

func runEcho(cfg *config) (any, error) {
	p := newPool(cfg.urls, cfg.srcs)
	payload := []byte(`"` + strings.Repeat("x", cfg.payload) + `"`)
	conns := make([]*echoConn, cfg.conns)
	closeAll := func() {
		for _, ec := range conns {
			if ec != nil {
				closeConn(ec.c)
			}
		}
	}
	err := dialAll(cfg.conns, func(i int) error {
		c, err := p.dial(true)
		if err != nil {
			return err
		}
		conns[i] = &echoConn{c: c, tokens: make(chan struct{}, cfg.inflight)}
		return nil
	})
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("dial: %w", err)
	}

	start := time.Now()
	from := start.Add(warmup)
	to := from.Add(cfg.duration)
	stop := make(chan struct{})
	var closing atomic.Bool
	var writers, readers sync.WaitGroup
	for _, ec := range conns {
		_ = ec.c.SetReadDeadline(to.Add(drainWait + writeTimeout + 5*time.Second))
		for range cfg.inflight {
			ec.tokens <- struct{}{}
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			ec.read(from, to, &closing)
		}()
		writers.Add(1)
		go func() {
			defer writers.Done()
			ec.write(stop, payload)
		}()
	}
	time.Sleep(time.Until(to))
	close(stop)
	writers.Wait()

	// Requests still in flight get drainWait to come back; whatever does
	// not is a lost reply.
	drainEnd := time.Now().Add(drainWait)
	for time.Now().Before(drainEnd) {
		pending := false
		for _, ec := range conns {
			if ec.recv.Load() < ec.sent.Load() {
				pending = true
				break
			}
		}
		if !pending {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	closing.Store(true)
	closeAll()
	readers.Wait()

	res := &echoResult{Mode: "echo", Conns: cfg.conns, Inflight: cfg.inflight, Payload: cfg.payload, Label: cfg.label}
	var replies int64
	var lat []int64
	var firstErr error
	for _, ec := range conns {
		replies += ec.replies
		lat = append(lat, ec.lat...)
		res.Errors += ec.errs
		if ec.writeErr != nil {
			res.Errors++
			firstErr = cmpErr(firstErr, ec.writeErr)
		}
		firstErr = cmpErr(firstErr, ec.firstErr)
		if lost := ec.sent.Load() - ec.recv.Load(); lost > 0 {
			res.Errors += lost
			firstErr = cmpErr(firstErr, fmt.Errorf("%d replies never arrived", lost))
		}
	}
	res.RepliesPerSec = perSec(replies, cfg.duration)
	res.P50ms, res.P99ms = percentiles(lat)
	if replies == 0 {
		return res, fmt.Errorf("no replies in the measured %s (errors %d, first: %v)", cfg.duration, res.Errors, firstErr)
	}
	if res.Errors > 0 {
		return res, fmt.Errorf("%d errors, first: %v", res.Errors, firstErr)
	}
	return res, nil
}

func cmpErr(have, next error) error {
	if have != nil {
		return have
	}
	return next
}

// write sends one request per token. The id carries the send time so the
// reader needs no shared table to compute latency.
func (ec *echoConn) write(stop <-chan struct{}, payload []byte) {
	var seq int64
	buf := make([]byte, 0, len(payload)+64)
	for {
		select {
		case <-stop:
			return
		case <-ec.tokens:
		}
		select {
		case <-stop:
			return
		default:
		}
		seq++
		now := time.Now()
		buf = append(buf[:0], `{"id":"`...)
		buf = strconv.AppendInt(buf, seq, 10)
		buf = append(buf, '-')
		buf = strconv.AppendInt(buf, now.UnixNano(), 10)
		buf = append(buf, `","event":"echo","data":`...)
		buf = append(buf, payload...)
		buf = append(buf, '}')
		ec.sent.Add(1)
		_ = ec.c.SetWriteDeadline(now.Add(writeTimeout))
		if err := ec.c.WriteMessage(websocket.TextMessage, buf); err != nil {
			ec.sent.Add(-1)
			ec.writeErr = err
			return
		}
	}
}

func (ec *echoConn) read(from, to time.Time, closing *atomic.Bool) {
	var buf bytes.Buffer
	fromNs := from.UnixNano()
	for {
		b, err := readFrame(ec.c, &buf)
		if err != nil {
			if !closing.Load() {
				ec.errs++
				ec.firstErr = cmpErr(ec.firstErr, fmt.Errorf("read: %w", err))
			}
			return
		}
		id, code, ok := parseEcho(b)
		if !ok {
			continue
		}
		now := time.Now()
		ec.recv.Add(1)
		select {
		case ec.tokens <- struct{}{}:
		default:
		}
		if code != 0 {
			ec.errs++
			ec.firstErr = cmpErr(ec.firstErr, fmt.Errorf("echo reply code %d: %.200s", code, b))
			continue
		}
		sentNs, ok := sentAt(id)
		if !ok {
			ec.errs++
			ec.firstErr = cmpErr(ec.firstErr, fmt.Errorf("echo reply with unknown id: %.200s", b))
			continue
		}
		if now.Before(from) || !now.Before(to) {
			continue
		}
		ec.replies++
		if sentNs >= fromNs {
			ec.lat = append(ec.lat, now.UnixNano()-sentNs)
		}
	}
}

// parseEcho reports the id and code of an echo reply; ok is false for any
// other frame.
func parseEcho(b []byte) (id []byte, code int, ok bool) {
	if !bytes.Contains(b, echoMarker) {
		return nil, 0, false
	}
	if bytes.Contains(b, []byte(`"event":"echo"`)) {
		id, okID := strAfter(b, patID)
		code, okCode := intAfter(b, patCode)
		if okID && okCode {
			return id, code, true
		}
	}
	var env envelope
	if json.Unmarshal(b, &env) != nil || env.Event != "echo" {
		return nil, 0, false
	}
	return []byte(env.ID), env.Code, true
}

func sentAt(id []byte) (int64, bool) {
	i := bytes.IndexByte(id, '-')
	if i < 0 {
		return 0, false
	}
	ns, err := strconv.ParseInt(string(id[i+1:]), 10, 64)
	return ns, err == nil
}

type handshakeResult struct {
	Mode             string  `json:"mode"`
	Concurrency      int     `json:"concurrency"`
	HandshakesPerSec float64 `json:"handshakes_per_sec"`
	P50ms            float64 `json:"p50_ms"`
	P99ms            float64 `json:"p99_ms"`
	Errors           int64   `json:"errors"`
	Label            string  `json:"label,omitempty"`
}

// runHandshake counts only handshakes that finish inside the measured
// window; a loop that starts just before the end may overrun it by at most
// one dial timeout.
func runHandshake(cfg *config) (any, error) {
	p := newPool(cfg.urls, cfg.srcs)
	type worker struct {
		lat      []int64
		errs     int64
		firstErr error
	}
	workers := make([]worker, cfg.concurrency)
	end := time.Now().Add(cfg.duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				t0 := time.Now()
				c, err := p.dial(false)
				done := time.Now()
				if err != nil {
					if done.Before(end) {
						w.errs++
						w.firstErr = cmpErr(w.firstErr, err)
					}
					// A refusing server would otherwise be hammered in a
					// tight loop.
					time.Sleep(10 * time.Millisecond)
					continue
				}
				closeConn(c)
				if done.Before(end) {
					w.lat = append(w.lat, done.Sub(t0).Nanoseconds())
				}
			}
		}()
	}
	wg.Wait()

	res := &handshakeResult{Mode: "handshake", Concurrency: cfg.concurrency, Label: cfg.label}
	var lat []int64
	var firstErr error
	for _, w := range workers {
		lat = append(lat, w.lat...)
		res.Errors += w.errs
		firstErr = cmpErr(firstErr, w.firstErr)
	}
	res.HandshakesPerSec = perSec(int64(len(lat)), cfg.duration)
	res.P50ms, res.P99ms = percentiles(lat)
	if len(lat) == 0 {
		return res, fmt.Errorf("no handshake completed (errors %d, first: %v)", res.Errors, firstErr)
	}
	if res.Errors > 0 {
		return res, fmt.Errorf("%d errors, first: %v", res.Errors, firstErr)
	}
	return res, nil
}

// percentiles sorts ns in place and returns p50 and p99 in milliseconds
// (nearest rank).
func percentiles(ns []int64) (p50, p99 float64) {
	if len(ns) == 0 {
		return 0, 0
	}
	slices.Sort(ns)
	return quantileMs(ns, 0.50), quantileMs(ns, 0.99)
}

// quantileMs is the q-quantile of sorted, a non-empty run of nanoseconds
// in ascending order, in milliseconds (nearest rank).
func quantileMs(sorted []int64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return round(float64(sorted[max(i, 0)])/1e6, 3)
}

func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n)/d.Seconds(), 1)
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
