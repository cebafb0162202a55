package main

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/gorilla/websocket"
)

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
