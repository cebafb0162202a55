package hub_test

import (
	"strconv"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// redisUsedMemory is INFO memory's used_memory: what Redis holds.
func redisUsedMemory(t *testing.T, redis *wstest.Redis) int64 {
	t.Helper()
	value := redis.Info(t, "memory")["used_memory"]
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		t.Fatalf("INFO memory: used_memory:%s", value)
	}
	return n
}

// redisHeld is what Redis's keys under prefix take, as MEMORY USAGE
// tells.
func redisHeld(t *testing.T, redis *wstest.Redis, prefix string) (held int64, keys int) {
	t.Helper()
	for _, key := range redis.Do(t, "KEYS", prefix+":*").Strings() {
		held += redis.Do(t, "MEMORY", "USAGE", key).Int64()
		keys++
	}
	return held, keys
}

// rooms.history.maxBytes bounds what the room streams hold in Redis, in
// bytes of Redis's memory, for the whole cluster: clients that join a
// room, say one word or nothing, and leave, room after room, left behind
// each room's stream position for rooms.history.ttl, which the bound did
// not count. Fifteen hundred such rooms, after as many, grew Redis by
// over 300 KB, and its keys held 950 KB with a word each and 550 KB
// without, under a bound of 128 KiB; now Redis grows by a few KB, and
// its keys hold about 80 KB and nothing.
func TestRoomStreamsInRedisStayWithinHistoryMaxBytes(t *testing.T) {
	const maxBytes = 128 << 10
	for _, send := range []bool{true, false} {
		t.Run(map[bool]string{true: "one message", false: "no message"}[send], func(t *testing.T) {
			redis := wstest.StartRedis(t)
			node := startNode(t, map[string]any{
				"broker.type": "redis", "broker.prefix": "bounded", "redis.default.address": redis.Addr(),
				"rooms.history.maxBytes": maxBytes,
			})
			// Thirty rooms a client, twice, three requests each: within
			// the rate limit's burst of 200.
			const conns, rooms = 50, 30
			clients := make([]*wstest.Client, conns)
			for i := range clients {
				clients[i], _ = wstest.DialWelcome(t, node.WSURL, nil)
			}
			// The first rooms bring Redis's tables and buffers to the
			// size that such use needs, and the kept messages to the bound.
			useRoomsOnce(t, clients, "first", rooms, send)
			before := redisUsedMemory(t, redis)
			useRoomsOnce(t, clients, "then", rooms, send)
			var grown, held int64
			var keys int
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("%d rooms used once: Redis grew by %d bytes; %d keys hold %d bytes", conns*rooms, grown, keys, held)
				}
			})
			wstest.WaitFor(t, "Redis to hold what rooms.history.maxBytes allows", func() bool {
				grown = redisUsedMemory(t, redis) - before
				held, keys = redisHeld(t, redis, "bounded")
				return grown <= maxBytes/2 && held <= maxBytes*3/2
			})
			t.Logf("%d rooms used once: Redis grew by %d bytes; %d keys hold %d bytes", conns*rooms, grown, keys, held)
		})
	}
}
