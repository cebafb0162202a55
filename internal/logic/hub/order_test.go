package hub_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/service"
	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// A join with since replays up to rooms.history.size messages at once,
// which the config keeps within ws.sendQueueSize but not within
// ws.sendQueueBytes: 100 room.messages of 4096 three-byte characters are
// about 1.2 MiB. A client that reads promptly was closed as a slow
// consumer; the join is answered, with every missed message or with
// recovered false and nothing replayed.
func TestARecoveryLargerThanTheQueueIsNotASlowConsumer(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0})
	alice := dialAs(t, node, "alice")
	joined, _ := alice.JoinSince("big", nil)
	text := strings.Repeat("€", 4096) // 4096 characters, the most room.send takes
	for i := range 100 {
		if r := alice.Request("s", "room.send", map[string]string{"room": "big", "text": text}); r.CodeOf(t) != 0 {
			t.Fatalf("send %d: %+v", i, r)
		}
	}
	bob := dialAs(t, node, "bob")
	rejoined, replayed := bob.JoinSince("big", &wstest.Since{Offset: 0, Epoch: joined.Epoch})
	switch {
	case rejoined.Recovered == nil:
		t.Fatalf("join with since: %+v", rejoined)
	case *rejoined.Recovered:
		wstest.CheckReplay(t, replayed, 0, 100)
	case len(replayed) != 0 || rejoined.Offset != 100:
		t.Fatalf("recovered false with %d replayed: %+v", len(replayed), rejoined)
	}
	if r := bob.Request("p", "ping", nil); r.CodeOf(t) != 0 {
		t.Fatalf("ping after the join: %+v", r)
	}
}

// A push followed by a kick arrives before the 4403 (docs/protocol.md,
// section 4), in a room of 64 or more members on the node too, whose
// pushes go out from the room's lane after PushToRoom has returned: the
// kick closed the member at once, and the push, not yet queued, was lost.
func TestAPushThenAKickArriveInOrderInALargeRoom(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0, "rooms.presenceEventsLimit": 0})
	const fillers, victims = 63, 10
	for i := range fillers {
		c := dialAs(t, node, fmt.Sprint("filler", i))
		if r := c.Call("j", "room.join", map[string]string{"room": "big"}); r.CodeOf(t) != 0 {
			t.Fatalf("join: %+v", r)
		}
		go func() { // keep reading, so that no filler is a slow consumer
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	type victim struct {
		c  *wstest.Client
		id string
	}
	var vs []victim
	for i := range victims {
		c, id := wstest.DialAs(t, node.WSURL, secret, fmt.Sprint("victim", i))
		if r := c.Call("j", "room.join", map[string]string{"room": "big"}); r.CodeOf(t) != 0 {
			t.Fatalf("join: %+v", r)
		}
		vs = append(vs, victim{c, id})
	}
	// As the admin API does it: a push to the room, then a kick.
	ctx := t.Context()
	for i, v := range vs {
		delivered, err := service.Hub().PushToRoom(ctx, "big", "notice", map[string]int{"n": i})
		if err != nil || delivered < fillers {
			t.Fatalf("push %d: delivered %d, %v", i, delivered, err)
		}
		if err := service.Hub().KickConn(ctx, v.id, "kicked"); err != nil {
			t.Fatalf("kick %d: %v", i, err)
		}
	}
	lost := 0
	for i, v := range vs {
		if !v.c.ReadsBeforeClose(ws.CloseKicked, "notice", fmt.Sprintf(`{"n":%d}`, i)) {
			lost++
			t.Errorf("victim %d was kicked without the push that came before its kick", i)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d pushes lost", lost, victims)
	}
}
