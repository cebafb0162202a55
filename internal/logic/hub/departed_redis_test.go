package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/gogf/gf/v2/database/gredis"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// A node that dies leaves its users in their rooms until its presence
// lapses; then they leave on every node, and the members on the live
// nodes hear each of them go, so that the count a client keeps from its
// join's reply and the pushes comes back to the room's. The dead node
// here is a broker that joined two users and stopped, as a killed
// process does, without leaving.
func TestMembersHearTheUsersOfADeadNodeLeave(t *testing.T) {
	redis := wstest.StartRedis(t)
	const ttl = 400 * time.Millisecond
	node := startNode(t, map[string]any{
		"broker.type": "redis", "broker.prefix": "departed", "redis.default.address": redis.Addr(),
		"broker.presenceTTL": ttl.String(),
	})
	dying, err := broker.NewRedis(&gredis.Config{Address: redis.Addr()},
		broker.RedisOptions{Prefix: "departed", Node: "dying", PresenceTTL: ttl, History: broker.DefaultHistory()})
	if err != nil {
		t.Fatal(err)
	}
	dying.Subscribe(func(broker.Message) {})
	wstest.WaitFor(t, "the dying node to reach Redis", dying.Ready)
	<-dying.WatchRoom("lobby")
	changes := []broker.Change{{Room: "lobby", User: "bob", Join: true}, {Room: "lobby", User: "carol", Join: true}}
	if _, err := dying.Apply(context.Background(), changes); err != nil {
		t.Fatal(err)
	}

	ann := dialAs(t, node, "ann")
	ann.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": "lobby"}})
	joined := ann.CountRoom(-1, func(m wstest.Msg, _ int) bool { return string(m.ID) == `"j"` })
	if joined != 3 {
		t.Fatalf("members in the join's reply: %d, want 3", joined)
	}
	if err := dying.Close(); err != nil {
		t.Fatal(err)
	}
	var gone []string
	kept := ann.CountRoom(joined, func(m wstest.Msg, count int) bool {
		if m.Event == "room.left" {
			gone = append(gone, dataOf(t, m)["userId"].(string))
		}
		return count == 1
	})
	if kept != 1 || len(gone) != 2 || gone[0] != "bob" || gone[1] != "carol" {
		t.Fatalf("ann heard %v leave, keeping a count of %d; want bob and carol, and 1", gone, kept)
	}
	ann.Send(map[string]any{"id": "m", "event": "room.members", "data": map[string]string{"room": "lobby"}})
	if counted := ann.CountRoom(kept, func(m wstest.Msg, _ int) bool { return string(m.ID) == `"m"` }); counted != 1 {
		t.Fatalf("room.members counts %d users once the dead node's left, want 1", counted)
	}
}
