package hub_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A member that keeps its room's count as its join's reply gives it, or
// the members page it asks for next, then one more for each room.joined
// and one less for each room.left, has the room's count: however many
// join together, no join is told to a member whose count had it already,
// and none it had not is told before that count.
func TestCountsKeptFromPresencePushesStayRight(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0})
	const rounds, members = 5, 40
	for round := range rounds {
		room := fmt.Sprintf("crowd%d", round)
		clients := make([]*wstest.Client, members)
		for i := range clients {
			clients[i] = dialAs(t, node, fmt.Sprintf("r%du%02d", round, i))
		}
		for i, c := range clients {
			c.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": room}})
			if i%2 == 1 {
				c.Send(map[string]any{"id": "m", "event": "room.members", "data": map[string]string{"room": room}})
			}
		}
		counts := make([]int, members)
		for i, c := range clients {
			last := `"j"`
			if i%2 == 1 {
				last = `"m"`
			}
			counts[i] = c.CountRoom(-1, func(m wstest.Msg, _ int) bool { return string(m.ID) == last })
		}
		// Every join's reply is in, so every room.joined of theirs was
		// handed over before this one.
		expectReply(t, dialAs(t, node, "probe"+strconv.Itoa(round)).Call("p", "room.join", map[string]string{"room": room}), 0, "")
		for i, c := range clients {
			got := c.CountRoom(counts[i], func(m wstest.Msg, _ int) bool {
				return m.Event == "room.joined" && dataOf(t, m)["userId"] == "probe"+strconv.Itoa(round)
			})
			if got != members+1 {
				t.Fatalf("round %d: member %d counts %d users after the probe joined, want %d", round, i, got, members+1)
			}
		}
	}
}
