package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// A room's stream in Redis is two keys beside its presence:
//
//	<prefix>:stream:<room>    hash: epoch, offset (the last one given)
//	<prefix>:history:<room>   list: the last rooms.history.size messages
//
// One script takes the next offset, keeps the message and publishes it,
// so offsets are consecutive across the cluster and every subscriber gets
// a room's messages in offset order; any node can answer a recovery from
// the list. Both keys expire rooms.history.ttl after the last message,
// the position not while the room has users: every heartbeat moves its
// expiry on, so that the offsets members hold stay valid. A stream that
// starts again gets a new epoch. Each kept message and each published
// one is the encoded Message followed by its offset in decimal, a space
// and the epoch (see decodeMessage): a node that receives a stream which
// Redis lost and started again can tell its new offsets from the old.
//
// What all rooms keep is bounded in bytes (rooms.history.maxBytes),
// cluster-wide, by three keys the same script keeps:
//
//	<prefix>:kept:bytes   hash: room, what Redis holds for it (keptCosts)
//	<prefix>:kept:total   the sum of those
//	<prefix>:kept:used    sorted set: room, scored by its last message
//
// A room counts for its list, the messages in it and, while it has no
// users, its stream position (see keptCosts). An append that starts a
// list or a stream forgets a few rooms whose messages have expired, so
// that the total follows expiry; over the bound it forgets whole rooms,
// quiet longest first, those with no users among the 1,000 quiet longest
// before any other, as the memory broker does among all its rooms: a
// room with users loses its kept messages, one with none its whole
// stream, and its next join starts a new epoch.
var appendScript = newScript(keptCosts + `
local room, prefix = ARGV[6], ARGV[7]
local size, maxBytes = tonumber(ARGV[3]), tonumber(ARGV[8])
-- the TTL as commands take it, and as a number to compare and add
local ttl, ttlMs = ARGV[4], tonumber(ARGV[4])
local head = redis.call('HMGET', KEYS[1], 'epoch', 'idle')
local epoch, idle, started = head[1], tonumber(head[2]) or 0, false
if not epoch then
  epoch, started = ARGV[5], true
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', '0')
  redis.call('DEL', KEYS[2])
end
-- numbers go to Redis as strings: Redis 7.0 prints every number
-- argument with printf, and Lua a number it joins to a string
local offset = redis.call('HINCRBY', KEYS[1], 'offset', '1')
-- never shorten what a heartbeat gave the position
if redis.call('PTTL', KEYS[1]) < ttlMs then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local entry = ARGV[2] .. string.format('%d', offset) .. ' ' .. epoch
-- a stream started in a room with no users (a push of the admin API) is
-- kept for nobody there: it counts as one whose users left
local grown, counted = 0, size > 0 or idle > 0
if started and redis.call('EXISTS', prefix .. ':members:' .. room) == 0 then
  idle = idleCost(KEYS[1]) + bookCost(room)
  redis.call('HSET', KEYS[1], 'idle', string.format('%d', idle))
  grown, counted = idle, true
end
local kept = 0
if size > 0 then
  kept = redis.call('RPUSH', KEYS[2], entry)
  if kept == 1 then
    -- a new list: what the room's count said went with the old one
    grown = listCost(KEYS[2], room) + #entry + idle - (tonumber(redis.call('HGET', KEYS[3], room)) or 0)
  else
    grown = grown + #entry
    if kept > size then
      for _, e in ipairs(redis.call('LPOP', KEYS[2], string.format('%d', kept - size))) do
        grown = grown - #e
      end
    end
  end
  redis.call('PEXPIRE', KEYS[2], ttl)
end
local total = 0
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if counted then
  grown = string.format('%d', grown)
  redis.call('HINCRBY', KEYS[3], room, grown)
  total = redis.call('INCRBY', KEYS[4], grown)
  redis.call('ZADD', KEYS[5], string.format('%d', now), room)
elseif maxBytes > 0 then
  -- history off: the rooms whose users left count all the same
  total = tonumber(redis.call('GET', KEYS[4])) or 0
end
local over = maxBytes > 0 and total > maxBytes
if kept == 1 or started or over then
  -- a room forgotten with no users loses its whole stream; one with
  -- users keeps its position, which is theirs, and leaves the count
  local function forget(r, empty)
    redis.call('DEL', prefix .. ':history:' .. r)
    if empty == nil then
      empty = redis.call('EXISTS', prefix .. ':members:' .. r) == 0
    end
    if empty then
      redis.call('DEL', prefix .. ':stream:' .. r)
    else
      redis.call('HDEL', prefix .. ':stream:' .. r, 'idle')
    end
    local bytes = redis.call('HGET', KEYS[3], r) or '0'
    redis.call('HDEL', KEYS[3], r)
    redis.call('ZREM', KEYS[5], r)
    total = redis.call('DECRBY', KEYS[4], bytes)
  end
  -- lists expire on their own; their bytes leave the total here, a
  -- few for each new list, which is as many as rooms are added, and
  -- all before the bound is applied, so that expired lists go first
  local expired = string.format('%d', now - ttlMs)
  for _, r in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', expired, 'LIMIT', '0', over and '1000' or '16')) do
    forget(r)
  end
  if maxBytes > 0 and total > maxBytes then
    -- down to three quarters, so that this runs seldom, but no more
    -- than 100 rooms past the bound and 1,000 in all in one call, so
    -- that no call holds Redis long (a bound lowered under what Redis
    -- holds is reached over the appends that follow)
    local target, forgotten = maxBytes * 3 / 4, 0
    local function going()
      return forgotten < 1000 and (total > maxBytes or (total > target and forgotten < 100))
    end
    for _, r in ipairs(redis.call('ZRANGE', KEYS[5], '0', '999')) do
      if not going() then break end
      if redis.call('EXISTS', prefix .. ':members:' .. r) == 0 then
        forget(r, true)
        forgotten = forgotten + 1
      end
    end
    while going() do
      local quiet = redis.call('ZRANGE', KEYS[5], '0', '0')
      if #quiet == 0 then break end
      forget(quiet[1])
      forgotten = forgotten + 1
    end
  end
end
-- the three outlive every list and every position they count: renewed to
-- two TTLs whenever less than one is left (the hash and the sorted set
-- hold the same rooms, so are made and emptied together)
if counted and redis.call('PTTL', KEYS[5]) < ttlMs then
  local renewed = string.format('%d', 2 * ttlMs)
  for i = 3, 5 do
    redis.call('PEXPIRE', KEYS[i], renewed)
  end
end
redis.call('PUBLISH', ARGV[1], entry)
return offset
`)

