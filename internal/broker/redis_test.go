package broker_test

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
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

// testPrefix is the prefix of the application most tests run as.
const testPrefix = "test-app"

// newRedisBroker returns a subscribed broker that hands other nodes'
// messages to handle (nil: drops them).
func newRedisBroker(tb testing.TB, redis *wstest.Redis, prefix, node string, handle broker.Handler) *broker.Redis {
	tb.Helper()
	return newRedisBrokerTTL(tb, redis, prefix, node, 2*time.Second, handle)
}

// newRedisBrokerTTL is newRedisBroker with a presence TTL of ttl.
func newRedisBrokerTTL(tb testing.TB, redis *wstest.Redis, prefix, node string, ttl time.Duration, handle broker.Handler) *broker.Redis {
	tb.Helper()
	return newRedisBrokerWith(tb, redis, broker.RedisOptions{Prefix: prefix, Node: node, PresenceTTL: ttl, History: broker.DefaultHistory()}, handle)
}

// newRedisBrokerWith is newRedisBroker with opts.
func newRedisBrokerWith(tb testing.TB, redis *wstest.Redis, opts broker.RedisOptions, handle broker.Handler) *broker.Redis {
	tb.Helper()
	return newBrokerAt(tb, redis.Addr(), opts, handle)
}

// newBrokerThrough is a subscribed broker of node, with a presence TTL of
// a minute, that reaches Redis at a relay's address: a test's heartbeats
// do not run unless it asks.
func newBrokerThrough(tb testing.TB, relay, node string, handle broker.Handler) *broker.Redis {
	tb.Helper()
	return newBrokerAt(tb, relay, broker.RedisOptions{
		Prefix: testPrefix, Node: node, PresenceTTL: time.Minute, History: broker.DefaultHistory(),
	}, handle)
}

