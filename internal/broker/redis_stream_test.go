package broker_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// Position reads that share a script run still answer a position taken
// after each was asked for: never one that misses an append that had
// returned before the read began.
func TestRedisSharedPositionReadsAreCurrent(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBroker(t, redis, testPrefix, "a", nil)
	ctx := context.Background()
	const appends, readers = 300, 8
	var appended atomic.Uint64
	var appending atomic.Bool // false once the appends end, however they end
	appending.Store(true)
	var wg sync.WaitGroup
	wg.Add(1 + readers)
	go func() {
		defer wg.Done()
		defer appending.Store(false)
		for range appends {
			offset, err := a.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(`{}`)})
			if err != nil {
				t.Error(err)
				return
			}
			appended.Store(offset)
		}
	}()
	for range readers {
		go func() {
			defer wg.Done()
			for appending.Load() {
				before := appended.Load()
				rec, err := a.Recover(ctx, "r", nil)
				if err != nil {
					t.Error(err)
					return
				}
				if after := appended.Load(); rec.Offset < before || rec.Offset > after+1 {
					t.Errorf("read between offsets %d and %d answered %d", before, after, rec.Offset)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Redis that has forgotten the scripts (a restart, SCRIPT FLUSH) gets
// them again from the first calls that need them: presence, appends and
// position reads go on as before.
func TestRedisRunsScriptsItHasForgotten(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBroker(t, redis, testPrefix, "a", nil)
	ctx := context.Background()
	for round := 1; round <= 2; round++ {
		redis.Do(t, "SCRIPT", "FLUSH")
		if users := join(t, a, "r", "user-"+strconv.Itoa(round)); users != round {
			t.Fatalf("round %d: the join reports %d users", round, users)
		}
		offset, err := a.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(`{}`)})
		if err != nil || offset != uint64(round) {
			t.Fatalf("round %d: append at offset %d (%v)", round, offset, err)
		}
		redis.Do(t, "SCRIPT", "FLUSH")
		if rec, err := a.Recover(ctx, "r", nil); err != nil || rec.Offset != uint64(round) {
			t.Fatalf("round %d: position %d (%v)", round, rec.Offset, err)
		}
	}
}

// A join's presence change reads the room's stream position after it,
// once the room has a stream; a leave reads none.
func TestRedisJoinReadsThePosition(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBroker(t, redis, testPrefix, "a", nil)
	ctx := context.Background()
	applied, err := a.Apply(ctx, []broker.Change{{Room: "r", User: "ann", Join: true}})
	if err != nil || applied[0].Position != nil {
		t.Fatalf("a join before the room has a stream: %+v (%v), want no position", applied, err)
	}
	start, err := a.Recover(ctx, "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := a.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	applied, err = a.Apply(ctx, []broker.Change{{Room: "r", User: "bob", Join: true}, {Room: "r", User: "ann"}})
	want := broker.Position{Epoch: start.Epoch, Offset: 3}
	if err != nil || applied[0].Position == nil || *applied[0].Position != want || applied[0].Users != 2 {
		t.Fatalf("a join after 3 messages: %+v (%v), want 2 users at %+v", applied[0], err, want)
	}
	if applied[1].Position != nil || applied[1].Users != 1 {
		t.Fatalf("a leave: %+v, want 1 user and no position", applied[1])
	}
}

// historyBrokers are a memory broker and a Redis one, both keeping the
// default history.
func historyBrokers(t *testing.T, redis *wstest.Redis) map[string]broker.Broker {
	return map[string]broker.Broker{
		"memory": broker.NewMemoryWithHistory(broker.DefaultHistory()),
		"redis":  newRedisBroker(t, redis, testPrefix, "a", nil),
	}
}

// Recover at its edges, alike on both brokers: since at the last offset
// recovers nothing missed, one past it is refused, and a since of another
// epoch recovers nothing, however its offset compares.
func TestRecoverAtTheEdges(t *testing.T) {
	redis := wstest.StartRedis(t)
	for name, b := range historyBrokers(t, redis) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i := range 3 {
				if _, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: fmt.Appendf(nil, `{"n":%d}`, i)}); err != nil {
					t.Fatal(err)
				}
			}
			head, err := b.Recover(ctx, "r", nil)
			if err != nil || head.Offset != 3 {
				t.Fatalf("position after 3 messages: %+v (%v)", head, err)
			}
			for _, tc := range []struct {
				since     broker.Position
				recovered bool
				missed    int
			}{
				{broker.Position{Epoch: head.Epoch, Offset: 0}, true, 3},
				{broker.Position{Epoch: head.Epoch, Offset: 3}, true, 0},
				{broker.Position{Epoch: "another", Offset: 1}, false, 0},
				{broker.Position{Epoch: "another", Offset: 9}, false, 0},
			} {
				rec, err := b.Recover(ctx, "r", &tc.since)
				if err != nil || rec.Recovered != tc.recovered || len(rec.Missed) != tc.missed || rec.Position != head.Position {
					t.Errorf("since %+v: %+v (%v), want recovered %v with %d missed", tc.since, rec, err, tc.recovered, tc.missed)
				}
			}
			if _, err := b.Recover(ctx, "r", &broker.Position{Epoch: head.Epoch, Offset: 4}); !errors.Is(err, broker.ErrSinceBeyond) {
				t.Errorf("since one past the last offset: %v, want ErrSinceBeyond", err)
			}
		})
	}
	// With history off nothing is recovered, and a since past the end is
	// refused all the same.
	noHistory := broker.History{TTL: time.Minute}
	onRedis := newRedisBrokerWith(t, redis, broker.RedisOptions{
		Prefix: "no-history", Node: "a", PresenceTTL: time.Minute, History: noHistory,
	}, nil)
	for name, b := range map[string]broker.Broker{"memory": broker.NewMemoryWithHistory(noHistory), "redis": onRedis} {
		ctx := context.Background()
		if _, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		head, _ := b.Recover(ctx, "r", nil)
		if rec, err := b.Recover(ctx, "r", &head.Position); err != nil || rec.Recovered {
			t.Errorf("%s without history, since the last offset: %+v (%v), want not recovered", name, rec, err)
		}
		if _, err := b.Recover(ctx, "r", &broker.Position{Epoch: head.Epoch, Offset: 2}); !errors.Is(err, broker.ErrSinceBeyond) {
			t.Errorf("%s without history, since past the end: %v, want ErrSinceBeyond", name, err)
		}
	}
}

