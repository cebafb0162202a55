package broker_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

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