// recoverScript answers {epoch, offset, state, entries...}: state 0 when
// nothing is recovered, 1 when entries are every message after since, -1
// when since is past the last offset. A stream it starts is kept for the
// room's users (KEYS[3]): in a room they have left already, as when a
// client leaves while its join is under way, it is answered but not kept,
// as the leave would have deleted it.
var recoverScript = newScript(`
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local offset = 0
if not epoch then
  epoch = ARGV[1]
  if redis.call('EXISTS', KEYS[3]) == 0 then
    return {epoch, offset, 0}
  end
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('DEL', KEYS[2])
else
  offset = tonumber(redis.call('HGET', KEYS[1], 'offset'))
end
if ARGV[3] ~= epoch then
  return {epoch, offset, 0}
end
local since = tonumber(ARGV[4])
if since > offset then
  return {epoch, offset, -1}
end
local missed = offset - since
if missed == 0 then
  return {epoch, offset, 1}
end
local entries = redis.call('LRANGE', KEYS[2], -missed, -1)
if #entries < missed then
  return {epoch, offset, 0}
end
local reply = {epoch, offset, 1}
for _, e in ipairs(entries) do
  table.insert(reply, e)
end
return reply
`)

func (r *Redis) streamKeys(room string) []string {
	return []string{r.streamKey(room), r.names.prefix + ":history:" + room}
}

// appendKeys are streamKeys and the keys that bound what all rooms keep.
func (r *Redis) appendKeys(room string) []string {
	return append(r.streamKeys(room), r.keptKeys()...)
}

// streamKey names the hash of room's stream position.
func (r *Redis) streamKey(room string) string { return r.names.prefix + ":stream:" + room }

