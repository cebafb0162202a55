package hub_test

import (
	"encoding/json"
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

// A page after the first lists only users after its cursor: a member
// walking the list hears of every user who joins before that cursor, even
// while it asks for the next page, as its list needs.
func TestMembersPagesAfterTheFirstKeepPresencePushes(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0})
	watcher := dialAs(t, node, "w")
	expectReply(t, watcher.Call("j", "room.join", map[string]string{"room": "list"}), 0, "")
	for _, user := range []string{"b1", "b2", "b3"} {
		expectReply(t, dialAs(t, node, user).Call("j", "room.join", map[string]string{"room": "list"}), 0, "")
		expectPush(t, watcher, "room.joined", map[string]string{"userId": user})
	}
	first := dataOf(t, watcher.Call("m", "room.members", map[string]any{"room": "list", "limit": 2}))
	if first["next"] != "b2" {
		t.Fatalf("first page %v, want b1, b2", first)
	}
	for i := range 20 {
		user := fmt.Sprintf("a%02d", i) // before the cursor: no page brings it
		joiner := dialAs(t, node, user)
		joiner.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": "list"}})
		watcher.Send(map[string]any{"id": "m2", "event": "room.members", "data": map[string]any{"room": "list", "limit": 2, "after": "b2"}})
		var paged, told bool
		for !paged || !told {
			m := watcher.Read()
			switch {
			case m.Code != nil && string(m.ID) == `"m2"`:
				paged = true
			case m.Event == "room.joined" && dataOf(t, m)["userId"] == user:
				told = true
			default:
				t.Fatalf("got %+v (data %s), want the page and room.joined of %s", m, m.Data, user)
			}
		}
		expectReply(t, joiner.Read(), 0, "")
	}
}

// A join refused past rooms.presenceEventsLimit was never told, and nor
// is its undoing: members past the limit count by pages, and one counted
// before it must not lose a user it never had.
func TestARefusedJoinPastTheLimitIsNotTold(t *testing.T) {
	node := startNode(t, map[string]any{"rooms.presenceEventsLimit": 2})
	watcher, member := dialAs(t, node, "w"), dialAs(t, node, "m")
	var joined wstest.Joined
	if err := json.Unmarshal(watcher.Call("j", "room.join", map[string]string{"room": "full"}).Data, &joined); err != nil {
		t.Fatal(err)
	}
	expectReply(t, member.Call("j", "room.join", map[string]string{"room": "full"}), 0, "")
	expectPush(t, watcher, "room.joined", map[string]string{"userId": "m"})
	expectReply(t, watcher.Request("s", "room.send", map[string]string{"room": "full", "text": "one"}), 0, "")

	late := dialAs(t, node, "x")
	r := late.Call("x", "room.join", map[string]any{"room": "full", "since": map[string]any{"offset": 99, "epoch": joined.Epoch}})
	if r.CodeOf(t) != 51 {
		t.Fatalf("a since past the end: %+v", r)
	}
	// The room is back at the limit: the next leave is told, and it is
	// the first presence push the watcher gets.
	expectReply(t, member.Request("l", "room.leave", map[string]string{"room": "full"}), 0, "")
	for {
		m := watcher.Read()
		if m.Event == "room.joined" || m.Event == "room.left" {
			if data := dataOf(t, m); m.Event != "room.left" || data["userId"] != "m" {
				t.Fatalf("the watcher was told %s %v, want room.left of m", m.Event, data)
			}
			return
		}
	}
}
