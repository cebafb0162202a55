package broker_test

import (
	"context"
	"testing"

	"github.com/gogf/gf/v2/util/gconv"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// Presence changes are numbered in the order the broker made them, over
// every room and node, and a count says the number of the last change it
// includes: below the next change's, at or above every earlier one's.
func TestPresenceChangesAreNumberedInOrder(t *testing.T) {
	redis := wstest.StartRedis(t)
	a, b := newRedisBroker(t, redis, testPrefix, "a", nil), newRedisBroker(t, redis, testPrefix, "b", nil)
	memory := broker.NewMemory()
	checkNumbering(t, "memory", memory, memory)
	checkNumbering(t, "redis", a, b)

	// A count's number is kept as the last given out: no later change
	// is numbered below it, even if Redis's clock went back. Counted
	// once the clock has passed the last change, the count's number is
	// the time's.
	wstest.WaitFor(t, "Redis's clock to pass the last change", func() bool {
		clock := redis.Do(t, "TIME").Strings()
		ms := (gconv.Int64(clock[0])*1_000_000 + gconv.Int64(clock[1])) / 1000
		return ms*1024 > redis.Do(t, "GET", testPrefix+":presence").Int64()
	})
	last, err := a.Count(context.Background(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if kept := redis.Do(t, "GET", testPrefix+":presence").Int(); uint64(kept) != last.Version {
		t.Fatalf("a count said %d, and Redis keeps %d as the last number", last.Version, kept)
	}
	// Redis lost the numbers: they go on from the time, above the last.
	redis.Do(t, "DEL", testPrefix+":presence")
	applied, err := b.Apply(context.Background(), []broker.Change{{Room: "r2", User: "cid", Join: true}})
	if err != nil || applied[0].Version <= last.Version {
		t.Fatalf("after Redis lost the key, a change is numbered %+v (%v); the count before had %d", applied, err, last.Version)
	}
}

// checkNumbering applies changes alternately on a and b, in three rooms,
// and checks their numbers against each other and against counts.
func checkNumbering(t *testing.T, name string, a, b broker.Broker) {
	t.Helper()
	ctx := context.Background()
	var last uint64
	for i, change := range []broker.Change{
		{Room: "r1", User: "ann", Join: true},
		{Room: "r2", User: "bob", Join: true},
		{Room: "r1", User: "bob", Join: true},
		{Room: "r1", User: "ann"},
		{Room: "r1", User: "ann"}, // not there: it changes nothing, and is numbered all the same
	} {
		node := a
		if i%2 == 1 {
			node = b
		}
		applied, err := node.Apply(ctx, []broker.Change{change})
		if err != nil {
			t.Fatal(err)
		}
		if applied[0].Version <= last {
			t.Fatalf("%s: change %d (%+v) is numbered %d, after %d", name, i, change, applied[0].Version, last)
		}
		count, err := node.Count(ctx, change.Room)
		if err != nil || count.Version < applied[0].Version {
			t.Fatalf("%s: after change %d, numbered %d, a count says %+v (%v)", name, i, applied[0].Version, count, err)
		}
		last = count.Version // the next change is not in it
	}
	batch, err := a.Apply(ctx, []broker.Change{{Room: "r3", User: "ann", Join: true}, {Room: "r3", User: "bob", Join: true}, {Room: "r1", User: "cid", Join: true}})
	if err != nil {
		t.Fatal(err)
	}
	for i, applied := range batch {
		if applied.Version <= last {
			t.Fatalf("%s: change %d of a batch is numbered %d, after %d", name, i, applied.Version, last)
		}
		last = applied.Version
	}
	if _, page, err := b.Page(ctx, "r1", "", 10); err != nil || page.Version < last || page.Users != 2 {
		t.Fatalf("%s: a page says %+v (%v), want 2 users and changes up to %d", name, page, err, last)
	}
}
