package cmd_test

import (
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A member keeps its room's stream whole when Redis drops its node's
// subscription while another node keeps publishing: the messages
// published before the node is subscribed again still come, in order,
// none skipped.
func TestClusterStreamSurvivesADroppedSubscription(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	a, b := launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil)
	bob := a.dialAs(t, "bob")
	bob.JoinSince("f", nil)
	alice := b.dialAs(t, "alice")
	joined, _ := alice.JoinSince("f", nil)
	stop := wstest.Publish(t, "f", bob)
	defer stop()
	last := joined.Offset
	for round := range 5 {
		alice.ExpectStream("f", last, last+50)
		last += 50
		redis.Do(t, "CLIENT", "KILL", "TYPE", "pubsub")
		through := last + 200
		for last < through {
			m := alice.Read()
			if m.Room != "f" || m.Offset == 0 {
				continue
			}
			if m.Offset != last+1 {
				t.Fatalf("round %d: offset %d after %d", round, m.Offset, last)
			}
			last = m.Offset
		}
	}
}

// A message published while a node is out of the room's channel reaches
// that node's members once it is back, though nothing is published after
// it: a quiet room does not keep a member behind until the next message,
// whether or not the node had received any of the room's messages before.
func TestClusterStreamCatchesUpAfterTheSubscriptionReturns(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	// Node B has a Redis user of its own, so that the test can keep it
	// alone out of Pub/Sub for a while.
	redis.Do(t, "ACL", "SETUSER", "nodeb", "on", ">pw", "~*", "&*", "+@all")
	a := launchClusterNode(t, redis, nil)
	b := launchClusterNode(t, redis, map[string]any{"redis.default.user": "nodeb", "redis.default.pass": "pw"})
	bob := a.dialAs(t, "bob")
	alice := b.dialAs(t, "alice")
	send := func(room, text string) {
		t.Helper()
		r := bob.Request("s", "room.send", map[string]string{"room": room, "text": text})
		if r.CodeOf(t) != 0 || !strings.Contains(string(r.Data), `"offset"`) {
			t.Fatalf("room.send %s: %+v %s", text, r, r.Data)
		}
	}
	// Node B has had a message of room "warm", none of room "cold".
	rooms := []string{"warm", "cold"}
	joined := map[string]uint64{}
	for _, room := range rooms {
		bob.JoinSince(room, nil)
		j, _ := alice.JoinSince(room, nil)
		joined[room] = j.Offset
	}
	send("warm", "before")
	alice.ExpectStream("warm", joined["warm"], joined["warm"]+1)
	joined["warm"]++

	redis.Do(t, "ACL", "SETUSER", "nodeb", "off")
	redis.Do(t, "CLIENT", "KILL", "USER", "nodeb", "TYPE", "pubsub")
	wstest.WaitFor(t, "node B to lose its subscription", func() bool { return b.status("/readyz") == 503 })
	for _, room := range rooms {
		send(room, "while B is away")
	}
	redis.Do(t, "ACL", "SETUSER", "nodeb", "on")
	wstest.WaitFor(t, "node B to be back", func() bool { return b.status("/readyz") == 200 })
	expectEach(t, alice, joined, 1)
	for _, room := range rooms {
		send(room, "after")
	}
	expectEach(t, alice, joined, 1)
}

// expectEach reads until c has the next n messages of the stream of each
// room in last, after its offset there, and moves the offsets on; it
// fails at a gap, a repeat or a message out of order.
func expectEach(t *testing.T, c *wstest.Client, last map[string]uint64, n uint64) {
	t.Helper()
	through := make(map[string]uint64, len(last))
	for room, offset := range last {
		through[room] = offset + n
	}
	for behind := len(last); behind > 0; {
		m := c.Read()
		at, ok := last[m.Room]
		if !ok || m.Offset == 0 {
			continue
		}
		if m.Offset != at+1 {
			t.Fatalf("room %s: offset %d after %d", m.Room, m.Offset, at)
		}
		if last[m.Room] = m.Offset; m.Offset == through[m.Room] {
			behind--
		}
	}
}
