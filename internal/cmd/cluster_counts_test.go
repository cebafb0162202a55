package cmd_test

import (
	"fmt"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// Across nodes, as on one: a member that keeps its room's count as its
// join's reply gives it, or the members page it asks for next, then moves
// it by each room.joined, has the room's count once everyone is in. A
// push from the other node may reach a member after its count included
// that join, or before it: neither may move the count.
func TestClusterCountsKeptFromPresencePushesStayRight(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	rateOff := map[string]any{"ws.rateLimit.rate": 0}
	nodes := []*server{launchClusterNode(t, redis, rateOff), launchClusterNode(t, redis, rateOff)}
	const rounds, members = 3, 30
	for round := range rounds {
		room := fmt.Sprintf("crowd%d", round)
		clients := make([]*wstest.Client, members)
		for i := range clients {
			clients[i] = nodes[i%2].dialAs(t, fmt.Sprintf("r%du%02d", round, i))
		}
		for i, c := range clients {
			c.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": room}})
			if i%4 >= 2 {
				c.Send(map[string]any{"id": "m", "event": "room.members", "data": map[string]string{"room": room}})
			}
		}
		counts := make([]int, members)
		for i, c := range clients {
			last := `"j"`
			if i%4 >= 2 {
				last = `"m"`
			}
			counts[i] = c.CountRoom(-1, func(m wstest.Msg, _ int) bool { return string(m.ID) == last })
		}
		// Every member hears every join its count lacks...
		for i, c := range clients {
			if counts[i] < members {
				counts[i] = c.CountRoom(counts[i], func(_ wstest.Msg, count int) bool { return count >= members })
			}
		}
		// ...and nothing more: a room message sent once all were in
		// follows every push of theirs, through Redis to both nodes.
		clients[0].Send(map[string]any{"event": "room.send", "data": map[string]string{"room": room, "text": "all in"}})
		for i, c := range clients {
			got := c.CountRoom(counts[i], func(m wstest.Msg, _ int) bool { return m.Event == "room.message" })
			if got != members {
				t.Fatalf("round %d: member %d on node %d counts %d users, want %d", round, i, i%2, got, members)
			}
		}
	}
}
