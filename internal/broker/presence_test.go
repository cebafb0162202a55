package broker_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// A user on several nodes counts once; leaving one node keeps the user in
// the room until the last lets go.
func TestRedisCountsUsersOnceAcrossNodes(t *testing.T) {
	redis := wstest.StartRedis(t)
	a, b := newRedisBroker(t, redis, testPrefix, "a", nil), newRedisBroker(t, redis, testPrefix, "b", nil)
	c := newRedisBroker(t, redis, testPrefix, "c", nil)
	ctx := context.Background()
	for _, step := range []struct {
		node       broker.Broker
		user       string
		join       bool
		wantCount  int
		wantListed []string
	}{
		{a, "ann", true, 1, []string{"ann"}},
		{b, "bob", true, 2, []string{"ann", "bob"}},
		{b, "ann", true, 2, []string{"ann", "bob"}},
		{c, "ann", true, 2, []string{"ann", "bob"}},
		{a, "ann", false, 2, []string{"ann", "bob"}},
		{c, "ann", false, 2, []string{"ann", "bob"}},
		{b, "ann", false, 1, []string{"bob"}},
		{b, "bob", false, 0, nil},
	} {
		users, err := step.node.Apply(ctx, []broker.Change{{Room: "r", User: step.user, Join: step.join}})
		if err != nil || users[0].Users != step.wantCount {
			t.Fatalf("%+v: the change reports %v users (%v), want %d", step, users, err, step.wantCount)
		}
		if n, err := a.Count(ctx, "r"); err != nil || n.Users != step.wantCount {
			t.Fatalf("%+v: count %d %v", step, n, err)
		}
		if listed, _, _ := b.Page(ctx, "r", "", 10); !slices.Equal(listed, step.wantListed) {
			t.Fatalf("%+v: listed %v, want %v", step, listed, step.wantListed)
		}
	}
	// An empty room leaves no key behind.
	if keys := keysLeft(t, redis); len(keys) != 0 {
		t.Fatalf("keys after everyone left: %q", keys)
	}
}

// One Apply of many changes, rooms interleaved, more of one room than one
// script call takes, users entering, leaving and entering again within
// it, some also held by another node, reports each change's count as if
// the changes had been applied one by one, and leaves the room as they
// would have.
func TestRedisAppliesABatchInOrder(t *testing.T) {
	redis := wstest.StartRedis(t)
	a, b := newRedisBroker(t, redis, testPrefix, "a", nil), newRedisBroker(t, redis, testPrefix, "b", nil)
	ctx := context.Background()
	onB := map[string]bool{}
	var bChanges []broker.Change
	for i := 0; i < 1200; i += 5 {
		user := fmt.Sprintf("user-%d", i)
		onB[user] = true
		bChanges = append(bChanges, broker.Change{Room: "big", User: user, Join: true})
	}
	if _, err := b.Apply(ctx, bChanges); err != nil {
		t.Fatal(err)
	}
	var changes []broker.Change
	var want []int
	onA := map[string]map[string]bool{"big": {}, "small": {}}
	count := func(room string) int {
		n := len(onA[room])
		if room == "big" {
			for user := range onB {
				if !onA[room][user] {
					n++
				}
			}
		}
		return n
	}
	change := func(room string, i int, join bool) {
		user := fmt.Sprintf("user-%d", i)
		changes = append(changes, broker.Change{Room: room, User: user, Join: join})
		if join {
			onA[room][user] = true
		} else {
			delete(onA[room], user)
		}
		want = append(want, count(room))
	}
	for i := range 1200 {
		change("big", i, true)
		switch {
		case i%7 == 0:
			change("small", i, true)
		case i%11 == 0:
			change("big", i-1, false)
		case i%13 == 0:
			change("big", i, true) // already in: no change
		case i%17 == 0:
			change("big", i, false)
			change("big", i, true)
		}
	}
	applied, err := a.Apply(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int, len(applied))
	for i, ap := range applied {
		got[i] = ap.Users
	}
	if !slices.Equal(got, want) {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("change %d of %d (%+v) reports %d users, want %d", i, len(want), changes[i], got[i], want[i])
			}
		}
		t.Fatalf("got %d counts for %d changes", len(got), len(want))
	}
	for room := range onA {
		if n, err := b.Count(ctx, room); err != nil || n.Users != count(room) {
			t.Fatalf("room %s counts %d (%v), want %d", room, n, err, count(room))
		}
	}
	// Every user leaving, on both nodes, in one batch each, empties the
	// rooms and leaves no key behind.
	var leaves []broker.Change
	for room, users := range onA {
		for user := range users {
			leaves = append(leaves, broker.Change{Room: room, User: user})
		}
	}
	for _, step := range []struct {
		node    broker.Broker
		changes []broker.Change
	}{{a, leaves}, {b, bChanges}} {
		for i := range step.changes {
			step.changes[i].Join = false
		}
		if _, err := step.node.Apply(ctx, step.changes); err != nil {
			t.Fatal(err)
		}
	}
	if keys := keysLeft(t, redis); len(keys) != 0 {
		t.Fatalf("keys after everyone left: %q", keys)
	}
}

