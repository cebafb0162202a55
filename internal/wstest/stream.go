package wstest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Joined is the data of a room.join reply.
type Joined struct {
	Room      string `json:"room"`
	Members   int    `json:"members"`
	Offset    uint64 `json:"offset"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
	Local     bool   `json:"local"`
}

// Since is where a client's copy of a room's stream ends.
type Since struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// JoinSince joins room, with since when it is not nil, and returns the
// reply and the room's stream messages that came before it: the replay.
// Other pushes are skipped; a failed join fails the test.
func (c *Client) JoinSince(room string, since *Since) (Joined, []Msg) {
	c.t.Helper()
	data := map[string]any{"room": room}
	if since != nil {
		data["since"] = since
	}
	c.Send(map[string]any{"id": "join-since", "event": "room.join", "data": data})
	var replayed []Msg
	for {
		m := c.Read()
		switch {
		case m.Code != nil:
			if *m.Code != 0 {
				c.t.Fatalf("room.join %s since %+v: code %d %s", room, since, *m.Code, m.Message)
			}
			var j Joined
			if err := json.Unmarshal(m.Data, &j); err != nil {
				c.t.Fatalf("room.join reply %s: %v", m.Data, err)
			}
			return j, replayed
		case m.Room == room && m.Offset > 0:
			replayed = append(replayed, m)
		}
	}
}

// ExpectStream reads until c has every message of room's stream after
// offset after, through offset through, and fails at a gap, a repeat or
// a message out of order. Pushes outside the stream are skipped.
func (c *Client) ExpectStream(room string, after, through uint64) {
	c.t.Helper()
	for next := after + 1; next <= through; {
		m := c.Read()
		if m.Room != room || m.Offset == 0 {
			continue
		}
		if m.Offset != next {
			c.t.Fatalf("room %s: got offset %d, want %d (data %s)", room, m.Offset, next, m.Data)
		}
		next++
	}
}

// CheckReplay fails unless replayed is exactly the stream messages after
// offset after through offset through, in order.
func CheckReplay(t testing.TB, replayed []Msg, after, through uint64) {
	t.Helper()
	if uint64(len(replayed)) != through-after {
		t.Fatalf("replayed %d messages, want the %d after offset %d through %d", len(replayed), through-after, after, through)
	}
	for i, m := range replayed {
		if want := after + 1 + uint64(i); m.Offset != want {
			t.Fatalf("replayed message %d has offset %d, want %d", i, m.Offset, want)
		}
	}
}

// Publish makes each publisher, a member of room, send room.send to it
// about once a millisecond, a pace every receiver keeps up with, while
// draining what it receives, until the returned stop is called; stop
// closes the publishers.
func Publish(t testing.TB, room string, publishers ...*Client) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range publishers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				frame := fmt.Sprintf(`{"event":"room.send","data":{"room":%q,"text":"p%d-%d"}}`, room, i, n)
				_ = p.SetWriteDeadline(time.Now().Add(Timeout))
				if err := p.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for {
				if _, _, err := p.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	return func() {
		close(done)
		for _, p := range publishers {
			_ = p.Close()
		}
		wg.Wait()
	}
}
