package hub_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A client that comes back with the offset and epoch it last saw gets
// what it missed, before the reply, and then the live messages, with no
// gap and no repeat; a wrong epoch or a since past the end does not.
func TestJoinWithSinceRecoversMissedMessages(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0})
	alice, bob := dialAs(t, node, "alice"), dialAs(t, node, "bob")
	joined, _ := alice.JoinSince("r", nil)
	if joined.Offset != 0 || joined.Epoch == "" || joined.Recovered != nil {
		t.Fatalf("first join: %+v", joined)
	}
	bob.JoinSince("r", nil)
	send := func(text string) uint64 {
		t.Helper()
		bob.Send(map[string]any{"id": "s", "event": "room.send", "data": map[string]string{"room": "r", "text": text}})
		for {
			if m := bob.Read(); m.Code != nil {
				var sent struct{ Offset uint64 }
				if err := json.Unmarshal(m.Data, &sent); err != nil || sent.Offset == 0 {
					t.Fatalf("room.send reply %s", m.Data)
				}
				return sent.Offset
			}
		}
	}
	for i := range 3 {
		if got := send(fmt.Sprint(i)); got != uint64(i+1) {
			t.Fatalf("message %d took offset %d", i, got)
		}
	}
	alice.ExpectStream("r", 0, 3)
	_ = alice.Close()
	for i := 3; i < 8; i++ {
		send(fmt.Sprint(i))
	}

	back := dialAs(t, node, "alice")
	since := &wstest.Since{Offset: 3, Epoch: joined.Epoch}
	rejoined, replayed := back.JoinSince("r", since)
	if rejoined.Recovered == nil || !*rejoined.Recovered || rejoined.Offset != 8 || rejoined.Epoch != joined.Epoch {
		t.Fatalf("join with since: %+v", rejoined)
	}
	wstest.CheckReplay(t, replayed, 3, 8)
	if data := dataOf(t, replayed[0]); data["text"] != "3" || replayed[0].Event != "room.message" {
		t.Fatalf("first replayed message: %+v %v", replayed[0], data)
	}
	send("live")
	back.ExpectStream("r", 8, 9)
	if got := wstest.Metric(t, node.HTTPURL, `ws_room_history_recovered_total{result="recovered"}`); got != 1 {
		t.Fatalf("recovered joins counted: %v", got)
	}

	// Another epoch: nothing replayed, recovered false, the position to
	// reload from.
	other := dialAs(t, node, "carol")
	lost, replayed := other.JoinSince("r", &wstest.Since{Offset: 2, Epoch: "0123456789ab"})
	if lost.Recovered == nil || *lost.Recovered || lost.Offset != 9 || len(replayed) != 0 {
		t.Fatalf("join with another epoch: %+v, %d replayed", lost, len(replayed))
	}
	// Past the end: code 51, and the join is undone.
	late := dialAs(t, node, "dave")
	r := late.Call("j", "room.join", map[string]any{"room": "r", "since": map[string]any{"offset": 10, "epoch": joined.Epoch}})
	if r.CodeOf(t) != 51 || !r.HasText("past the last offset", "9") {
		t.Fatalf("since past the end: %+v", r)
	}
	if r := late.Call("s", "room.send", map[string]string{"room": "r", "text": "x"}); r.CodeOf(t) != 61 {
		t.Fatalf("send after a refused join: %+v", r)
	}
	// Past the end from a member: code 51, and it stays a member.
	again := back.Request("again", "room.join", map[string]any{"room": "r", "since": map[string]any{"offset": 99, "epoch": joined.Epoch}})
	if again.CodeOf(t) != 51 || !again.HasText("past the last offset") {
		t.Fatalf("a member's join with since past the end: %+v", again)
	}
	// The room is told that dave came and went: a count taken between
	// the refused join's change and its undoing included dave.
	var told []string
	for len(told) < 2 {
		m := bob.Read()
		if (m.Event == "room.left" || m.Event == "room.joined") && strings.Contains(string(m.Data), `"dave"`) {
			told = append(told, m.Event)
		}
	}
	if told[0] != "room.joined" || told[1] != "room.left" {
		t.Fatalf("bob was told %v of dave's refused join, want room.joined then room.left", told)
	}
}

// Recovery gives up, and says so, when the history no longer holds every
// missed message: it overflowed, or the stream expired.
func TestRecoveryEndsWithTheHistory(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0, "rooms.history.size": 3, "rooms.history.ttl": "1s"})
	alice, bob := dialAs(t, node, "alice"), dialAs(t, node, "bob")
	joined, _ := alice.JoinSince("h", nil)
	bob.JoinSince("h", nil)
	for i := range 5 {
		bob.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "h", "text": fmt.Sprint(i)}})
	}
	bob.ExpectStream("h", 0, 5)
	// Three are kept: missing all three recovers, missing four does not.
	for _, tc := range []struct {
		since     uint64
		recovered bool
	}{{2, true}, {1, false}} {
		c := dialAs(t, node, fmt.Sprint("u", tc.since))
		got, replayed := c.JoinSince("h", &wstest.Since{Offset: tc.since, Epoch: joined.Epoch})
		if *got.Recovered != tc.recovered {
			t.Fatalf("since %d with 3 kept: %+v", tc.since, got)
		}
		if tc.recovered {
			wstest.CheckReplay(t, replayed, tc.since, 5)
		} else if len(replayed) != 0 {
			t.Fatalf("since %d replayed %d messages without recovering", tc.since, len(replayed))
		}
		leave(t, c, "h")
	}
	// A second after the last message the history has expired, but the
	// stream goes on while its room has users: the offsets its members
	// hold stay valid, and live messages keep counting.
	var later wstest.Joined
	wstest.WaitFor(t, "the history to expire", func() bool {
		probe := dialAs(t, node, "probe")
		later, _ = probe.JoinSince("h", &wstest.Since{Offset: 4, Epoch: joined.Epoch})
		leave(t, probe, "h")
		return !*later.Recovered
	})
	if later.Epoch != joined.Epoch || later.Offset != 5 {
		t.Fatalf("the stream of an occupied room restarted: %+v", later)
	}
	bob.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "h", "text": "after a quiet spell"}})
	alice.ExpectStream("h", 0, 6)
	// Once nobody is in the room, an expired stream ends: a new epoch, and
	// nothing to recover.
	leave(t, alice, "h")
	leave(t, bob, "h")
	var expired wstest.Joined
	wstest.WaitFor(t, "the stream to expire", func() bool {
		probe := dialAs(t, node, "probe")
		expired, _ = probe.JoinSince("h", nil)
		leave(t, probe, "h")
		return expired.Epoch != joined.Epoch
	})
	if expired.Offset != 0 {
		t.Fatalf("a new life of the stream starts at offset %d", expired.Offset)
	}
	late, _ := dialAs(t, node, "late").JoinSince("h", &wstest.Since{Offset: 5, Epoch: joined.Epoch})
	if *late.Recovered {
		t.Fatalf("recovered across an expiry: %+v", late)
	}
}

// leave takes c out of room.
func leave(t *testing.T, c *wstest.Client, room string) {
	t.Helper()
	expectReply(t, c.Request("leave", "room.leave", map[string]string{"room": room}), 0, `{"room":"`+room+`"}`)
}
