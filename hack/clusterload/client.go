package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/pkg/wsclient"
)

// The bundled clients' backoff (pkg/wsclient's Options.MinDelay and
// MaxDelay by default).
const minDelay, maxDelay = 500 * time.Millisecond, 15 * time.Second

// stream is a client's copy of one room's stream.
type stream struct {
	epoch   string
	last    uint64
	joined  bool // the reply to the current connection's join came
	since   bool // the current join asked for since
	sinceAt uint64
}

// client is one WebSocket user that stays in its rooms across reconnects,
// as pkg/wsclient does, and checks every offset it gets.
type client struct {
	id    int
	rooms []string
	send  bool    // a publisher: sends to its rooms, checks nothing
	rate  float64 // a publisher's messages per second to each room, 0 = the flags'

	mu      sync.Mutex
	conn    *websocket.Conn
	node    string
	streams map[string]*stream
	pending int       // joins without reply on this connection
	backAt  time.Time // when the last of them was answered
}

// counters shared by every client.
var (
	connected, fullyIn         atomic.Int64
	delivered, dups, gapEvents atomic.Int64
	gapMsgs, lostUnrecovered   atomic.Int64
	recTrue, recFalse          atomic.Int64
	epochJumps, lateLive       atomic.Int64
	shortReplay                atomic.Int64
	sent, acked                atomic.Int64
	events                     = newTally()
)

// tally counts labelled occurrences (close codes, refusals, reasons).
type tally struct {
	mu sync.Mutex
	m  map[string]int
	ex map[string]string
}

func newTally() *tally { return &tally{m: map[string]int{}, ex: map[string]string{}} }

func (t *tally) add(key, example string) {
	t.mu.Lock()
	t.m[key]++
	if _, ok := t.ex[key]; !ok && example != "" {
		t.ex[key] = example
	}
	t.mu.Unlock()
}

func (t *tally) dump() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for k, v := range t.m {
		fmt.Fprintf(&b, "  %-60s %6d  %s\n", k, v, t.ex[k])
	}
	return b.String()
}

func (c *client) run(url string, stop <-chan struct{}) {
	failed := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		opened := time.Now()
		conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			if resp != nil {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
				events.add(fmt.Sprintf("refused %d", resp.StatusCode), strings.TrimSpace(string(body)))
			} else {
				events.add("dial error", err.Error())
			}
		} else {
			code := c.serve(conn)
			events.add(fmt.Sprintf("closed %d", code), "")
			if time.Since(opened) >= maxDelay {
				failed = 0
			}
		}
		failed++
		ceiling := maxDelay
		if shift := failed - 1; shift < 16 && minDelay<<shift < ceiling {
			ceiling = minDelay << shift
		}
		select {
		case <-stop:
			return
		case <-time.After(ceiling/2 + rand.N(ceiling/2+1)):
		}
	}
}

// serve reads conn's welcome, joins the rooms (with since when known) and
// reads until the connection ends; it returns the close code.
func (c *client) serve(conn *websocket.Conn) int {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var welcome wsclient.Message
	if err := conn.ReadJSON(&welcome); err != nil || welcome.Event != "welcome" {
		events.add("no welcome", fmt.Sprint(err))
		conn.Close()
		return 1006
	}
	var w struct {
		Node string `json:"node"`
	}
	_ = json.Unmarshal(welcome.Data, &w)
	_ = conn.SetReadDeadline(time.Time{})
	connected.Add(1)
	defer connected.Add(-1)
	c.mu.Lock()
	c.conn, c.node = conn, w.Node
	if c.streams == nil {
		c.streams = map[string]*stream{}
	}
	c.pending = len(c.rooms)
	for _, room := range c.rooms {
		st := c.streams[room]
		data := map[string]any{"room": room}
		if st == nil {
			st = &stream{}
			c.streams[room] = st
		} else if st.epoch != "" && !c.send {
			data["since"] = map[string]any{"offset": st.last, "epoch": st.epoch}
		}
		st.joined, st.since, st.sinceAt = false, data["since"] != nil, st.last
		_ = conn.WriteJSON(map[string]any{"id": "j:" + room, "event": "room.join", "data": data})
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.pending == 0 {
			fullyIn.Add(-1)
		}
		c.conn = nil
		c.mu.Unlock()
		conn.Close()
	}()
	for {
		_, raw, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				if ce.Code != websocket.CloseGoingAway {
					events.add(fmt.Sprintf("close %d %s", ce.Code, ce.Text), "")
				}
				return ce.Code
			}
			return 1006
		}
		var m wsclient.Message
		if json.Unmarshal(raw, &m) != nil {
			events.add("bad frame", string(raw))
			continue
		}
		c.handle(m)
	}
}

