package cmd_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A join whose presence change could not reach Redis counts this node's
// users, its own among them, even when Redis is back by the time the
// room's subscription is confirmed: Redis lacks the user until
// the node restores its presence there. Here the node's subscription
// drops and its new one waits at a relay while the user joins; the node's
// restore waits there too.
func TestAJoinWhoseChangeMissedRedisCountsItsUser(t *testing.T) {
	t.Parallel()
	node, relay, redis := launchThroughRelay(t, "missed")
	ann := node.dialAs(t, "ann")

	relay.hold("subscribe")
	relay.hold("restore")
	redis.Do(t, "CLIENT", "KILL", "TYPE", "pubsub")
	wstest.WaitFor(t, "the node to lose the cluster", func() bool { return node.status("/readyz") == 503 })
	wstest.WaitFor(t, "its new subscription to wait at the relay", func() bool { return relay.holdingAt("subscribe") })

	ann.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": "r"}})
	wstest.WaitFor(t, "ann to be in the room", func() bool {
		return strings.Contains(node.admin(t, "GET", "/connections?user=ann", ""), `"rooms":["r"]`)
	})
	// Her change went to the broker as she entered, and the broker,
	// out of reach, refused it without I/O: long before the admin call
	// above was answered. (Had it not, Redis would take her change once
	// back, and count her all the same.)
	relay.count("page")
	relay.let("subscribe")
	// The room's subscription is confirmed and the join counts the room
	// again, before the node's presence is back in Redis.
	wstest.WaitFor(t, "the join to count the room again", func() bool { return relay.named() > 0 })
	relay.let("restore")

	var got struct{ Members int }
	r := ann.Read()
	if err := json.Unmarshal(r.Data, &got); err != nil || r.CodeOf(t) != 0 {
		t.Fatalf("join: %+v %s", r, r.Data)
	}
	if got.Members != 1 {
		t.Fatalf("a join whose change missed Redis was answered %s, want ann counted: members 1", r.Data)
	}
}
