package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// BenchmarkRedisHeartbeat renews the presence of a node holding 10,000
// memberships (one room of 5,000 users, 100 rooms of 50) and reports the
// CPU time Redis spent on each renewal beside the node's own time.
func BenchmarkRedisHeartbeat(b *testing.B) {
	redis := wstest.StartRedis(b)
	node := newRedisBroker(b, redis, testPrefix, "a", nil)
	var changes []broker.Change
	for i := range 5000 {
		changes = append(changes, broker.Change{Room: "big", User: fmt.Sprintf("user-%04d", i), Join: true})
	}
	for room := range 100 {
		for i := range 50 {
			changes = append(changes, broker.Change{Room: fmt.Sprintf("room-%03d", room), User: fmt.Sprintf("user-%04d", i), Join: true})
		}
	}
	if _, err := node.Apply(context.Background(), changes); err != nil {
		b.Fatal(err)
	}
	before := redisCPUSeconds(b, redis)
	b.ResetTimer()
	for range b.N {
		node.Heartbeat()
	}
	b.StopTimer()
	b.ReportMetric((redisCPUSeconds(b, redis)-before)*1e3/float64(b.N), "redis-cpu-ms/op")
}

// redisCPUSeconds is the CPU time redis-server has used so far.
func redisCPUSeconds(tb testing.TB, redis *wstest.Redis) float64 {
	cpu := redis.Info(tb, "cpu")
	var total float64
	for _, key := range []string{"used_cpu_sys", "used_cpu_user"} {
		seconds, err := strconv.ParseFloat(cpu[key], 64)
		if err != nil {
			tb.Fatalf("INFO cpu: %s:%s", key, cpu[key])
		}
		total += seconds
	}
	return total
}

// BenchmarkRedisJoins joins users to one room in batches of 16, as a
// node's presence changes arrive while a room fills, and reports the CPU
// time Redis spent per join.
func BenchmarkRedisJoins(b *testing.B) {
	redis := wstest.StartRedis(b)
	node := newRedisBroker(b, redis, testPrefix, "a", nil)
	const perBatch = 16
	changes := make([]broker.Change, perBatch)
	before := redisCPUSeconds(b, redis)
	b.ResetTimer()
	for i := 0; i < b.N; i += perBatch {
		for j := range changes {
			changes[j] = broker.Change{Room: "big", User: fmt.Sprintf("user-%07d", i+j), Join: true}
		}
		if _, err := node.Apply(context.Background(), changes); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((redisCPUSeconds(b, redis)-before)*1e6/float64(b.N), "redis-cpu-us/join")
}

// BenchmarkRedisAppends appends messages of 200 bytes to 100 rooms from
// 64 senders at once, as a busy node does, keeping the shipped history,
// and reports the CPU time Redis spent per message.
func BenchmarkRedisAppends(b *testing.B) {
	redis := wstest.StartRedis(b)
	node := newRedisBroker(b, redis, testPrefix, "a", nil)
	frame := bytes.Repeat([]byte("x"), 200)
	var next atomic.Int64
	before := redisCPUSeconds(b, redis)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				m := broker.Message{Kind: broker.ToRoom, Target: fmt.Sprintf("room-%d", i%100), Frame: frame}
				if _, err := node.Append(context.Background(), m); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric((redisCPUSeconds(b, redis)-before)*1e6/float64(b.N), "redis-cpu-us/append")
}

// BenchmarkRedisWatchRoom is what a join of a room new to the node waits
// for before it reads the room's position: the node's subscription to
// the room, confirmed (on loopback about 0.12 ms; 1.25 ms while each
// confirmation waited a millisecond for others to come with it).
func BenchmarkRedisWatchRoom(b *testing.B) {
	redis := wstest.StartRedis(b)
	node := newRedisBroker(b, redis, testPrefix, "a", nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-node.WatchRoom(fmt.Sprint("room-", i))
	}
}
