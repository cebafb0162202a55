package cmd_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A second connection of a user that joins while the user's first join is
// still on its way to Redis is counted without its user, and a leave that
// Redis sees empty the room meanwhile is one that its count included: it
// must hear of that leave, as of its user's join, or it counts one user
// too many.
func TestACountTakenBeforeTheUsersJoinHearsTheLeaveThatEmptiedTheRoom(t *testing.T) {
	t.Parallel()
	node, relay, _ := launchThroughRelay(t, "empties")
	const room = "r"
	ann := node.dialAs(t, "ann")
	joinAcross(t, ann, room)
	first, second := node.dialAs(t, "bob"), node.dialAs(t, "bob")

	joinBehindALeave(t, node, relay, ann, first, room)
	relay.count("page")
	second.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": room}})
	wstest.WaitFor(t, "bob's second connection to count the room", func() bool { return relay.named() > 0 })
	relay.release()

	count := second.CountRoom(-1, func(m wstest.Msg, _ int) bool { return string(m.ID) == `"j"` })
	if count != 1 {
		t.Fatalf("bob's second connection was answered %d members, want 1: ann, bob's join waiting behind her leave", count)
	}
	// bob's room.joined and pat's may come in either order: pat's join
	// can be answered while bob's first connection still waits for the
	// room's subscription.
	joinAcross(t, node.dialAs(t, "pat"), room)
	told := map[string]bool{}
	count = second.CountRoom(count, func(m wstest.Msg, _ int) bool {
		for _, user := range []string{"bob", "pat"} {
			if m.Event == "room.joined" && bytes.Contains(m.Data, []byte(`"`+user+`"`)) {
				told[user] = true
			}
		}
		return told["bob"] && told["pat"]
	})
	if count != 2 {
		t.Fatalf("bob's second connection counts %d users once bob and pat joined, want 2 (bob, pat)", count)
	}
}

// A join refused for a since past the stream's end was in the room until
// the refusal: a member counted in between must hear it leave. Here the
// refused join's read of the stream waits at a relay while another user
// joins.
func TestARefusedJoinLeavesNoCountBehind(t *testing.T) {
	t.Parallel()
	node, relay, _ := launchThroughRelay(t, "refused")
	const room = "r"
	watcher := node.dialAs(t, "wes")
	var joined wstest.Joined
	if err := json.Unmarshal(joinAcross(t, watcher, room).Data, &joined); err != nil {
		t.Fatal(err)
	}
	if r := watcher.Request("s", "room.send", map[string]string{"room": room, "text": "one"}); r.CodeOf(t) != 0 {
		t.Fatalf("send: %+v", r)
	}

	bad, member := node.dialAs(t, "xan"), node.dialAs(t, "mia")
	relay.hold("987654") // the refused join's since, read after its presence change
	bad.Send(map[string]any{"id": "x", "event": "room.join", "data": map[string]any{
		"room": room, "since": map[string]any{"offset": 987654, "epoch": joined.Epoch},
	}})
	wstest.WaitFor(t, "the refused join's read to wait at the relay", relay.holding)
	member.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": room}})
	wstest.WaitFor(t, "mia to be in the room", func() bool {
		return strings.Contains(node.admin(t, "GET", "/connections?user=mia", ""), `"rooms":["r"]`)
	})
	relay.release()
	for {
		if r := bad.Read(); string(r.ID) == `"x"` {
			if r.CodeOf(t) != 51 {
				t.Fatalf("a join with a since past the end: %+v", r)
			}
			break
		}
	}

	if count := countOncePatJoins(t, member, node, room); count != 3 {
		t.Fatalf("mia counts %d users once pat joined, want 3 (wes, mia, pat)", count)
	}
}

// countOncePatJoins counts room as c does, from the reply to its join
// request "j" on, then has pat join room on node and returns c's count
// once c hears of it.
func countOncePatJoins(t *testing.T, c *wstest.Client, node *server, room string) int {
	t.Helper()
	count := c.CountRoom(-1, func(m wstest.Msg, _ int) bool { return string(m.ID) == `"j"` })
	joinAcross(t, node.dialAs(t, "pat"), room)
	return c.CountRoom(count, func(m wstest.Msg, _ int) bool {
		return m.Event == "room.joined" && bytes.Contains(m.Data, []byte(`"pat"`))
	})
}

// joinBehindALeave has leaver leave room and joiner, bob's first
// connection, join it while the leave waits at the relay: until the relay
// lets go, bob is in the room on the node but not in Redis, where the
// leaver still is.
func joinBehindALeave(t *testing.T, node *server, relay *redisRelay, leaver, joiner *wstest.Client, room string) {
	t.Helper()
	relay.hold("apply") // the leave, and the presence changes behind it
	leaver.Request("l", "room.leave", map[string]string{"room": room})
	wstest.WaitFor(t, "the leave to wait at the relay", relay.holding)
	joiner.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": room}})
	wstest.WaitFor(t, "bob's first connection to be in the room", func() bool {
		return strings.Contains(node.admin(t, "GET", "/connections?user=bob", ""), `"rooms":["`+room+`"]`)
	})
}

// launchThroughRelay starts a node under prefix whose every Redis
// connection passes a relay that can hold its commands, as long as a test
// needs (the node's read timeout is 20s), on a Redis of its own.
func launchThroughRelay(t *testing.T, prefix string) (*server, *redisRelay, *wstest.Redis) {
	t.Helper()
	redis := wstest.StartRedis(t)
	relay := startRedisRelay(t, redis.Addr())
	node := launchClusterNode(t, redis, map[string]any{
		"redis.default.address": relay.addr(), "redis.default.readTimeout": "20s", "broker.prefix": prefix,
	})
	return node, relay, redis
}
