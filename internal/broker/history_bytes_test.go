package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// newRedisBrokerHistory is node "a" of newRedisBroker with a presence
// TTL of presenceTTL, keeping history.
func newRedisBrokerHistory(t *testing.T, redis *wstest.Redis, presenceTTL time.Duration, history broker.History) *broker.Redis {
	t.Helper()
	return newRedisBrokerWith(t, redis, broker.RedisOptions{Prefix: testPrefix, Node: "a", PresenceTTL: presenceTTL, History: history}, nil)
}

// The kept messages of all rooms together stay within MaxBytes, on a
// memory node and cluster-wide in Redis: over it, the rooms with no users
// lose theirs first, those quiet longest first, while a room with users
// keeps its own.
func TestHistoryKeepsToItsBytes(t *testing.T) {
	history := broker.History{Size: 100, TTL: time.Minute, MaxBytes: 20_000}
	redis := wstest.StartRedis(t)
	for name, b := range map[string]broker.Broker{
		"memory": broker.NewMemoryWithHistory(history),
		"redis":  newRedisBrokerHistory(t, redis, 2*time.Second, history),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// A room's epoch as its first message left it: a room whose
			// stream went with its history starts again in a new one.
			epochs := map[string]string{}
			send := func(room string, n int) {
				t.Helper()
				for range n {
					if _, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: bytes.Repeat([]byte("x"), 1000)}); err != nil {
						t.Fatal(err)
					}
				}
				if epochs[room] == "" {
					head, err := b.Recover(ctx, room, nil)
					if err != nil {
						t.Fatal(err)
					}
					epochs[room] = head.Epoch
				}
			}
			recovers := func(room string) bool {
				t.Helper()
				rec, err := b.Recover(ctx, room, &broker.Position{Epoch: epochs[room], Offset: 0})
				if err != nil {
					t.Fatal(err)
				}
				return rec.Recovered
			}
			join(t, b, "busy", "ann")
			send("busy", 5)
			// Twenty empty rooms of about 1,000 bytes each: over 25,000
			// bytes in all, over the bound, so the first of them lose
			// theirs.
			for i := range 20 {
				send(fmt.Sprintf("empty-%02d", i), 1)
			}
			if !recovers("busy") {
				t.Error("the room with a user lost its history to rooms without users")
			}
			if recovers("empty-00") {
				t.Error("the room quiet longest kept its history over the bound")
			}
			if !recovers("empty-19") {
				t.Error("the last room to speak lost its history")
			}
			// Past the rooms without users, the room with users quiet
			// longest goes.
			send("busy", 4)
			join(t, b, "crowded", "bob")
			send("crowded", 12)
			if recovers("busy") {
				t.Error("with every room's users kept, the one quiet longest kept its history over the bound")
			}
			if !recovers("crowded") {
				t.Error("the last room to speak lost its history")
			}
		})
	}
}

// Redis's count of the bytes kept follows the lists: messages trimmed
// past history.size, lists expired after history.ttl, rooms forgotten
// over the bound. A count left behind by expired lists would forget live
// rooms' messages for bytes no longer kept. Beside its messages, each
// room counts what its list and, as it has no users, its position hold.
func TestRedisCountsTheBytesItKeeps(t *testing.T) {
	redis := wstest.StartRedis(t)
	b := newRedisBrokerHistory(t, redis, 2*time.Second, broker.History{Size: 3, TTL: 300 * time.Millisecond, MaxBytes: 1 << 20})
	ctx := context.Background()
	send := func(room string, size int) {
		t.Helper()
		if _, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: bytes.Repeat([]byte("x"), size)}); err != nil {
			t.Fatal(err)
		}
	}
	kept := func() (counted, listed int) {
		t.Helper()
		counted = redis.Do(t, "GET", testPrefix+":kept:total").Int()
		for _, key := range redis.Do(t, "KEYS", testPrefix+":history:*").Strings() {
			list, idle := broker.KeptCost(testPrefix, strings.TrimPrefix(key, testPrefix+":history:"))
			listed += list + idle
			for _, e := range redis.Do(t, "LRANGE", key, 0, -1).Strings() {
				listed += len(e)
			}
		}
		return counted, listed
	}
	for i := range 10 {
		send("a", 100+i)
		send(fmt.Sprintf("room-%d", i%4), 1000)
	}
	if counted, listed := kept(); counted != listed || listed == 0 {
		t.Fatalf("after trimming to 3 per room: %d bytes counted, %d kept", counted, listed)
	}
	// Another room speaks before the lists expire, so the count's own
	// keys outlive them; then a room whose list expired starts a new one,
	// and the old one's bytes go, its own and the others'.
	wstest.WaitFor(t, "the lists to near their expiry", func() bool {
		return redis.Do(t, "PTTL", testPrefix+":history:room-0").Int() < 150
	})
	send("b", 10)
	wstest.WaitFor(t, "the lists but b's to expire", func() bool {
		keys := redis.Do(t, "KEYS", testPrefix+":history:*").Strings()
		return len(keys) == 1 && keys[0] == testPrefix+":history:b"
	})
	send("room-0", 10)
	if counted, listed := kept(); counted != listed {
		t.Fatalf("after the lists expired: %d bytes counted, %d kept", counted, listed)
	}
	// The count's own keys go when the last list does.
	for _, key := range []string{"bytes", "total", "used"} {
		if lasts := redis.Do(t, "PTTL", testPrefix+":kept:"+key).Int(); lasts < 0 {
			t.Errorf("%s:kept:%s: PTTL %d, want it to expire", testPrefix, key, lasts)
		}
	}
}

// Over the bound, one append forgets at most 1,000 rooms, however far
// over it Redis is (a bound lowered, nodes configured apart): the appends
// that follow go on with it, and no call holds Redis for long.
func TestRedisForgetsABoundedNumberOfRoomsPerAppend(t *testing.T) {
	const rooms = 3000
	redis := wstest.StartRedis(t)
	ctx := context.Background()
	unbounded := newRedisBrokerHistory(t, redis, 2*time.Second, broker.History{Size: 10, TTL: time.Minute})
	for i := range rooms {
		if _, err := unbounded.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: fmt.Sprintf("r-%05d", i), Frame: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	lowered := newRedisBrokerWith(t, redis, broker.RedisOptions{Prefix: testPrefix, Node: "b", PresenceTTL: 2 * time.Second,
		History: broker.History{Size: 10, TTL: time.Minute, MaxBytes: 1000}}, nil)
	keeping := func() int { return redis.Do(t, "ZCARD", testPrefix+":kept:used").Int() }
	for step := 1; keeping() > 100; step++ {
		before := keeping()
		if _, err := lowered.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "new", Frame: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if forgotten := before - keeping(); forgotten > 1000 || forgotten <= 0 {
			t.Fatalf("append %d forgot %d of %d rooms", step, forgotten, before)
		}
	}
}
