package cmd_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A node without members of a room receives none of its traffic: its
// ws_broker_received_total counts only what was for its own connections.
func TestClusterRoutesByInterest(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	a, b, c := launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil)
	ann, bob, carl := a.dialAs(t, "ann"), b.dialAs(t, "bob"), c.dialAs(t, "carl")
	ann.Call("j", "room.join", map[string]string{"room": "busy"})
	joinAcross(t, bob, "busy")
	expectEvent(t, ann, "room.joined", `"userId":"bob"`)
	const messages = 50
	for i := range messages {
		ann.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "busy", "text": fmt.Sprint(i)}})
	}
	for i := range messages {
		expectEvent(t, bob, "room.message", fmt.Sprintf(`"text":"%d"`, i))
		expectEvent(t, ann, "room.message", fmt.Sprintf(`"text":"%d"`, i))
	}
	// ann's messages and then this push leave A in that order, and Redis
	// sends C its messages in the order it took them: when carl has the
	// push, C has had whatever of the room it was ever going to get.
	if r := ann.Call("u", "user.send", map[string]string{"to": "carl", "text": "hi"}); r.CodeOf(t) != 0 {
		t.Fatalf("user.send: %+v", r)
	}
	expectEvent(t, carl, "user.message", `"text":"hi"`)
	if got := wstest.Metric(t, c.base, "ws_broker_received_total"); got != 1 {
		t.Fatalf("node C, with no member in the room, took %v deliveries; want only carl's 1", got)
	}
	if got := wstest.Metric(t, b.base, "ws_broker_received_total"); got < messages {
		t.Fatalf("node B took %v deliveries, want at least %d", got, messages)
	}
}

// Counts are cluster-wide; presence pushes stop once a room is past
// rooms.presenceEventsLimit; a member page walk lists every user once,
// whichever node they are on; one connection's rooms are capped.
func TestClusterRoomsAtScale(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	limits := map[string]any{"rooms.presenceEventsLimit": 2, "rooms.maxPerConnection": 3}
	a, b := launchClusterNode(t, redis, limits), launchClusterNode(t, redis, limits)
	ann, bob, cat := a.dialAs(t, "ann"), b.dialAs(t, "bob"), b.dialAs(t, "cat")
	ann.Call("j", "room.join", map[string]string{"room": "big"})
	if r := joinAcross(t, bob, "big"); wstest.WithoutEpoch(r.Data) != `{"room":"big","members":2,"offset":0,"epoch":"E"}` {
		t.Fatalf("bob's join: %s", r.Data)
	}
	expectEvent(t, ann, "room.joined", `"userId":"bob"`)
	if r := joinAcross(t, cat, "big"); wstest.WithoutEpoch(r.Data) != `{"room":"big","members":3,"offset":0,"epoch":"E"}` {
		t.Fatalf("cat's join: %s", r.Data)
	}
	// Three users are past the limit of 2: nobody hears cat. The next
	// thing ann hears is bob's message.
	bob.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "big", "text": "after cat"}})
	expectEvent(t, ann, "room.message", `"text":"after cat"`)

	// More users on both nodes, then a walk in pages of 40.
	want := []string{"ann", "bob", "cat"}
	for i := range 120 {
		node := a
		if i%2 == 1 {
			node = b
		}
		user := fmt.Sprintf("u%03d", i)
		node.dialAs(t, user).Call("j", "room.join", map[string]string{"room": "big"})
		want = append(want, user)
	}
	slices.Sort(want)
	var walked []string
	after := ""
	for page := 0; ; page++ {
		if page > len(want)/40+1 {
			t.Fatal("the member walk does not end")
		}
		var reply struct {
			Count int      `json:"count"`
			Users []string `json:"users"`
			Next  string   `json:"next"`
		}
		r := ann.Call(page, "room.members", map[string]any{"room": "big", "limit": 40, "after": after})
		if err := json.Unmarshal(r.Data, &reply); err != nil || reply.Count != len(want) {
			t.Fatalf("page %d: %s (%v)", page, r.Data, err)
		}
		walked = append(walked, reply.Users...)
		if reply.Next == "" {
			break
		}
		after = reply.Next
	}
	if !slices.Equal(walked, want) {
		t.Fatalf("the walk listed %d users, want %d in order:\n%v", len(walked), len(want), walked)
	}

	// The cap: ann is in one room and may join two more, not three.
	for _, room := range []string{"two", "three"} {
		if r := ann.Call(room, "room.join", map[string]string{"room": room}); r.CodeOf(t) != 0 {
			t.Fatalf("join %s: %+v", room, r)
		}
	}
	r := ann.Call("four", "room.join", map[string]string{"room": "four"})
	if r.CodeOf(t) != 63 || !strings.Contains(r.Message, "rooms.maxPerConnection") {
		t.Fatalf("a fourth room: %+v", r)
	}
}

// A room hears of a user once, whatever the nodes and devices: room.joined
// when the user enters it on the first of them, room.left when the user
// leaves it on the last. The user's other devices are not told of it.
func TestClusterTellsARoomOfAUserOnce(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	a, b := launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil)
	watcher, alice, aliceOnB, bob := a.dialAs(t, "watcher"), a.dialAs(t, "alice"), b.dialAs(t, "alice"), b.dialAs(t, "bob")
	watcher.Call("j", "room.join", map[string]string{"room": "p"})
	joinAcross(t, alice, "p")
	expectEvent(t, watcher, "room.joined", `"userId":"alice"`)
	joinAcross(t, aliceOnB, "p")
	// bob's arrival is the next thing the watcher and alice's second
	// device hear: not alice again.
	joinAcross(t, bob, "p")
	expectEvent(t, watcher, "room.joined", `"userId":"bob"`)
	expectEvent(t, aliceOnB, "room.joined", `"userId":"bob"`)

	leaveAcross(t, alice, "p")
	bob.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "p", "text": "alice is still on B"}})
	expectEvent(t, watcher, "room.message", `"text":"alice is still on B"`)
	leaveAcross(t, aliceOnB, "p")
	expectEvent(t, watcher, "room.left", `"userId":"alice"`)
}

// leaveAcross leaves room, passing over the pushes c has not read.
func leaveAcross(t *testing.T, c *wstest.Client, room string) {
	t.Helper()
	if m := c.Request("leave", "room.leave", map[string]string{"room": room}); m.CodeOf(t) != 0 {
		t.Fatalf("leave %s: %+v", room, m)
	}
}
