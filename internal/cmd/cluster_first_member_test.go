package cmd_test

import (
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A node's first member of a room is counted along with its join, which
// may reach Redis before the node's subscription to the room does: the
// presence pushes another node publishes meanwhile never reach the node,
// so the join's count must include them. Here node B's subscriptions
// wait at a relay while its member joins, and another user joins on
// node A before they go on.
func TestClusterCountOfANodesFirstMemberIncludesWhatItsSubscriptionMissed(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	relay := startRedisRelay(t, redis.Addr())
	settings := map[string]any{"broker.prefix": "first"}
	a, c := launchClusterNode(t, redis, settings), launchClusterNode(t, redis, settings)
	b := launchClusterNode(t, redis, wstest.Merge(settings, map[string]any{"redis.default.address": relay.addr()}))
	const room = "r"
	joinAcross(t, a.dialAs(t, "zed"), room)
	watcher := c.dialAs(t, "wes")
	joinAcross(t, watcher, room)

	xan := b.dialAs(t, "xan")
	relay.hold("subscribe")
	xan.Send(map[string]any{"id": "j", "event": "room.join", "data": map[string]string{"room": room}})
	wstest.WaitFor(t, "xan's presence change to reach Redis", func() bool {
		return redis.Do(t, "ZSCORE", "first:members:"+room, "xan").String() != ""
	})
	wstest.WaitFor(t, "node B's subscription to wait at the relay", relay.holding)
	joinAcross(t, a.dialAs(t, "yve"), room)
	expectEvent(t, watcher, "room.joined", `"yve"`) // on its way through Redis
	relay.release()

	if count := countOncePatJoins(t, xan, a, room); count != 5 {
		t.Fatalf("xan counts %d users once pat joined, want 5 (zed, wes, xan, yve, pat)", count)
	}
}