// Append runs the append script in the writer's next pipeline. The
// message reaches this node, too, through its subscription to the room.
func (r *Redis) Append(ctx context.Context, m Message) (uint64, error) {
	if !r.ready.Load() {
		return 0, ErrUnavailable
	}
	m.Origin = r.node
	var cmd *goredis.Cmd
	err := r.write(ctx, func(p goredis.Pipeliner) {
		cmd = appendScript.EvalSha(r.ctx, p, r.appendKeys(m.Target),
			r.names.room(m.Target), encodeMessage(m), r.history.Size, r.history.TTL.Milliseconds(), newEpoch(),
			m.Target, r.names.prefix, r.history.MaxBytes)
	})
	if err != nil {
		return 0, err
	}
	offset, err := cmd.Uint64()
	return offset, err
}

// Recover runs the recover script in the writer's next pipeline, after
// whatever this node queued before it. Reads of the position alone share
// a run with the other reads of the room in that pipeline.
func (r *Redis) Recover(ctx context.Context, room string, since *Position) (Recovery, error) {
	if !r.ready.Load() {
		return Recovery{}, ErrUnavailable
	}
	var cmd *goredis.Cmd
	if since == nil || r.history.Size == 0 {
		read := &positionRead{room: room}
		if err := r.await(ctx, write{position: read, done: make(chan struct{})}); err != nil {
			return Recovery{}, err
		}
		cmd = read.reply
	} else if err := r.write(ctx, func(p goredis.Pipeliner) {
		cmd = r.recoverCmd(p, room, since.Epoch, since.Offset)
	}); err != nil {
		return Recovery{}, err
	}
	reply, err := cmd.Slice()
	if err != nil {
		return Recovery{}, err
	}
	if len(reply) < 3 {
		return Recovery{}, errors.New("short recovery reply")
	}
	epoch, _ := reply[0].(string)
	offset, _ := reply[1].(int64)
	state, _ := reply[2].(int64)
	rec := Recovery{Position: Position{Offset: uint64(offset), Epoch: epoch}}
	if since != nil && r.history.Size == 0 {
		// Nothing is kept to recover, but a since past the end is refused
		// all the same, as on the memory broker.
		if since.Epoch == epoch && since.Offset > rec.Offset {
			return rec, ErrSinceBeyond
		}
		return rec, nil
	}
	switch state {
	case -1:
		return rec, ErrSinceBeyond
	case 1:
		rec.Recovered = true
		for _, e := range reply[3:] {
			entry, _ := e.(string)
			m, err := decodeMessage(entry)
			if err != nil {
				return Recovery{}, err
			}
			rec.Missed = append(rec.Missed, m)
		}
	}
	return rec, nil
}

// Position reads room's stream position without starting a stream.
func (r *Redis) Position(ctx context.Context, room string) (Position, error) {
	if !r.ready.Load() {
		return Position{}, ErrUnavailable
	}
	fields, err := r.raw.HMGet(ctx, r.streamKey(room), "epoch", "offset").Result()
	if err != nil {
		return Position{}, err
	}
	at, err := streamHead(fields)
	if err != nil {
		return Position{}, fmt.Errorf("room %q's stream: %w", room, err)
	}
	return at, nil
}

// streamHead reads the epoch and offset fields of a stream position's
// hash, in that order: the zero Position when the room has no stream.
func streamHead(fields []any) (Position, error) {
	epoch, _ := fields[0].(string)
	offset, _ := fields[1].(string)
	if epoch == "" {
		return Position{}, nil
	}
	n, err := strconv.ParseUint(offset, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("offset %q: %w", offset, err)
	}
	return Position{Offset: n, Epoch: epoch}, nil
}

// recoverCmd adds a run of the recover script for room to p; an empty
// sinceEpoch reads the position alone.
func (r *Redis) recoverCmd(p goredis.Pipeliner, room, sinceEpoch string, sinceOffset uint64) *goredis.Cmd {
	return recoverScript.EvalSha(r.ctx, p, append(r.streamKeys(room), r.names.prefix+":members:"+room),
		newEpoch(), r.history.TTL.Milliseconds(), sinceEpoch, strconv.FormatUint(sinceOffset, 10))
}
