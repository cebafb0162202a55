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
// it: a quiet room does not keep a member behind until the next message.
func TestClusterStreamCatchesUpAfterTheSubscriptionReturns(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	// Node B has a Redis user of its own, so that the test can keep it
	// alone out of Pub/Sub for a while.
	redis.Do(t, "ACL", "SETUSER", "nodeb", "on", ">pw", "~*", "&*", "+@all")
	a := launchClusterNode(t, redis, nil)
	b := launchClusterNode(t, redis, map[string]any{"redis.default.user": "nodeb", "redis.default.pass": "pw"})
	bob := a.dialAs(t, "bob")
	bob.JoinSince("q", nil)
	alice := b.dialAs(t, "alice")
	joined, _ := alice.JoinSince("q", nil)
	send := func(text string) {
		r := bob.Request("s", "room.send", map[string]string{"room": "q", "text": text})
		if r.CodeOf(t) != 0 || !strings.Contains(string(r.Data), `"offset"`) {
			t.Fatalf("room.send %s: %+v %s", text, r, r.Data)
		}
	}
	send("before")
	alice.ExpectStream("q", joined.Offset, joined.Offset+1)

	redis.Do(t, "ACL", "SETUSER", "nodeb", "off")
	redis.Do(t, "CLIENT", "KILL", "USER", "nodeb", "TYPE", "pubsub")
	wstest.WaitFor(t, "node B to lose its subscription", func() bool { return b.status("/readyz") == 503 })
	send("while B is away")
	redis.Do(t, "ACL", "SETUSER", "nodeb", "on")
	wstest.WaitFor(t, "node B to be back", func() bool { return b.status("/readyz") == 200 })
	alice.ExpectStream("q", joined.Offset+1, joined.Offset+2)
	send("after")
	alice.ExpectStream("q", joined.Offset+2, joined.Offset+3)
}
