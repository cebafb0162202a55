package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// A Redis that comes back with less than it had (restored from a snapshot
// older than its last writes, or a replica behind its primary) holds a
// room's stream at an offset the node has handed on messages past: its
// next appends would take those offsets again, in the same epoch, and the
// node would drop them as had. The node that notices, as it subscribes
// again, drops the stream, so that the next message starts a new epoch,
// which the node and the clients take as a stream started again.
func TestAStreamRedisRolledBackStartsAgain(t *testing.T) {
	redis := wstest.StartRedisIn(t, t.TempDir())
	handle, got := collect()
	a := newRedisBrokerWith(t, redis, broker.RedisOptions{Prefix: testPrefix, Node: "a", PresenceTTL: time.Minute, History: broker.DefaultHistory()}, handle)
	b := newRedisBroker(t, redis, testPrefix, "b", nil)
	ctx := context.Background()
	join(t, a, "r", "ann")
	send := func(text string) uint64 {
		t.Helper()
		offset, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "r", Frame: []byte(fmt.Sprintf("%q", text))})
		if err != nil {
			t.Fatal(err)
		}
		return offset
	}
	for i := 1; i <= 6; i++ {
		if i == 4 {
			redis.Do(t, "SAVE")
		}
		send(fmt.Sprint(i))
	}
	first := receive(t, got, "a")
	for range 5 {
		receive(t, got, "a")
	}
	redis.Kill()
	redis.Start()
	wstest.WaitFor(t, "a to be back", a.Ready)
	wstest.WaitFor(t, "b to be back", b.Ready)
	// a has subscribed again; the next message starts a new epoch.
	wstest.WaitFor(t, "the rolled back stream to be dropped", func() bool {
		return redis.Do(t, "EXISTS", testPrefix+":stream:r").Int() == 0
	})
	send("after")
	m := receive(t, got, "a")
	if m.Epoch == first.Epoch || m.Offset != 1 {
		t.Fatalf("after the rollback a got offset %d of epoch %s (the old one %s), want 1 of a new one", m.Offset, m.Epoch, first.Epoch)
	}
}
