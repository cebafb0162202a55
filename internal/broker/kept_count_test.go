package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// keptDump reads at once, as a script, what the count of
// rooms.history.maxBytes says and what the rooms' keys hold: the total,
// how many rooms kept:used holds, then per room counted or holding a
// position: its name, its count, its list's length and bytes, its
// position's idle mark and offset, and whether it has users.
var keptDump = goredis.NewScript(`
local p = ARGV[1]
local out = {redis.call('GET', p .. ':kept:total') or '0', redis.call('ZCARD', p .. ':kept:used')}
local rooms = {}
local counted = redis.call('HGETALL', p .. ':kept:bytes')
for i = 1, #counted, 2 do rooms[counted[i]] = counted[i + 1] end
for _, key in ipairs(redis.call('KEYS', p .. ':stream:*')) do
  local room = string.sub(key, #p + 9)
  rooms[room] = rooms[room] or '0'
end
for room, bytes in pairs(rooms) do
  local listed = 0
  local entries = redis.call('LRANGE', p .. ':history:' .. room, '0', '-1')
  for _, e in ipairs(entries) do listed = listed + #e end
  local head = redis.call('HMGET', p .. ':stream:' .. room, 'idle', 'offset')
  table.insert(out, room)
  table.insert(out, bytes)
  table.insert(out, #entries)
  table.insert(out, listed)
  table.insert(out, head[1] or '0')
  table.insert(out, head[2] or '')
  table.insert(out, redis.call('EXISTS', p .. ':members:' .. room))
end
return out
`)

// keptCountDrift recomputes from the keys themselves what the count of
// rooms.history.maxBytes should say, and describes where the count
// differs: each room counts for its list (its cost beside its messages
// and their bytes) and, while its position is marked idle, for that. It
// also names the rooms whose position, one a message was given in, is
// kept for nobody and not counted.
func keptCountDrift(ctx context.Context, c *goredis.Client, prefix string) (drift, uncounted []string) {
	reply, err := keptDump.Run(ctx, c, nil, prefix).Slice()
	if err != nil {
		return []string{err.Error()}, nil
	}
	num := func(v any) int64 {
		switch v := v.(type) {
		case int64:
			return v
		case string:
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
		return 0
	}
	total, used := num(reply[0]), num(reply[1])
	var sum, rooms int64
	for i := 2; i+7 <= len(reply); i += 7 {
		room, counted := reply[i].(string), num(reply[i+1])
		entries, listed, idle, offset, users := num(reply[i+2]), num(reply[i+3]), num(reply[i+4]), reply[i+5], num(reply[i+6])
		sum += counted
		if counted != 0 {
			rooms++
		}
		want := idle
		if entries > 0 {
			list, _ := broker.KeptCost(prefix, room)
			want += int64(list) + listed
		}
		if counted != want {
			drift = append(drift, fmt.Sprintf("room %s counts %d, holds %d", room, counted, want))
		}
		if users == 0 && idle == 0 && offset != "" && offset != "0" {
			uncounted = append(uncounted, room)
		}
	}
	if sum != total || total < 0 {
		drift = append(drift, fmt.Sprintf("kept:total %d, its rooms' counts %d", total, sum))
	}
	if used != rooms {
		drift = append(drift, fmt.Sprintf("kept:used holds %d rooms, kept:bytes %d", used, rooms))
	}
	return drift, uncounted
}

// rooms.history.maxBytes's count in Redis (kept:total, kept:bytes,
// kept:used) agrees with what the rooms' keys hold through any mix of
// joins, leaves, messages, position reads, heartbeats, a node that dies
// and one that restores its presence.
func TestRedisKeptCountFollowsTheKeys(t *testing.T) {
	redis := wstest.StartRedis(t)
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: redis.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	history := broker.History{Size: 3, TTL: time.Minute, MaxBytes: 6000}
	open := func(node string, ttl time.Duration) *broker.Redis {
		return newRedisBrokerWith(t, redis, broker.RedisOptions{Prefix: testPrefix, Node: node, PresenceTTL: ttl, History: history}, nil)
	}
	// Every node's presence lapses 300 ms after its last heartbeat.
	const ttl = 300 * time.Millisecond
	names := []string{"a", "b", "c"}
	nodes := []*broker.Redis{open("a", ttl), open("b", ttl), open("c", ttl)}
	// in[node][room][user]: who each node holds where
	in := make([]map[string]map[string]bool, len(nodes))
	for i := range in {
		in[i] = map[string]map[string]bool{}
	}
	rng := rand.New(rand.NewPCG(7, 2))
	rooms := []string{"r0", "r1", "r2", "r3", "r4", "r5"}
	users := []string{"u0", "u1", "u2", "u3"}
	frame := bytes.Repeat([]byte("x"), 300)
	var log []string
	for step := range 1000 {
		n := rng.IntN(len(nodes))
		b, room, user := nodes[n], rooms[rng.IntN(len(rooms))], users[rng.IntN(len(users))]
		var op string
		switch k := rng.IntN(100); {
		case k < 35:
			op = "join"
			if in[n][room] == nil {
				in[n][room] = map[string]bool{}
			}
			if in[n][room][user] {
				continue
			}
			in[n][room][user] = true
			// The hub reads the position while the change is on its way:
			// either may reach Redis first.
			first := rng.IntN(2) == 0
			if first {
				if _, err := b.Recover(ctx, room, nil); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.Apply(ctx, []broker.Change{{Room: room, User: user, Join: true}}); err != nil {
				t.Fatal(err)
			}
			if !first {
				if _, err := b.Recover(ctx, room, nil); err != nil {
					t.Fatal(err)
				}
			}
		case k < 65:
			op = "leave"
			if !in[n][room][user] {
				continue
			}
			delete(in[n][room], user)
			if len(in[n][room]) == 0 {
				delete(in[n], room)
			}
			if _, err := b.Apply(ctx, []broker.Change{{Room: room, User: user}}); err != nil {
				t.Fatal(err)
			}
		case k < 90:
			op = "send"
			if _, err := b.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: frame}); err != nil {
				t.Fatal(err)
			}
		case k < 97:
			op = "heartbeat"
			b.Heartbeat()
		case k < 98 && n == 2:
			// The node dies: its presence lapses, and the other nodes'
			// calls drop its users.
			op = "die"
			_ = b.Close()
			in[n] = map[string]map[string]bool{}
			dead := time.Now()
			names[n] += "+"
			nodes[n] = open(names[n], ttl)
			wstest.WaitFor(t, "the dead node's presence to lapse", func() bool { return time.Since(dead) > ttl })
		default:
			// The node dies; its successor of the same name comes up
			// with no users, and its first call in a room drops what
			// the dead one left there.
			op = "restart"
			_ = b.Close()
			nodes[n] = open(names[n], ttl)
			in[n] = map[string]map[string]bool{}
		}
		log = append(log, fmt.Sprintf("%d %s %s %s %s", step, op, names[n], room, user))
		drift, left := keptCountDrift(ctx, c, testPrefix)
		if len(left) > 0 && op == "die" {
			// A room whose users were all on the dead node is touched by
			// no call that could count its position: it expires uncounted.
			t.Logf("after %s, positions kept for nobody and not counted: %v", log[len(log)-1], left)
		}
		if len(drift) > 0 {
			t.Fatalf("after %s:\n%s\nlast steps:\n%s", log[len(log)-1], strings.Join(drift, "\n"), strings.Join(log[max(0, len(log)-12):], "\n"))
		}
	}
}
