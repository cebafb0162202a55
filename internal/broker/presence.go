package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// Presence in Redis is three keys per room, changed together by one
// script so that they never disagree:
//
//   - entries, a sorted set of "node\x00user" scored by expiry time (Redis
//     time, so node clocks do not matter), renewed by each node's
//     heartbeat: the entries of a node that died expire by themselves;
//   - users, a sorted set of the room's users, all scored 0, so that it
//     is in byte order: a count is ZCARD and a page is ZRANGEBYLEX;
//   - shared, a hash of how many more nodes than one hold a user in the
//     room: a user leaves users when the last node's entry goes. A user on
//     one node, the common case, has no field, so a join writes two keys,
//     not three.
//
// Every call first drops a bounded number of expired entries of its room,
// so a dead node's users leave as their rooms are used, and the keys
// expire after two TTLs without a join or heartbeat.
var presenceScript = newScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function userOf(entry)
  return string.sub(entry, string.find(entry, '\0', 1, true) + 1)
end
-- drop and counted return how the room's users changed: -1, 0 or 1
local function drop(entry)
  if redis.call('ZREM', KEYS[1], entry) == 1 then
    local user = userOf(entry)
    local others = tonumber(redis.call('HGET', KEYS[3], user))
    if not others then
      return -redis.call('ZREM', KEYS[2], user)
    elseif others > 1 then
      redis.call('HINCRBY', KEYS[3], user, -1)
    else
      redis.call('HDEL', KEYS[3], user)
    end
  end
  return 0
end
-- a new entry's user is in the room on one more node
local function counted(entry)
  local user = userOf(entry)
  if redis.call('ZADD', KEYS[2], 0, user) == 1 then
    return 1
  end
  redis.call('HINCRBY', KEYS[3], user, 1)
  return 0
end
for _, entry in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, 100)) do
  drop(entry)
end
local function keep(ttl)
  for i = 1, 3 do
    redis.call('PEXPIRE', KEYS[i], 2 * ttl)
  end
