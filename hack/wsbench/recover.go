package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

const recoverJoins = 100

type recoverResult struct {
	Mode     string  `json:"mode"`
	Messages int     `json:"messages"`
	Joins    int     `json:"joins"`
	P50ms    float64 `json:"p50_ms"`
	P90ms    float64 `json:"p90_ms"`
	MaxMs    float64 `json:"max_ms"`
	Label    string  `json:"label,omitempty"`
}

// position is a place in a room's stream, as room.join's since names it.
type position struct {
	offset uint64
	epoch  string
}

// joinReply is the part of room.join's reply a recovery checks.
type joinReply struct {
	Offset    uint64 `json:"offset"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
}

// joined is what one room.join saw: its reply, the offsets of the room's
// pushes that came before the reply, and the time from sending the join
// to its reply.
type joined struct {
	reply  joinReply
	before []uint64
	took   time.Duration
}

var patOffset = []byte(`"offset":`)

// runRecover measures how long a returning client waits for what it
// missed. A publisher on -publish-url sends -messages to a room of this
// run's own and reads them back; then -joins fresh connections on -url,
// one at a time and each dialled before its clock starts, join the room
// with since the offset before those messages. A join is timed from
// sending it to its reply, which must follow every missed message.
func runRecover(cfg *config) (any, error) {
	room := "recover-" + randomHex(4)
	pub, err := newPool([]string{cfg.publishURL}, cfg.srcs).dial(false)
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	defer closeConn(pub)
	last, err := publishStream(pub, room, cfg.messages, cfg.payload)
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	// The publisher stays in the room, as a live member would; the joins
	// send it presence pushes, which must not fill its socket.
	go func() {
		for {
			if _, _, err := pub.NextReader(); err != nil {
				return
			}
		}
	}()

	since := position{last.offset - uint64(cfg.messages), last.epoch}
	p := newPool(cfg.urls, cfg.srcs)
	took := make([]int64, 0, cfg.joins)
	for i := range cfg.joins {
		c, err := p.dial(false)
		if err != nil {
			return nil, fmt.Errorf("join %d: %w", i, err)
		}
		j, err := joinRoom(c, room, &since)
		closeConn(c)
		if err == nil {
			err = checkRecovered(j, since, last)
		}
		if err != nil {
			return nil, fmt.Errorf("join %d of %d: %w", i+1, cfg.joins, err)
		}
		took = append(took, j.took.Nanoseconds())
	}
	slices.Sort(took)
	return &recoverResult{
		Mode: "recover", Messages: cfg.messages, Joins: cfg.joins,
		P50ms: quantileMs(took, 0.50), P90ms: quantileMs(took, 0.90), MaxMs: quantileMs(took, 1),
		Label: cfg.label,
	}, nil
}

// publishStream joins c to room and sends n room messages of about
// payload bytes, then reads them back, so that the room's stream holds
// them all before anyone asks for them. It returns the stream's position
// after the last one.
func publishStream(c *websocket.Conn, room string, n, payload int) (position, error) {
	j, err := joinRoom(c, room, nil)
	if err != nil {
		return position{}, err
	}
	pad := bytes.Repeat([]byte("x"), payload)
	for i := range n {
		text := strconv.Itoa(i) + ":"
		text += string(pad[:max(payload-len(text), 0)])
		frame := fmt.Sprintf(`{"event":"room.send","data":{"room":%q,"text":%q}}`, room, text)
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			return position{}, fmt.Errorf("message %d: %w", i, err)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(fanoutTimeout))
	var buf bytes.Buffer
	want := j.reply.Offset + 1
	for want <= j.reply.Offset+uint64(n) {
		b, err := readFrame(c, &buf)
		if err != nil {
			return position{}, fmt.Errorf("reading back message %d of %d: %w", want-j.reply.Offset, n, err)
		}
		if code, ok := intAfter(b, patCode); ok && code != 0 {
			return position{}, fmt.Errorf("room.send refused: %.200s", b)
		}
		if offset, ok := streamOffset(b, room); ok {
			if offset != want {
				return position{}, fmt.Errorf("own message came with offset %d, want %d", offset, want)
			}
			want++
		}
	}
	return position{want - 1, j.reply.Epoch}, c.SetReadDeadline(time.Time{})
}

// joinRoom sends room.join, with since when it is not nil, and reads until
// its reply.
func joinRoom(c *websocket.Conn, room string, since *position) (joined, error) {
	const id = "recover-join"
	data := fmt.Sprintf(`{"room":%q}`, room)
	if since != nil {
		data = fmt.Sprintf(`{"room":%q,"since":{"offset":%d,"epoch":%q}}`, room, since.offset, since.epoch)
	}
	frame := []byte(`{"id":"` + id + `","event":"room.join","data":` + data + `}`)
	var (
		j   joined
		buf bytes.Buffer
	)
	_ = c.SetReadDeadline(time.Now().Add(joinTimeout))
	_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
	sent := time.Now()
	if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
		return j, fmt.Errorf("sending room.join: %w", err)
	}
	for {
		b, err := readFrame(c, &buf)
		if err != nil {
			return j, fmt.Errorf("waiting for the room.join reply (%d pushes before it): %w", len(j.before), err)
		}
		if offset, ok := streamOffset(b, room); ok {
			j.before = append(j.before, offset)
			continue
		}
		if s, ok := strAfter(b, patID); !ok || string(s) != id {
			continue
		}
		j.took = time.Since(sent)
		var env envelope
		if err := json.Unmarshal(b, &env); err != nil {
			return j, fmt.Errorf("room.join reply: %w", err)
		}
		if env.Code != 0 {
			return j, fmt.Errorf("room.join code %d: %s", env.Code, env.Message)
		}
		if err := json.Unmarshal(env.Data, &j.reply); err != nil {
			return j, fmt.Errorf("room.join reply data: %w", err)
		}
		return j, c.SetReadDeadline(time.Time{})
	}
}

// checkRecovered says what is wrong with a join with since that should
// have replayed every message after since up to last, in order, and
// nothing else.
func checkRecovered(j joined, since, last position) error {
	switch {
	case j.reply.Recovered == nil || !*j.reply.Recovered:
		return errors.New("reply says recovered false; is rooms.history.size at least -messages, and was the server restarted?")
	case j.reply.Epoch != last.epoch || j.reply.Offset != last.offset:
		return fmt.Errorf("reply has offset %d epoch %q, want %d %q", j.reply.Offset, j.reply.Epoch, last.offset, last.epoch)
	case uint64(len(j.before)) != last.offset-since.offset:
		return fmt.Errorf("%d messages replayed before the reply, want %d", len(j.before), last.offset-since.offset)
	}
	for i, offset := range j.before {
		if want := since.offset + 1 + uint64(i); offset != want {
			return fmt.Errorf("replayed message %d has offset %d, want %d", i+1, offset, want)
		}
	}
	return nil
}

// streamOffset returns the offset of a room.message push of room.
func streamOffset(b []byte, room string) (uint64, bool) {
	if !bytes.Contains(b, roomMarker) {
		return 0, false
	}
	if bytes.Contains(b, roomEventExact) {
		// The envelope's room and offset come before its data.
		r, okRoom := strAfter(b, patRoom)
		offset, okOffset := intAfter(b, patOffset)
		if okRoom && okOffset && offset >= 0 {
			return uint64(offset), string(r) == room
		}
	}
	var env struct {
		Event, Room string
		Offset      uint64
	}
	if json.Unmarshal(b, &env) != nil || env.Event != "room.message" {
		return 0, false
	}
	return env.Offset, env.Room == room
}

// randomHex names a room of this run's own, so that its stream starts
// empty whatever ran on the server before.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
