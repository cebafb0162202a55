package broker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// A node that receives thousands of rooms does not make a round trip to
// Redis per room, one after another, while it receives nothing else:
// when it first subscribes to them, and again when its subscription
// lapses and go-redis subscribes to all of them anew. 5,000 rooms took
// over 5,000 writes each time, 0.3 s here and seconds over a network,
// while Redis buffered the node's traffic up to its pubsub output buffer
// limit; their reads now share pipelines.
func TestThousandsOfRoomsAreSubscribedInFewRoundTrips(t *testing.T) {
	const rooms = 5000
	redis := wstest.StartRedis(t)
	a := newRedisBroker(t, redis, testPrefix, "a", nil)
	b, l, got := linkedBroker(t, redis, "b")
	ctx := context.Background()
	for i := range rooms {
		if i%2 == 0 { // half the rooms have a stream
			if _, err := a.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: fmt.Sprint("room-", i), Frame: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := l.writes.Load()
	waits := make([]<-chan struct{}, rooms)
	for i := range waits {
		waits[i] = b.WatchRoom(fmt.Sprint("room-", i))
	}
	for _, wait := range waits {
		<-wait
	}
	if writes := l.writes.Load() - before; writes > rooms/10 {
		t.Fatalf("subscribing to %d rooms took %d writes to Redis", rooms, writes)
	}

	l.cut()
	wstest.WaitFor(t, "b to lose its subscription", func() bool { return !b.Ready() })
	// What the rooms publish while b is away reaches b once it is back.
	for _, room := range []string{"room-0", "room-1"} {
		if _, err := a.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	before = l.writes.Load()
	l.mend()
	seen := streamOf(t, got, map[string]int{"room-0": 1, "room-1": 1})
	if writes := l.writes.Load() - before; writes > rooms/10 {
		t.Fatalf("subscribing again to %d rooms took %d writes to Redis", rooms, writes)
	}
	if len(seen["room-0"]) != 1 || len(seen["room-1"]) != 1 || seen["room-0"][0][:2] != "2@" || seen["room-1"][0][:2] != "1@" {
		t.Fatalf("after the lapse: %v", seen)
	}
}