// newBrokerAt is newRedisBrokerWith for a Redis at address, which may be
// a relay the test controls.
func newBrokerAt(tb testing.TB, address string, opts broker.RedisOptions, handle broker.Handler) *broker.Redis {
	tb.Helper()
	b, err := broker.NewRedis(&gredis.Config{Address: address}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	if handle == nil {
		handle = func(broker.Message) {}
	}
	b.Subscribe(handle)
	wstest.WaitFor(tb, opts.Node+" to subscribe", b.Ready)
	return b
}

// join records user in room on node b, as the hub does for a connection
// that joins: the room's deliveries reach b first. It returns the room's
// users.
func join(tb testing.TB, b broker.Broker, room, user string) int {
	tb.Helper()
	<-b.WatchRoom(room)
	return apply(tb, b, broker.Change{Room: room, User: user, Join: true})
}

// leave takes user out of room on node b, as the hub does for the
// connection, and returns the room's users.
func leave(tb testing.TB, b broker.Broker, room, user string) int {
	tb.Helper()
	b.UnwatchRoom(room)
	return apply(tb, b, broker.Change{Room: room, User: user})
}

func apply(tb testing.TB, b broker.Broker, change broker.Change) int {
	tb.Helper()
	applied, err := b.Apply(context.Background(), []broker.Change{change})
	if err != nil {
		tb.Fatal(err)
	}
	return applied[0].Users
}

// collect returns a handler that sends messages to a channel, and the
// channel.
func collect() (broker.Handler, chan broker.Message) {
	got := make(chan broker.Message, 10000)
	return func(m broker.Message) { got <- m }, got
}

func TestRedisCarriesMessagesBetweenNodesOnly(t *testing.T) {
	redis := wstest.StartRedis(t)
	handleA, gotA := collect()
	handleB, gotB := collect()
	a := newRedisBroker(t, redis, testPrefix, "a", handleA)
	b := newRedisBroker(t, redis, testPrefix, "b", handleB)

	// Values with every byte, so that no separator can break the framing.
	want := broker.Message{Kind: broker.ToRoom, Target: "room\x00:1", Frame: []byte("{\"x\":\"\x00\xff\"}"), Origin: "a"}
	// Both nodes have a member of the room, so both subscribe to it.
	join(t, a, want.Target, "ann")
	join(t, b, want.Target, "bob")
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

func TestRedisPrefixSeparatesApplications(t *testing.T) {
	redis := wstest.StartRedis(t)
	handleA2, gotA2 := collect()
	handleB1, gotB1 := collect()
	a1, a2 := newRedisBroker(t, redis, "app-a", "a1", nil), newRedisBroker(t, redis, "app-a", "a2", handleA2)
	b1, b2 := newRedisBroker(t, redis, "app-b", "b1", handleB1), newRedisBroker(t, redis, "app-b", "b2", nil)
	ctx := context.Background()

	// Presence: the same room in both applications, one user in each;
	// the receiving nodes have a member and a user of their own there.
	join(t, a1, "lobby", "ann")
	join(t, b2, "lobby", "bob")
	join(t, a2, "lobby", "cat")
	join(t, b1, "lobby", "dan")
	<-a2.WatchUser("bob")
	if users, _, err := a2.Page(ctx, "lobby", "", 10); err != nil || !slices.Equal(users, []string{"ann", "cat"}) {
		t.Fatalf("members of app A: %v %v", users, err)
	}
	if users, _, err := b1.Page(ctx, "lobby", "", 10); err != nil || !slices.Equal(users, []string{"bob", "dan"}) {
		t.Fatalf("members of app B: %v %v", users, err)
	}

	// Deliveries: a room message and a user message from app A reach
	// app A's other node...
	fromA := []broker.Message{
		{Kind: broker.ToRoom, Target: "lobby", Frame: []byte("room from A"), Origin: "a1"},
		{Kind: broker.ToUser, Target: "bob", Frame: []byte("user from A"), Origin: "a1"},
	}
	for _, m := range fromA {
		if err := a1.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range fromA {
		if got := receive(t, gotA2, "app A's other node"); string(got.Frame) != string(want.Frame) {
			t.Fatalf("app A's other node got %q, want %q", got.Frame, want.Frame)
		}
	}
	// ...and not app B's. Redis had sent them to every subscriber before
	// app A's other node got them, and sends one subscriber its messages in
	// order, so app B's first delivery is the one published after them.
	if err := b2.Publish(ctx, broker.Message{Kind: broker.ToRoom, Target: "lobby", Frame: []byte("room from B"), Origin: "b2"}); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, gotB1, "app B's other node"); string(got.Frame) != "room from B" {
		t.Fatalf("app B heard app A: got %q first", got.Frame)
	}

	// Every key and channel in Redis starts with one application's prefix.
	redis.ExpectNamesUnder(t, "app-a", "app-b")
}

func receive(t *testing.T, got <-chan broker.Message, who string) broker.Message {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(wstest.Timeout):
		t.Fatalf("%s got nothing", who)
		return broker.Message{}
	}
}

func TestDefaultPrefixIsTheModulePath(t *testing.T) {
	module := wstest.ModulePath(t)
	if got := broker.DefaultPrefix(); got != module {
		t.Fatalf("DefaultPrefix() = %q, want the module path %q", got, module)
	}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"built in module mode", &debug.BuildInfo{Path: "example.com/app/cmd/app", Main: debug.Module{Path: "example.com/app"}}, "example.com/app"},
		{"go run main.go", &debug.BuildInfo{Path: "command-line-arguments"}, module},
		{"no build information", nil, module},
	} {
		if got := broker.ModulePrefix(tc.info); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, good := range []string{"github.com/acme/chat", "app-a", "my_app:v2"} {
		if err := broker.CheckPrefix(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", "my app", "app\n", "app\x00", "app\u00a0"} {
		if err := broker.CheckPrefix(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// BenchmarkRedisFanout measures cross-node delivery from one sender: node
// pub publishes, node sub receives, through a real redis-server.
func BenchmarkRedisFanout(b *testing.B) {
	redis := wstest.StartRedis(b)
	var received atomic.Int64
	done := make(chan struct{})
	var want int64
	pub := newRedisBroker(b, redis, testPrefix, "pub", nil)
	sub := newRedisBroker(b, redis, testPrefix, "sub", func(broker.Message) {
		if received.Add(1) == atomic.LoadInt64(&want) {
			close(done)
		}
	})
	join(b, sub, "bench", "u") // sub receives the room only with a member in it
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

// Only a Redis that may evict keys, one with a maxmemory and a policy
// other than noeviction, is warned about.
func TestRedisEvictionWarning(t *testing.T) {
	redis := wstest.StartRedis(t)
	warning := func() string { return broker.EvictionWarning(redis.Do(t, "INFO", "memory").String()) }
	for _, step := range []struct {
		config []any
		want   string
	}{
		{nil, ""},
		{[]any{"maxmemory-policy", "allkeys-lru"}, ""}, // no maxmemory: nothing is evicted
		{[]any{"maxmemory", "1gb"}, "maxmemory (1073741824 bytes, maxmemory-policy allkeys-lru)"},
		{[]any{"maxmemory-policy", "volatile-ttl"}, "maxmemory-policy volatile-ttl"},
		{[]any{"maxmemory-policy", "noeviction"}, ""},
	} {
		if step.config != nil {
			redis.Do(t, "CONFIG", append([]any{"SET"}, step.config...)...)
		}
		got := warning()
		if step.want == "" && got != "" || !strings.Contains(got, step.want) {
			t.Fatalf("after CONFIG SET %v: warning %q, want one saying %q", step.config, got, step.want)
		}
	}
}

// Applied.Moved says whether a change took its user into or out of the
// room on every node: a user on two nodes enters with the first and
// leaves with the last.
func TestAppliedSaysWhetherTheUserMoved(t *testing.T) {
	redis := wstest.StartRedis(t)
	a, b := newRedisBroker(t, redis, testPrefix, "a", nil), newRedisBroker(t, redis, testPrefix, "b", nil)
	memory := broker.NewMemory()
	moved := func(node broker.Broker, join bool) bool {
		t.Helper()
		applied, err := node.Apply(context.Background(), []broker.Change{{Room: "r", User: "ann", Join: join}})
		if err != nil {
			t.Fatal(err)
		}
		return applied[0].Moved
	}
	for i, step := range []struct {
		node       broker.Broker
		join, want bool
	}{
		{a, true, true}, {b, true, false}, {a, false, false}, {b, false, true},
		{memory, true, true}, {memory, true, false}, {memory, false, true}, {memory, false, false},
	} {
		if got := moved(step.node, step.join); got != step.want {
			t.Errorf("step %d (join %v): moved %v, want %v", i, step.join, got, step.want)
		}
	}
}