// A room's stream outlives rooms.history.ttl while the room has users, so
// that the offsets its members hold stay valid: only the kept messages
// expire. Once the room is empty, an expired stream ends, and the next
// one has a new epoch.
func TestAStreamOutlivesItsTTLWhileItsRoomHasUsers(t *testing.T) {
	redis := wstest.StartRedis(t)
	history := broker.History{Size: 100, TTL: 300 * time.Millisecond}
	onRedis := newRedisBrokerHistory(t, redis, 600*time.Millisecond, history)
	for name, b := range map[string]broker.Broker{
		"memory": broker.NewMemoryWithHistory(history),
		"redis":  onRedis,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			appendOne := func() uint64 {
				offset, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(`{}`)})
				if err != nil {
					t.Fatal(err)
				}
				return offset
			}
			join(t, b, "r", "ann")
			for range 3 {
				appendOne()
			}
			head, err := b.Recover(ctx, "r", nil)
			if err != nil || head.Offset != 3 {
				t.Fatalf("position after 3 messages: %+v (%v)", head, err)
			}
			var later broker.Recovery
			wstest.WaitFor(t, "the kept messages to expire", func() bool {
				later, err = b.Recover(ctx, "r", &broker.Position{Epoch: head.Epoch, Offset: 2})
				return err == nil && !later.Recovered
			})
			if later.Position != head.Position {
				t.Fatalf("the stream of a room with a user restarted: %+v, was %+v", later.Position, head.Position)
			}
			if offset := appendOne(); offset != 4 {
				t.Fatalf("the next message after the TTL took offset %d, want 4", offset)
			}
			leave(t, b, "r", "ann")
			var next broker.Recovery
			wstest.WaitFor(t, "the empty room's stream to end", func() bool {
				next, err = b.Recover(ctx, "r", nil)
				return err == nil && next.Epoch != head.Epoch
			})
			if next.Offset != 0 {
				t.Fatalf("a new stream starts at offset %d", next.Offset)
			}
		})
	}
}

// A join gives the room's stream position enough life to reach the
// node's next heartbeat, which keeps it from then on: a position about to
// expire would otherwise start again under the member just given it.
func TestAJoinKeepsTheStreamPositionItHandsOut(t *testing.T) {
	redis := wstest.StartRedis(t)
	b := newRedisBrokerHistory(t, redis, time.Minute, broker.History{Size: 10, TTL: 300 * time.Millisecond})
	if _, err := b.Append(context.Background(), broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	join(t, b, "r", "ann")
	if lasts := redis.Do(t, "PTTL", testPrefix+":stream:r").Int(); lasts < int(time.Minute/time.Millisecond) {
		t.Fatalf("the position a join handed out lasts %d ms, less than a heartbeat's wait", lasts)
	}
}

// Reading a room's position starts no stream: a room nobody used has none
// to report, and still has none after the read. A stream's position is
// the one a join would be told.
func TestPositionStartsNoStream(t *testing.T) {
	redis := wstest.StartRedis(t)
	for name, b := range historyBrokers(t, redis) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for range 2 {
				if at, err := b.Position(ctx, "unused"); err != nil || at != (broker.Position{}) {
					t.Fatalf("position of a room never used: %+v (%v), want none", at, err)
				}
			}
			if name == "redis" {
				if redis.Do(t, "EXISTS", testPrefix+":stream:unused").Int() != 0 {
					t.Fatalf("the read made the room's stream key")
				}
			}
			if _, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "used", Frame: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			head, err := b.Recover(ctx, "used", nil)
			if err != nil {
				t.Fatal(err)
			}
			if at, err := b.Position(ctx, "used"); err != nil || at != head.Position || at.Offset != 1 {
				t.Fatalf("position after one message: %+v (%v), want %+v", at, err, head.Position)
			}
		})
	}
}
