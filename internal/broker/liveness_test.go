package broker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
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
	if n, _ := a.Count(ctx, "r"); n.Users != 3 {
		t.Fatalf("count with the lost leave: %d, want 3", n)
	}
	// The restore the heartbeat asks for may be one already under way (the
	// node restores everything once it is first subscribed), which this
	// heartbeat does not wait for.
	a.Heartbeat()
	wstest.WaitFor(t, "the heartbeat to take the lost user out", func() bool {
		users, count, err := a.Page(ctx, "r", "", 10)
		return err == nil && count.Users == 2 && slices.Equal(users, []string{"ann", "bob"})
	})
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
	if n, _ := b.Count(ctx, "r"); n.Users != 1 {
		t.Fatalf("count once a's score lapsed: %d, want b's 1", n)
	}
	if n := join(t, a, "r", "cid"); n != 2 {
		t.Fatalf("a's join after the lapse counts %d, want 2 (ben and cid)", n)
	}
	wstest.WaitFor(t, "a to restore ann and bob", func() bool {
		n, err := b.Count(ctx, "r")
		return err == nil && n.Users == 4
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
	if users, count, _ := after.Page(context.Background(), "r", "", 10); count.Users != 1 || !slices.Equal(users, []string{"cid"}) {
		t.Fatalf("members after the restart: %v (%d)", users, count)
	}
}

// A node that restarts under the same id in a room its predecessor held
// more users in than one call drops leaves them over several calls: its
// first join answers at once, and the rest leave right after.
func TestRedisRestartedNodeDropsManyPredecessorsUsersInSteps(t *testing.T) {
	redis := wstest.StartRedis(t)
	before := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	applyAll(t, before, joinsTo("big", "user", 0, 2500))
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}
	after := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	join(t, after, "big", "zed")
	wstest.WaitFor(t, "the predecessor's users to leave", func() bool {
		n, err := after.Count(context.Background(), "big")
		return err == nil && n.Users == 1
	})
}

// A room's restore goes a page of users per call, and a call drops a
// bounded number of stale entries: a node with 2,500 users in a room, 300
// of them lost by Redis and 2,500 entries kept for users that left (ten
// of them also on another node), gets exactly its users back.
func TestRedisRestoresALargeRoomPageByPage(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	b := newRedisBrokerTTL(t, redis, testPrefix, "b", time.Minute, nil)
	applyAll(t, a, joinsTo("big", "user", 0, 2500))
	applyAll(t, b, joinsTo("big", "ghost", 0, 10))
	// Redis lost 300 of a's users and kept 2,500 that left, all before
	// a's first page in byte order.
	redis.Do(t, "EVAL", `
for i = 100, 399 do
  local user = string.format('user-%04d', i)
  redis.call('ZREM', KEYS[1], 'a\0' .. user)
  redis.call('ZREM', KEYS[2], user)
end
for i = 0, 2499 do
  local user = string.format('ghost-%04d', i)
  redis.call('ZADD', KEYS[1], 0, 'a\0' .. user)
  if redis.call('ZADD', KEYS[2], 0, user) == 0 then
    redis.call('HINCRBY', KEYS[3], user, 1)
  end
end`, 3, testPrefix+":entries:big", testPrefix+":members:big", testPrefix+":shared:big")
	redis.Do(t, "CONFIG", "SET", "slowlog-log-slower-than", 0)
	redis.Do(t, "CONFIG", "SET", "slowlog-max-len", 10000)
	redis.Do(t, "SLOWLOG", "RESET")
	var want []string
	for _, c := range append(joinsTo("big", "ghost", 0, 10), joinsTo("big", "user", 0, 2500)...) {
		want = append(want, c.User)
	}
	a.Heartbeat()
	ctx := context.Background()
	wstest.WaitFor(t, "a's restore to finish", func() bool {
		n, err := b.Count(ctx, "big")
		return err == nil && n.Users == len(want)
	})
	var got []string
	for after := ""; ; {
		users, _, err := b.Page(ctx, "big", after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) == 0 {
			break
		}
		got, after = append(got, users...), users[len(users)-1]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the restore the room lists %d users, want %d", len(got), len(want))
	}
	if shared := redis.Do(t, "HLEN", testPrefix+":shared:big").Int(); shared != 0 {
		t.Fatalf("%d users still counted on two nodes, want none", shared)
	}
	// Redis logs at most 32 arguments of a command, the last saying how
	// many more it had.
	calls := 0
	for _, entry := range redis.Do(t, "SLOWLOG", "GET", -1).Strings() {
		var fields []any
		if err := json.Unmarshal([]byte(entry), &fields); err != nil || len(fields) < 4 {
			t.Fatalf("slow log entry %s: %v", entry, err)
		}
		// evalsha, the script, the number of keys, the keys, then the
		// operation and four arguments before the users.
		args, _ := fields[3].([]any)
		if len(args) < 3 || args[0] != "evalsha" {
			continue
		}
		keys, _ := strconv.Atoi(fmt.Sprint(args[2]))
		if len(args) < 4+keys || args[3+keys] != "restore" {
			continue
		}
		calls++
		var more int
		if _, err := fmt.Sscanf(fmt.Sprint(args[len(args)-1]), "... (%d more arguments)", &more); err == nil {
			if users := len(args) - 1 + more - (3 + keys + 5); users > 1000 {
				t.Fatalf("a restore call carried %d users, want at most 1000", users)
			}
		}
	}
	if calls < 4 {
		t.Fatalf("%d restore calls, want at least 4: three pages, the first twice", calls)
	}
}

