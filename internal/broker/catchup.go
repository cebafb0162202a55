package broker

import (
	"strconv"
	"strings"

	"github.com/gogf/gf/v2/os/glog"
	goredis "github.com/redis/go-redis/v9"
)

// A node's subscription to a room's channel can lapse: Redis drops the
// connection, go-redis dials again and subscribes anew, and whatever the
// room published in between never reaches the node, while its members
// stay in the room. The stream's offsets tell. The receiver remembers, per
// room it receives, the last stream message it handed on; before handing
// on one further ahead it hands on the kept messages in between, and once
// a lapsed channel is subscribed again it hands on those published since,
// so that a room that has gone quiet does not leave its members behind. A
// message it has handed on already (the subscription brings it after the
// history did) is not handed on twice.
//
// A room's memory starts when its channel is first subscribed, before
// any join waiting for that is let go: at the stream's position then, so
// that every join's own position, read after, is at or past it. A room
// with no stream yet starts at offset 0 of no epoch: the stream that
// starts after is the one its members hold.
//
// streams is that memory, used by receiveLoop's goroutine alone.
type streams map[string]Position

// catchUpScript answers the kept messages of a room's stream (KEYS[1],
// its position, and KEYS[2], its history: streamKeys) after offset
// ARGV[2] of epoch ARGV[1] (of whichever epoch it has when ARGV[1] is
// empty), as many as are kept. A stream that has another epoch started
// again after the node's last message, and all it kept is after it.
//
// A stream of the node's epoch behind its last message is one Redis came
// back with less of (restored from an older snapshot, a replica behind
// its primary): its next appends would give out offsets again, which
// every node that had them would drop as had. The script drops it, as
// Redis losing it would have, so that the next message starts a new
// epoch; what it kept leaves the bound's count as an expired list does.
// It changes nothing else.
var catchUpScript = newScript(`
local head = redis.call('HMGET', KEYS[1], 'epoch', 'offset')
local epoch = head[1]
if not epoch then
  return {}
end
if epoch == ARGV[1] and tonumber(head[2]) < tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {}
end
local since = tonumber(ARGV[2])
if ARGV[1] ~= '' and epoch ~= ARGV[1] then
  since = 0
end
local missed = tonumber(head[2]) - since
if missed <= 0 then
  return {}
end
return redis.call('LRANGE', KEYS[2], string.format('%d', -missed), '-1')
`)

// inStream reports whether stream message m is one to hand on, having
// handed on first the kept messages its room's stream has between the
// last one handed on and m: in m's epoch, those before it, all of them
// when m's stream started again since the last one.
func (r *Redis) inStream(m Message) bool {
	if m.Epoch == "" {
		return true // a node of an earlier version sent it
	}
	last, known := r.streams[m.Target]
	if known {
		sameStream := last.Epoch == m.Epoch || last.Epoch == ""
		if sameStream && m.Offset > last.Offset+1 || !sameStream && m.Offset > 1 {
			r.catchUp(m.Target, &m)
			last = r.streams[m.Target]
		}
		if last.Epoch == m.Epoch && m.Offset <= last.Offset {
			return false
		}
	}
	r.streams[m.Target] = Position{Offset: m.Offset, Epoch: m.Epoch}
	return true
}

// start sets where room's stream is as the node starts receiving it,
// from read, the stream's epoch and offset. Unread, the room has no
// memory: a lapse before its first message then goes unnoticed.
func (r *Redis) start(room string, read *goredis.SliceCmd) {
	delete(r.streams, room)
	fields, err := read.Result()
	if err != nil || len(fields) != 2 {
		return
	}
	if at, err := streamHead(fields); err == nil {
		r.streams[room] = at
	}
}

// unsubscribed forgets the stream of a room whose channel the node left.
func (r *Redis) unsubscribed(channel string) {
	if room, ok := strings.CutPrefix(channel, r.names.room("")); ok {
		delete(r.streams, room)
	}
}

// catchUp hands on the kept messages of room's stream after the last one
// handed on, up to next, the message that showed the gap, when there is
// one: those after next come through the subscription after it, in their
// order with the room's other pushes. Those no longer kept are lost to the
// node's members, as they are to a client that comes back too late.
func (r *Redis) catchUp(room string, next *Message) {
	last := r.streams[room]
	entries, err := catchUpScript.Run(r.ctx, r.raw, r.streamKeys(room),
		last.Epoch, strconv.FormatUint(last.Offset, 10)).StringSlice()
	r.caughtUp(room, entries, err, next)
}

// caughtUp hands on entries, what catchUpScript read of room's stream,
// after the last message handed on and before next.
func (r *Redis) caughtUp(room string, entries []string, err error, next *Message) {
	last := r.streams[room]
	if err != nil {
		glog.Warningf(r.ctx, "redis broker: room %q may miss messages after offset %d: %v", room, last.Offset, err)
		return
	}
	for _, entry := range entries {
		m, err := decodeMessage(entry)
		if err != nil || m.Epoch == last.Epoch && m.Offset <= last.Offset {
			continue
		}
		if next != nil && (m.Epoch != next.Epoch || m.Offset >= next.Offset) {
			return // next and what follows it come through the subscription
		}
		last = Position{Offset: m.Offset, Epoch: m.Epoch}
		r.streams[room] = last
		r.hand(m)
	}
}