end
local op = ARGV[1]
if op == 'apply' then
  -- this node's changes in the room, in order, "+entry" entering and
  -- "-entry" leaving; the answer is the stream's epoch and offset, then
  -- the room's users after each change
  local ttl = tonumber(ARGV[2])
  local count, users, entered = redis.call('ZCARD', KEYS[2]), {}, false
  for i = 3, #ARGV do
    local entry = string.sub(ARGV[i], 2)
    if string.sub(ARGV[i], 1, 1) == '+' then
      entered = true
      if redis.call('ZADD', KEYS[1], now + ttl, entry) == 1 then
        count = count + counted(entry)
      end
    else
      count = count + drop(entry)
    end
    users[#users + 1] = count
  end
  -- after a join, the stream position (KEYS[4]) as it is now: the joins
  -- need it too, and reading it here saves a call
  local head = {false, false}
  if entered then
    keep(ttl)
    head = redis.call('HMGET', KEYS[4], 'epoch', 'offset')
  end
  table.insert(users, 1, tonumber(head[2]) or 0)
  table.insert(users, 1, head[1] or '')
  return users
elseif op == 'renew' then
  -- this node's entries in the room, all at once: one ZMSCORE finds
  -- those that expired during an outage, whose users count again
  local ttl = tonumber(ARGV[2])
  local known = redis.call('ZMSCORE', KEYS[1], unpack(ARGV, 3))
  local scored = {}
  for i = 3, #ARGV do
    scored[#scored + 1] = now + ttl
    scored[#scored + 1] = ARGV[i]
  end
  redis.call('ZADD', KEYS[1], unpack(scored))
  for i, score in ipairs(known) do
    if not score then
      counted(ARGV[i + 2])
    end
  end
  keep(ttl)
elseif op == 'page' then
  local from = '-'
  if ARGV[2] ~= '' then
    from = '(' .. ARGV[2]
  end
  local page = redis.call('ZRANGEBYLEX', KEYS[2], from, '+', 'LIMIT', 0, tonumber(ARGV[3]))
  table.insert(page, 1, redis.call('ZCARD', KEYS[2]))
  return page
end
return redis.call('ZCARD', KEYS[2])
`)

func (r *Redis) presenceKeys(room string) []string {
	return []string{r.names.prefix + ":presence:" + room, r.names.prefix + ":members:" + room, r.names.prefix + ":shared:" + room}
}

func (r *Redis) entry(user string) string { return r.node + "\x00" + user }

// Apply records the changes on this node at once, then sends them to
// Redis in one pipeline: one script call per room and up to
// changesPerCall of its changes, in their order, so that joins arriving
// together share a script run. The call also reads the room's stream
// position after its joins. While Redis is out of reach it returns
// ErrUnavailable; the next heartbeat after it returns re-sends this node's
// presence. The rooms' subscriptions follow WatchRoom and UnwatchRoom.
func (r *Redis) Apply(ctx context.Context, changes []Change) ([]Applied, error) {
	const changesPerCall = 500
	r.local.mu.Lock()
	for _, c := range changes {
		r.local.applyLocked(c)
	}
	r.local.mu.Unlock()
	if !r.ready.Load() {
		return nil, ErrUnavailable
	}
	type call struct {
		room    string
		args    []any // "apply", the TTL, then one "+entry" or "-entry" per change
		changes []int // the changes' places in changes
		cmd     *goredis.Cmd
	}
	var calls []*call
	open := make(map[string]*call)
	for i, c := range changes {
		k := open[c.Room]
		if k == nil || len(k.changes) == changesPerCall {
			k = &call{room: c.Room, args: []any{"apply", r.ttl.Milliseconds()}}
			open[c.Room] = k
			calls = append(calls, k)
		}
		sign := "-"
		if c.Join {
			sign = "+"
		}
		k.args = append(k.args, sign+r.entry(c.User))
		k.changes = append(k.changes, i)
	}
	err := r.write(ctx, func(p goredis.Pipeliner) {
		for _, k := range calls {
			keys := append(r.presenceKeys(k.room), r.streamKey(k.room))
			k.cmd = presenceScript.EvalSha(r.ctx, p, keys, k.args...)
		}
	})
	if err != nil {
		return nil, err
	}
	applied := make([]Applied, len(changes))
	for _, k := range calls {
		reply, err := k.cmd.Slice()
		if err != nil {
			return nil, err
		}
		if len(reply) != 2+len(k.changes) {
			return nil, fmt.Errorf("presence of room %q: %d values for %d changes", k.room, len(reply), len(k.changes))
		}
		var position *Position // shared by the call's joins
		if epoch, _ := reply[0].(string); epoch != "" {
			offset, _ := reply[1].(int64)
			position = &Position{Epoch: epoch, Offset: uint64(offset)}
		}
		for j, i := range k.changes {
			users, _ := reply[2+j].(int64)
			applied[i].Users = int(users)
			if changes[i].Join {
				applied[i].Position = position
			}
		}
	}
	return applied, nil
}

// Count returns how many users room has on every live node: one ZCARD.
func (r *Redis) Count(ctx context.Context, room string) (int, error) {
	if !r.ready.Load() {
		return 0, ErrUnavailable
	}
	return presenceScript.Run(ctx, r.raw, r.presenceKeys(room), "count").Int()
}

// Page returns one page of room's users on every live node.
func (r *Redis) Page(ctx context.Context, room, after string, limit int) ([]string, int, error) {
	if !r.ready.Load() {
		return nil, 0, ErrUnavailable
	}
	reply, err := presenceScript.Run(ctx, r.raw, r.presenceKeys(room), "page", after, strconv.Itoa(limit)).Slice()
	if err != nil {
		return nil, 0, err
	}
	if len(reply) == 0 {
		return nil, 0, errors.New("empty presence reply")
	}
	count, _ := reply[0].(int64)
	users := make([]string, 0, len(reply)-1)
	for _, u := range reply[1:] {
		s, _ := u.(string)
		users = append(users, s)
	}
	return users, int(count), nil
}

// heartbeat renews this node's presence: one script call per room and
// renewEntries users, so that Redis's work per heartbeat is a few
// commands per room rather than a script run per membership; pipelines
// hold at most perWrite entries.
func (r *Redis) heartbeat() {
	const renewEntries, perWrite = 500, 2000
	type renewal struct {
		room    string
		entries []any
	}
	var batch []renewal
	queued := 0
	flush := func() bool {
		err := r.write(r.ctx, func(p goredis.Pipeliner) {
			for _, rn := range batch {
				args := append([]any{"renew", r.ttl.Milliseconds()}, rn.entries...)
				presenceScript.EvalSha(r.ctx, p, r.presenceKeys(rn.room), args...)
			}
		})
		batch, queued = batch[:0], 0
		return err == nil
	}
	for room, users := range r.local.snapshot() {
		for chunk := range slices.Chunk(users, renewEntries) {
			entries := make([]any, len(chunk))
			for i, u := range chunk {
				entries[i] = r.entry(u)
			}
			batch, queued = append(batch, renewal{room, entries}), queued+len(chunk)
			if queued >= perWrite && !flush() {
				return // the receiver notices the outage and logs it
			}
		}
	}
	if len(batch) > 0 {
		flush()
	}
}