// A batch of joins only, what a filling room sends, goes by its own
// path in the script: among users new to the room, users already there
// on another node and users this node already holds, each join reports
// the count it would one by one; every key the batch made expires, and
// keys that were there keep their expiry.
func TestRedisAppliesABatchOfJoins(t *testing.T) {
	redis := wstest.StartRedis(t)
	a, b := newRedisBroker(t, redis, testPrefix, "a", nil), newRedisBroker(t, redis, testPrefix, "b", nil)
	ctx := context.Background()
	joins := func(from, to, step int) []broker.Change {
		var changes []broker.Change
		for i := from; i < to; i += step {
			changes = append(changes, broker.Change{Room: "r", User: fmt.Sprintf("user-%02d", i), Join: true})
		}
		return changes
	}
	for _, step := range []struct {
		node    broker.Broker
		changes []broker.Change
		want    []int
	}{
		{b, joins(0, 10, 1), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		// 5-9 are in the room on b already, 10-14 are new
		{a, joins(5, 15, 1), []int{10, 10, 10, 10, 10, 11, 12, 13, 14, 15}},
		// a holds 10, 12 and 14 already, 16 and 18 are new
		{a, joins(10, 20, 2), []int{15, 15, 15, 16, 17}},
	} {
		applied, err := step.node.Apply(ctx, step.changes)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, ap := range applied {
			got = append(got, ap.Users)
		}
		if !slices.Equal(got, step.want) {
			t.Fatalf("joins %v report %v users, want %v", step.changes, got, step.want)
		}
	}
	if others := redis.Do(t, "HLEN", testPrefix+":shared:r").Int(); others != 5 {
		t.Fatalf("%d users held on both nodes, want 5", others)
	}
	for _, key := range redis.Do(t, "KEYS", testPrefix+":*").Strings() {
		if ttl := redis.Do(t, "PTTL", key).Int(); ttl <= 0 {
			t.Fatalf("key %s has no expiry (PTTL %d)", key, ttl)
		}
	}
}

// Random batches on three nodes, joins only or mixed, with users held by
// several nodes, joining twice or leaving rooms they are not in, report
// the counts a plain model of the room gives after each change, and leave
// Redis agreeing with the model: its users in order, who is held twice,
// and each node's entries, before and after every node's heartbeat.
func TestRedisPresenceAgreesWithAModel(t *testing.T) {
	redis := wstest.StartRedis(t)
	nodes := map[string]*broker.Redis{}
	held := map[string]map[string]bool{}
	for _, name := range []string{"a", "b", "c"} {
		nodes[name] = newRedisBrokerTTL(t, redis, testPrefix, name, time.Minute, nil)
		held[name] = map[string]bool{}
		<-nodes[name].WatchRoom("r") // as the hub does while it has members
	}
	users := func() map[string]int { // user -> nodes holding them
		in := map[string]int{}
		for _, set := range held {
			for user := range set {
				in[user]++
			}
		}
		return in
	}
	random := rand.New(rand.NewPCG(13, 13))
	ctx := context.Background()
	for round := range 300 {
		name := []string{"a", "b", "c"}[random.IntN(3)]
		joinsOnly := random.IntN(2) == 0
		var changes []broker.Change
		var want []int
		for range 1 + random.IntN(20) {
			user := fmt.Sprintf("user-%03d", random.IntN(120))
			join := joinsOnly || random.IntN(2) == 0
			changes = append(changes, broker.Change{Room: "r", User: user, Join: join})
			if join {
				held[name][user] = true
			} else {
				delete(held[name], user)
			}
			want = append(want, len(users()))
		}
		applied, err := nodes[name].Apply(ctx, changes)
		if err != nil {
			t.Fatal(err)
		}
		for i := range changes {
			if applied[i].Users != want[i] {
				t.Fatalf("round %d, node %s, change %d of %v: %d users, want %d", round, name, i, changes, applied[i].Users, want[i])
			}
		}
	}
	check := func(when string) {
		t.Helper()
		in := users()
		var listed, shared []string
		for user, n := range in {
			listed = append(listed, user)
			if n > 1 {
				shared = append(shared, user)
			}
		}
		slices.Sort(listed)
		if got, _, err := nodes["a"].Page(ctx, "r", "", 1000); err != nil || !slices.Equal(got, listed) {
			t.Fatalf("%s: the room lists %v (%v), want %v", when, got, err, listed)
		}
		if n := redis.Do(t, "HLEN", testPrefix+":shared:r").Int(); n != len(shared) {
			t.Fatalf("%s: %d users held twice or more, want %d", when, n, len(shared))
		}
		for name, set := range held {
			entries := redis.Do(t, "ZLEXCOUNT", testPrefix+":entries:r", "["+name+"\x00", "("+name+"\x01").Int()
			if entries != len(set) {
				t.Fatalf("%s: node %s has %d entries, want %d", when, name, entries, len(set))
			}
		}
	}
	check("after the batches")
	for _, node := range nodes {
		node.Heartbeat()
	}
	check("after the heartbeats")
}

// Pages walk a room of a few hundred users, some on both nodes, in byte
// order, with no duplicate and no gap, and each reports the room's count.
func TestRedisPagesWalkARoom(t *testing.T) {
	redis := wstest.StartRedis(t)
	a, b := newRedisBroker(t, redis, testPrefix, "a", nil), newRedisBroker(t, redis, testPrefix, "b", nil)
	ctx := context.Background()
	var want []string
	var onA, onB []broker.Change
	for i := range 300 {
		user := fmt.Sprintf("user-%03d", i)
		want = append(want, user)
		onA = append(onA, broker.Change{Room: "big", User: user, Join: true})
		if i%3 == 0 {
			onB = append(onB, broker.Change{Room: "big", User: user, Join: true})
		}
	}
	for _, step := range []struct {
		node    broker.Broker
		changes []broker.Change
	}{{a, onA}, {b, onB}} {
		if _, err := step.node.Apply(ctx, step.changes); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 300/7+1 {
			t.Fatal("the walk does not end")
		}
		users, count, err := b.Page(ctx, "big", after, 7)
		if err != nil || count.Users != 300 || len(users) > 7 {
			t.Fatalf("page after %q: %d users, count %d %v", after, len(users), count.Users, err)
		}
		if len(users) == 0 {
			break
		}
		got = append(got, users...)
		after = users[len(users)-1]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the walk listed %d users, want the 300 in order: %v", len(got), got)
	}
}

// The users of a node that stops without leaving drop out of the count
// once its score lapses; the other nodes' stay. Both nodes have one TTL,
// as in a cluster, so the live node's heartbeat keeps the room's keys
// from expiring: the dead node's users go by the sweep.
func TestRedisForgetsADeadNodesUsers(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", 300*time.Millisecond, nil)
	dying := newRedisBrokerTTL(t, redis, testPrefix, "dying", 300*time.Millisecond, nil)
	join(t, a, "r", "ann")
	join(t, dying, "r", "bob")
	if n := join(t, dying, "r", "ann"); n != 2 {
		t.Fatalf("count with both nodes: %d", n)
	}
	if err := dying.Close(); err != nil {
		t.Fatal(err)
	}
	// Its score lapses a TTL after its last heartbeat; ten TTLs leave a
	// loaded machine room.
	wstest.WaitWithin(t, 10*300*time.Millisecond, "bob's entry to expire", func() bool {
		n, err := a.Count(context.Background(), "r")
		return err == nil && n.Users == 1
	})
	if users, _, _ := a.Page(context.Background(), "r", "", 10); !slices.Equal(users, []string{"ann"}) {
		t.Fatalf("members after the node died: %v", users)
	}
}

// A live node's heartbeat keeps its entries from expiring and, when Redis
// lost them, puts its users back, each counted once across nodes.
func TestRedisHeartbeatRenewsAndRestoresPresence(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", 300*time.Millisecond, nil)
	b := newRedisBroker(t, redis, testPrefix, "b", nil)
	join(t, a, "r", "ann")
	join(t, a, "r", "bob")
	join(t, b, "r", "ann")
	expiry := func() float64 { return redis.Do(t, "ZSCORE", testPrefix+":nodes:r", "a").Float64() }
	first := expiry()
	wstest.WaitFor(t, "a's heartbeat to renew its score past its first expiry", func() bool {
		return expiry() > first+300
	})
	ctx := context.Background()
	if n, err := a.Count(ctx, "r"); err != nil || n.Users != 2 {
		t.Fatalf("count after a's entries were renewed: %d (%v), want 2", n, err)
	}
	// Redis lost the room's entries and users but not the nodes' scores:
	// the renewals find fewer entries than the nodes have users.
	redis.Do(t, "DEL", testPrefix+":entries:r", testPrefix+":members:r", testPrefix+":shared:r")
	a.Heartbeat()
	b.Heartbeat()
	if users, count, err := b.Page(ctx, "r", "", 10); err != nil || count.Users != 2 || !slices.Equal(users, []string{"ann", "bob"}) {
		t.Fatalf("after the heartbeats put presence back: %v, count %d (%v)", users, count, err)
	}
	if others := redis.Do(t, "HGET", testPrefix+":shared:r", "ann").Int(); others != 1 {
		t.Fatalf("ann is held by %d nodes beyond one, want 1", others)
	}
	leave(t, b, "r", "ann")
	if n := leave(t, a, "r", "bob"); n != 1 {
		t.Fatalf("count after bob left and ann left one node: %d, want 1", n)
	}
}

// keysLeft lists Redis's keys but the one that numbers the presence
// changes of every room, which lives a few heartbeats after the last.
func keysLeft(t *testing.T, redis *wstest.Redis) []string {
	t.Helper()
	return slices.DeleteFunc(redis.Do(t, "KEYS", "*").Strings(), func(key string) bool { return key == testPrefix+":presence" })
}