func (c *client) handle(m wsclient.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var id string
	_ = json.Unmarshal(m.ID, &id)
	switch {
	case strings.HasPrefix(id, "j:"):
		c.joinReply(strings.TrimPrefix(id, "j:"), m)
	case id != "":
		if m.Code == 0 {
			acked.Add(1)
		} else {
			events.add(fmt.Sprintf("send refused %d", m.Code), m.Message)
		}
	case m.Code != 0:
		events.add(fmt.Sprintf("error push %d", m.Code), m.Message)
	case m.Room != "" && m.Offset > 0:
		delivered.Add(1)
		if c.send {
			return
		}
		st := c.streams[m.Room]
		if st == nil {
			events.add("message of a room not joined", m.Room)
			return
		}
		if !st.joined && !st.since {
			// Before the reply of a first join: the reply's offset rules.
			return
		}
		c.check(st, m)
	}
}

func (c *client) check(st *stream, m wsclient.Message) {
	switch {
	case st.epoch != "" && m.Epoch != "" && m.Epoch != st.epoch:
		epochJumps.Add(1)
		events.add("epoch changed under a live client", m.Room)
	case m.Offset <= st.last:
		dups.Add(1)
		events.add("duplicate offset", fmt.Sprintf("%s %d<=%d joined=%v", m.Room, m.Offset, st.last, st.joined))
	case m.Offset > st.last+1:
		gapEvents.Add(1)
		gapMsgs.Add(int64(m.Offset - st.last - 1))
		events.add("gap", fmt.Sprintf("%s %d after %d joined=%v since=%v", m.Room, m.Offset, st.last, st.joined, st.since))
	}
	if m.Epoch != "" {
		st.epoch = m.Epoch
	}
	if m.Offset > st.last || m.Epoch != st.epoch {
		st.last = m.Offset
	}
}

func (c *client) joinReply(room string, m wsclient.Message) {
	st := c.streams[room]
	if m.Code != 0 {
		events.add(fmt.Sprintf("join refused %d", m.Code), m.Message)
		return
	}
	var r wsv1.RoomJoinRes
	_ = json.Unmarshal(m.Data, &r)
	if r.Local {
		events.add("join answered local", room)
	}
	switch {
	case c.send || !st.since:
		if r.Offset > st.last || r.Epoch != st.epoch {
			st.last = r.Offset
		}
		st.epoch = r.Epoch
	case r.Recovered == nil:
		events.add("rejoin reply without recovered", room)
	case *r.Recovered:
		recTrue.Add(1)
		if r.Offset > st.last {
			shortReplay.Add(1)
			events.add("recovered:true but replay short", fmt.Sprintf("%s since %d last %d reply %d", room, st.sinceAt, st.last, r.Offset))
			st.last = r.Offset
		} else if r.Offset < st.last {
			lateLive.Add(1)
			events.add("live message before the rejoin reply", fmt.Sprintf("%s reply %d last %d", room, r.Offset, st.last))
		}
	default:
		recFalse.Add(1)
		why := "same epoch, within history"
		switch {
		case r.Epoch != st.epoch:
			why = "epoch changed"
		case r.Offset-st.sinceAt > uint64(*historySize):
			why = "missed more than history"
		}
		events.add("recovered:false: "+why, fmt.Sprintf("%s since %d@%s reply %d@%s", room, st.sinceAt, st.epoch, r.Offset, r.Epoch))
		if r.Epoch == st.epoch && r.Offset > st.last {
			lostUnrecovered.Add(int64(r.Offset - st.last))
		}
		st.last, st.epoch = r.Offset, r.Epoch
	}
	if !st.joined {
		st.joined = true
		c.pending--
		if c.pending == 0 {
			fullyIn.Add(1)
			c.backAt = time.Now()
		}
	}
}

// publish sends one message to room on the current connection.
func (c *client) publish(room string, seq int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil || c.pending > 0 {
		return
	}
	sent.Add(1)
	_ = c.conn.WriteJSON(map[string]any{"id": fmt.Sprint(seq), "event": "room.send",
		"data": map[string]any{"room": room, "text": fmt.Sprintf("m%d", seq)}})
}