// A heartbeat that finds the node's score lapsed where it has a single
// user puts the user back and the score with it, so that the node does
// not lapse again at once.
func TestRedisHeartbeatRestoresALoneUser(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	join(t, a, "solo", "ann")
	redis.Do(t, "ZADD", testPrefix+":nodes:solo", 1, "a")
	a.Heartbeat()
	if score := redis.Do(t, "ZSCORE", testPrefix+":nodes:solo", "a").Float64(); score <= 1 {
		t.Fatalf("a's score after the heartbeat: %v, want it renewed", score)
	}
	if users, count, _ := a.Page(context.Background(), "solo", "", 10); count.Users != 1 || !slices.Equal(users, []string{"ann"}) {
		t.Fatalf("after the restore: %v, count %d", users, count)
	}
}

// A join that makes a room's keys again (Redis lost them while the node
// stayed current, or a leave in the same call emptied the room) gives
// them an expiry at once, not at the next
// heartbeat: a node that dies before it leaves nothing behind for good.
// The TTL is long enough that no heartbeat runs during the test.
func TestRedisKeysAJoinMakesExpire(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	join(t, a, "r", "ann")
	redis.Do(t, "DEL", testPrefix+":entries:r", testPrefix+":members:r")
	if n := join(t, a, "r", "bob"); n != 1 {
		t.Fatalf("count after the keys were made again: %d, want 1", n)
	}
	for _, key := range []string{"entries", "members"} {
		if ttl := redis.Do(t, "PTTL", testPrefix+":"+key+":r").Int(); ttl <= 0 {
			t.Fatalf("%s made by a join: PTTL %d, want an expiry", key, ttl)
		}
	}
	// The room's lone user leaving and another joining in one call, as a
	// page reload does: the leave deletes the keys and the join makes them
	// again.
	join(t, a, "s", "ann")
	if _, err := a.Apply(context.Background(), []broker.Change{{Room: "s", User: "ann"}, {Room: "s", User: "bob", Join: true}}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"entries", "members"} {
		if ttl := redis.Do(t, "PTTL", testPrefix+":"+key+":s").Int(); ttl <= 0 {
			t.Fatalf("%s made again in a call that emptied it: PTTL %d, want an expiry", key, ttl)
		}
	}
}

// joinsTo is the joins of users prefix-from to prefix-(to-1) to room.
func joinsTo(room, prefix string, from, to int) []broker.Change {
	var changes []broker.Change
	for i := from; i < to; i++ {
		changes = append(changes, broker.Change{Room: room, User: fmt.Sprintf("%s-%04d", prefix, i), Join: true})
	}
	return changes
}

// applyAll applies changes on node b once it receives the rooms they
// join, as the hub does.
func applyAll(tb testing.TB, b broker.Broker, changes []broker.Change) {
	tb.Helper()
	watched := map[string]bool{}
	for _, c := range changes {
		if c.Join && !watched[c.Room] {
			watched[c.Room] = true
			<-b.WatchRoom(c.Room)
		}
	}
	if _, err := b.Apply(context.Background(), changes); err != nil {
		tb.Fatal(err)
	}
}

// The heartbeats of the nodes still alive take a dead node's users out of
// a room a thousand per call: a few TTLs after it died, thousands of them
// are gone without any user's call on the room. The count is read with
// ZCARD, which drops nothing.
func TestRedisHeartbeatsDrainADeadNodesUsers(t *testing.T) {
	redis := wstest.StartRedis(t)
	const ttl = 300 * time.Millisecond
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", ttl, nil)
	dying := newRedisBrokerTTL(t, redis, testPrefix, "dying", ttl, nil)
	join(t, a, "r", "ann")
	applyAll(t, dying, joinsTo("r", "user", 0, 5000))
	if err := dying.Close(); err != nil {
		t.Fatal(err)
	}
	wstest.WaitWithin(t, 10*ttl, "the dead node's 5,000 users to leave", func() bool {
		return redis.Do(t, "ZCARD", testPrefix+":members:r").Int() == 1
	})
}

// A room that a call's sweep of a dead node's users empties is settled as
// one its last user left: its stream position, kept for their return,
// counts against rooms.history.maxBytes from then on, whichever call the
// sweep came with (here a count).
func TestARoomEmptiedBySweepingADeadNodeCountsItsPosition(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", time.Minute, nil)
	b := newRedisBrokerTTL(t, redis, testPrefix, "b", time.Minute, nil)
	join(t, a, "r", "ann")
	ctx := context.Background()
	if _, err := a.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	redis.Do(t, "ZADD", testPrefix+":nodes:r", 1, "a") // a's score lapsed: a died
	if n, err := b.Count(ctx, "r"); err != nil || n.Users != 0 {
		t.Fatalf("count once a's users are swept: %d (%v), want 0", n, err)
	}
	if idle := redis.Do(t, "HGET", testPrefix+":stream:r", "idle").Int(); idle == 0 {
		t.Fatal("the room's stream position is not counted once the sweep emptied the room")
	}
}
