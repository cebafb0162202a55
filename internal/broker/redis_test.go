package broker_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogf/gf/v2/database/gredis"
	"go.uber.org/goleak"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, wstest.FrameworkGoroutines()...)
}

func newRedisBroker(tb testing.TB, redis *wstest.Redis, node string) *broker.Redis {
	tb.Helper()
	b, err := broker.NewRedis(&gredis.Config{Address: redis.Addr()}, node, 2*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	wstest.WaitFor(tb, node+" to subscribe", b.Ready)
	return b
}

func TestRedisCarriesMessagesBetweenNodesOnly(t *testing.T) {
	redis := wstest.StartRedis(t)
	a, b := newRedisBroker(t, redis, "a"), newRedisBroker(t, redis, "b")
	gotA, gotB := make(chan broker.Message, 10), make(chan broker.Message, 10)
	a.Subscribe(func(m broker.Message) { gotA <- m })
	b.Subscribe(func(m broker.Message) { gotB <- m })

	// Values with every byte, so that no separator can break the framing.
	want := broker.Message{Kind: broker.ToRoom, Target: "room\x00:1", Frame: []byte("{\"x\":\"\x00\xff\"}"), Origin: "a"}
	if err := a.Publish(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-gotB:
		if m.Kind != want.Kind || m.Target != want.Target || string(m.Frame) != string(want.Frame) || m.Origin != "a" {
			t.Fatalf("b got %+v, want %+v", m, want)
		}
	case <-time.After(wstest.Timeout):
		t.Fatal("b never got the message")
	}
	select {
	case m := <-gotA:
		t.Fatalf("the publishing node got its own message back: %+v", m)
	default:
	}
}

func TestRedisPresenceIsClusterWide(t *testing.T) {
	redis := wstest.StartRedis(t)
	a, b := newRedisBroker(t, redis, "a"), newRedisBroker(t, redis, "b")
	ctx := context.Background()
	for _, step := range []error{a.Join(ctx, "r", "ann"), b.Join(ctx, "r", "bob"), b.Join(ctx, "r", "ann")} {
		if step != nil {
			t.Fatal(step)
		}
	}
	if users, err := a.Members(ctx, "r"); err != nil || !slices.Equal(users, []string{"ann", "bob"}) {
		t.Fatalf("members: %v %v", users, err)
	}
	// ann is still on b after leaving a.
	if err := a.Leave(ctx, "r", "ann"); err != nil {
		t.Fatal(err)
	}
	if users, _ := b.Members(ctx, "r"); !slices.Equal(users, []string{"ann", "bob"}) {
		t.Fatalf("members after ann left a: %v", users)
	}
}

// BenchmarkRedisFanout measures cross-node delivery: node a publishes,
// node b receives, through a real redis-server.
func BenchmarkRedisFanout(b *testing.B) {
	redis := wstest.StartRedis(b)
	pub, sub := newRedisBroker(b, redis, "pub"), newRedisBroker(b, redis, "sub")
	var received atomic.Int64
	done := make(chan struct{})
	var want int64
	sub.Subscribe(func(broker.Message) {
		if received.Add(1) == atomic.LoadInt64(&want) {
			close(done)
		}
	})
	frame := []byte(fmt.Sprintf(`{"event":"room.message","data":{"room":"bench","from":"u","text":"%0100d"}}`, 0))
	ctx := context.Background()
	atomic.StoreInt64(&want, int64(b.N))
	b.ResetTimer()
	for range b.N {
		if err := pub.Publish(ctx, broker.Message{Kind: broker.ToRoom, Target: "bench", Frame: frame, Origin: "pub"}); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("received %d of %d", received.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
