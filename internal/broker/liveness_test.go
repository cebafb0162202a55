package broker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/wstest"
)

// A heartbeat renews one score per room, and the renewal checks the
// node's entries against its users: an entry Redis kept for a user that
// left while the node could not tell it (a change lost in an outage) is
// found by the count and taken out.
func TestRedisHeartbeatPutsANodesEntriesRight(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	join(t, a, "r", "ann")
	join(t, a, "r", "bob")
	redis.Do(t, "ZADD", testPrefix+":entries:r", 0, "a\x00ghost")
	redis.Do(t, "ZADD", testPrefix+":members:r", 0, "ghost")
	ctx := context.Background()
	if n, _ := a.Count(ctx, "r"); n != 3 {
		t.Fatalf("count with the lost leave: %d, want 3", n)
	}
	a.Heartbeat()
	if users, count, err := a.Page(ctx, "r", "", 10); err != nil || count != 2 || !slices.Equal(users, []string{"ann", "bob"}) {
		t.Fatalf("after the heartbeat: %v, count %d (%v)", users, count, err)
	}
}

// A node whose score lapsed (a process stopped for longer than the TTL)
// loses its entries to the other nodes' calls; a join of it does not make
// what is left current, and it restores every user it has.
func TestRedisNodeBackFromALapseRestoresItsUsers(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	b := newRedisBrokerTTL(t, redis, testPrefix, "b", time.Minute, nil)
	join(t, a, "r", "ann")
	join(t, a, "r", "bob")
	join(t, b, "r", "ben")
	redis.Do(t, "ZADD", testPrefix+":nodes:r", 1, "a")
	ctx := context.Background()
	if n, _ := b.Count(ctx, "r"); n != 1 {
		t.Fatalf("count once a's score lapsed: %d, want b's 1", n)
	}
	if n := join(t, a, "r", "cid"); n != 2 {
		t.Fatalf("a's join after the lapse counts %d, want 2 (ben and cid)", n)
	}
	wstest.WaitFor(t, "a to restore ann and bob", func() bool {
		n, err := b.Count(ctx, "r")
		return err == nil && n == 4
	})
	if users, _, _ := b.Page(ctx, "r", "", 10); !slices.Equal(users, []string{"ann", "ben", "bob", "cid"}) {
		t.Fatalf("members after the restore: %v", users)
	}
}

// A node that restarts under the same id starts each room it joins from
// its own users: those of the process before leave at once rather than
// stay counted as the new one's.
func TestRedisRestartedNodeDropsItsPredecessorsUsers(t *testing.T) {
	redis := wstest.StartRedis(t)
	before := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	join(t, before, "r", "ann")
	join(t, before, "r", "bob")
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}
	after := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	if n := join(t, after, "r", "cid"); n != 1 {
		t.Fatalf("the restarted node's first join counts %d, want 1", n)
	}
	after.Heartbeat()
	if users, count, _ := after.Page(context.Background(), "r", "", 10); count != 1 || !slices.Equal(users, []string{"cid"}) {
		t.Fatalf("members after the restart: %v (%d)", users, count)
	}
}
