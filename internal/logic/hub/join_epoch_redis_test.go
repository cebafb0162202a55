package hub_test

import (
	"encoding/json"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// Every member of a room holds the epoch its stream goes on in: a join
// reads the room's position while its presence change is on its way to
// Redis, and when the read got there first, in a room nobody was in, it
// was answered an epoch that no stream kept. The next member started
// another, and the first member's position named a stream that never was
// (a join with it as since answered recovered: false with nothing
// missed). Here the node's presence changes wait behind another join's
// while Redis holds its writes, so that the read goes first.
func TestJoinsOfAnEmptyRoomShareTheEpochItsStreamGoesOn(t *testing.T) {
	redis := wstest.StartRedis(t)
	node := startNode(t, map[string]any{
		"broker.type": "redis", "broker.prefix": "epochs", "redis.default.address": redis.Addr(),
	})
	other, first, second := dialAs(t, node, "other"), dialAs(t, node, "first"), dialAs(t, node, "second")
	// While Redis holds writes, the join of another room holds the node's
	// presence changes behind its own; the first join's read of the
	// room's position queues meanwhile, once the room's deliveries reach
	// the node, and goes first when Redis lets the writes go.
	redis.Do(t, "CLIENT", "PAUSE", "1500", "WRITE")
	other.Send(map[string]any{"id": "busy", "event": "room.join", "data": map[string]string{"room": "busy"}})
	wstest.WaitFor(t, "the other join's presence change to wait in Redis", func() bool {
		blocked, ok := redis.Info(t, "clients")["blocked_clients"]
		if !ok {
			t.Fatal("INFO clients has no blocked_clients")
		}
		return blocked != "0"
	})
	first.Send(map[string]any{"id": "join", "event": "room.join", "data": map[string]string{"room": "fresh"}})
	wstest.WaitFor(t, "the node to receive the room", func() bool {
		return redis.Subscribers(t, "epochs:room:fresh") == 1
	})
	var joined wstest.Joined
	for {
		m := first.Read()
		if string(m.ID) == `"join"` {
			if m.CodeOf(t) != 0 || json.Unmarshal(m.Data, &joined) != nil {
				t.Fatalf("the first join: %+v %s", m, m.Data)
			}
			break
		}
	}
	again, _ := second.JoinSince("fresh", nil)
	if again.Epoch != joined.Epoch {
		t.Errorf("two members of one room were answered epochs %q and %q", joined.Epoch, again.Epoch)
	}
	first.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "fresh", "text": "hi"}})
	for {
		m := second.Read()
		if m.Event == "room.message" {
			if m.Epoch != joined.Epoch || m.Offset != 1 {
				t.Fatalf("the room's first message came at offset %d of epoch %q; the first member was answered offset %d of epoch %q",
					m.Offset, m.Epoch, joined.Offset, joined.Epoch)
			}
			break
		}
	}
	// The first member comes back with the position it holds: nothing was
	// missed after it.
	rejoin := dialAs(t, node, "first")
	back, _ := rejoin.JoinSince("fresh", &wstest.Since{Offset: 0, Epoch: joined.Epoch})
	if back.Recovered == nil || !*back.Recovered {
		t.Errorf("a join since the position the first member was answered recovered nothing: %+v", back)
	}
}
