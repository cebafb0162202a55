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
// streams is that memory, used by the receiving goroutine alone.
type streams map[string]Position

// catchUpScript answers the kept messages of a room's stream after
// offset ARGV[2] of epoch ARGV[1], as many as are kept, and none when the
// stream has another epoch. It changes nothing.
var catchUpScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then
  return {}
end
local missed = tonumber(redis.call('HGET', KEYS[1], 'offset')) - tonumber(ARGV[2])
if missed <= 0 then
  return {}
end
return redis.call('LRANGE', KEYS[2], string.format('%d', -missed), '-1')
`)

// inStream reports whether stream message m is one to hand on, having
// handed on first the kept messages its room's stream has between the
// last one handed on and m.
func (r *Redis) inStream(m Message) bool {
	if m.Epoch == "" {
		return true // a node of an earlier version sent it
	}
	last, known := r.streams[m.Target]
	if known && last.Epoch == m.Epoch {
		if m.Offset > last.Offset+1 {
			r.catchUp(m.Target)
			last = r.streams[m.Target]
		}
		if m.Offset <= last.Offset {
			return false
		}
	}
	r.streams[m.Target] = Position{Offset: m.Offset, Epoch: m.Epoch}
	return true
}

// subscribed takes Redis's confirmation of a subscription to channel:
// for a room's channel subscribed again after it lapsed, the room's
// stream catches up; a room's channel that is new to the node starts
// afresh.
func (r *Redis) subscribed(channel string, again bool) {
	room, ok := strings.CutPrefix(channel, r.names.room(""))
	if !ok {
		return
	}
	if !again {
		delete(r.streams, room)
		return
	}
	if _, known := r.streams[room]; known {
		r.catchUp(room)
	}
}

// unsubscribed forgets the stream of a room whose channel the node left.
func (r *Redis) unsubscribed(channel string) {
	if room, ok := strings.CutPrefix(channel, r.names.room("")); ok {
		delete(r.streams, room)
	}
}

// catchUp hands on the kept messages of room's stream after the last one
// handed on. Those no longer kept are lost to the node's members, as they
// are to a client that comes back too late.
func (r *Redis) catchUp(room string) {
	last := r.streams[room]
	entries, err := catchUpScript.Run(r.ctx, r.raw, r.streamKeys(room),
		last.Epoch, strconv.FormatUint(last.Offset, 10)).StringSlice()
	if err != nil {
		glog.Warningf(r.ctx, "redis broker: room %q may miss messages after offset %d: %v", room, last.Offset, err)
		return
	}
	for _, entry := range entries {
		m, err := decodeMessage(entry)
		if err != nil || m.Epoch != last.Epoch || m.Offset <= last.Offset {
			continue
		}
		last.Offset = m.Offset
		r.streams[room] = last
		r.hand(m)
	}
}
