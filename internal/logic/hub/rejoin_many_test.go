package hub_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A client that comes back after its node died rejoins every room it was
// in with since, all at once, as pkg/wsclient and ws-client.js do, and
// reads the replays only then. Each replay fits the send queue
// (rooms.history.size is at most ws.sendQueueSize), but twenty of them
// queued back to back did not: the connection was closed with 4008 slow
// consumer, and the next reconnect met the same fate, so a client in many
// busy rooms could not come back. The replays must reach it, each room's
// in order and recovered.
func TestRejoiningManyRoomsAtOnceRecoversThemAll(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0})
	const rooms, missed = 20, 100 // missed is rooms.history.size
	pub := dialAs(t, node, "publisher")
	epochs := map[string]string{}
	for r := range rooms {
		room := fmt.Sprint("busy", r)
		pub.JoinSince(room, nil)
		for range missed {
			pub.Send(map[string]any{"event": "room.send", "data": map[string]any{"room": room, "text": strings.Repeat("x", 200)}})
			for { // its own copy, so that the publisher is never a slow consumer
				if m := pub.Read(); m.Offset > 0 {
					epochs[room] = m.Epoch
					break
				}
			}
		}
	}

	c := dialAs(t, node, "returning")
	for r := range rooms {
		room := fmt.Sprint("busy", r)
		c.Send(map[string]any{"id": room, "event": "room.join",
			"data": map[string]any{"room": room, "since": wstest.Since{Offset: 0, Epoch: epochs[room]}}})
	}
	replayed := map[string][]wstest.Msg{}
	for replies := 0; replies < rooms; {
		m := c.Read() // a close, 4008 among them, fails the test
		if m.Offset > 0 {
			replayed[m.Room] = append(replayed[m.Room], m)
			continue
		}
		var room string
		if json.Unmarshal(m.ID, &room) != nil || m.Code == nil || *m.Code != 0 {
			continue
		}
		replies++
		var j wstest.Joined
		if err := json.Unmarshal(m.Data, &j); err != nil {
			t.Fatal(err)
		}
		if j.Recovered == nil || !*j.Recovered || j.Offset != missed {
			t.Errorf("rejoin of %s answered %s, want recovered true at offset %d", room, m.Data, missed)
		}
		wstest.CheckReplay(t, replayed[room], 0, missed)
	}
}

// rooms.history.size may be as large as ws.sendQueueSize: a client that
// missed the whole history gets all of it and the reply, recovered, not
// a close as a slow consumer.
func TestRecoveringAHistoryAsLargeAsTheQueue(t *testing.T) {
	const size = 64
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0, "ws.sendQueueSize": size, "rooms.history.size": size})
	pub := dialAs(t, node, "publisher")
	joined, _ := pub.JoinSince("full", nil)
	for range size {
		pub.Send(map[string]any{"event": "room.send", "data": map[string]any{"room": "full", "text": strings.Repeat("x", 4000)}})
		for pub.Read().Offset == 0 { // its own copy
		}
	}
	c := dialAs(t, node, "returning")
	j, replayed := c.JoinSince("full", &wstest.Since{Offset: 0, Epoch: joined.Epoch})
	if j.Recovered == nil || !*j.Recovered || j.Offset != size {
		t.Errorf("rejoin answered %+v, want recovered true at offset %d", j, size)
	}
	wstest.CheckReplay(t, replayed, 0, size)
}
