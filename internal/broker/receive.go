package broker

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// What the subscription brings is read by one goroutine and taken by
// another, so that Redis's buffer for the node drains while the taker
// works. A subscription confirmation of a room may cost a read: of where
// its stream is, when the room is new to the node, or of what it missed,
// when its channel lapsed. A node subscribed to thousands of rooms gets
// as many confirmations at once after each lapse, and one round trip
// each would hold up every delivery for seconds, during which Redis
// buffers the node's traffic and may drop the node again at its pubsub
// output buffer limit. So confirmations are taken in batches, whose reads
// share one pipeline: a batch goes when it is full, when a reply of
// another kind comes, or when no more reply is waiting. No batch waits
// for a timer, which would hold up every join of a room new to the node:
// the replies of a burst gather while a batch's reads are under way.

// received is one reply of the subscription, or its failure.
type received struct {
	v   any
	err error
}

const (
	// confirmBatch bounds the confirmations whose reads share a pipeline.
	confirmBatch = 1000
)

// readLoop reads the subscription, which go-redis re-dials and
// re-subscribes after a failure; between failed attempts it waits with
// capped exponential backoff and jitter.
func (r *Redis) readLoop(replies chan<- received) {
	defer r.done.Done()
	backoff := 100 * time.Millisecond
	for {
		v, err := r.pubsub.Receive(r.ctx)
		if r.ctx.Err() != nil {
			return
		}
		select {
		case replies <- received{v, err}:
		case <-r.ctx.Done():
			return
		}
		if err == nil {
			if _, ok := v.(*goredis.Subscription); ok {
				backoff = 100 * time.Millisecond
			}
			continue
		}
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(backoff/2 + rand.N(backoff/2)):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// receiveLoop takes what readLoop reads. It logs the outage and the
// recovery once each, not every attempt.
func (r *Redis) receiveLoop(replies <-chan received) {
	defer r.done.Done()
	var outage error
	var confirmed []string // subscriptions whose reads wait for their batch
	for {
		var in received
		select {
		case <-r.ctx.Done():
			return
		case in = <-replies:
		default:
			if len(confirmed) > 0 {
				// The reader may be taking the rest of a burst: it goes
				// first, once; then the batch goes with what has come.
				runtime.Gosched()
				select {
				case in = <-replies:
				default:
					r.confirm(confirmed)
					confirmed = confirmed[:0]
					continue
				}
				break
			}
			select {
			case <-r.ctx.Done():
				return
			case in = <-replies:
			}
		}
		if in.err != nil {
			confirmed = confirmed[:0] // lost lets go of whoever waits for them
			r.interest.lost()
			r.setReady(false, &outage, in.err)
			continue
		}
		switch v := in.v.(type) {
		case *goredis.Subscription:
			if !r.ready.Load() {
				r.forgetLeftRooms()
				r.setReady(true, &outage, nil)
				signal(r.rejoin) // re-add this node's presence at once
			}
			if v.Kind == "subscribe" {
				if confirmed = append(confirmed, v.Channel); len(confirmed) == confirmBatch {
					r.confirm(confirmed)
					confirmed = confirmed[:0]
				}
				continue
			}
			r.confirm(confirmed)
			confirmed = confirmed[:0]
			if v.Kind == "unsubscribe" {
				r.unsubscribed(v.Channel)
			}
		case *goredis.Message:
			r.confirm(confirmed)
			confirmed = confirmed[:0]
			r.deliver(v.Payload)
		}
	}
}

// confirm takes Redis's confirmations of subscriptions to channels, in
// their order: a room's channel new to the node starts its memory, before
// the joins waiting for it go on; one subscribed again after it lapsed
// catches up. Their reads share one pipeline.
func (r *Redis) confirm(channels []string) {
	type step struct {
		channel, room string
		last          *Position         // where a room subscribed again was
		start         *goredis.SliceCmd // the stream's position, for a room new to the node
		catchUp       *goredis.Cmd      // what it missed, for a room subscribed again
	}
	var steps []step
	for _, channel := range channels {
		room, isRoom := strings.CutPrefix(channel, r.names.room(""))
		switch {
		case isRoom && r.interest.releasing(channel):
			steps = append(steps, step{channel: channel, room: room})
		case !r.interest.confirmed(channel) && isRoom:
			if last, known := r.streams[room]; known {
				steps = append(steps, step{channel: channel, room: room, last: &last})
			}
		}
	}
	if len(steps) == 0 {
		return
	}
	cmds, _ := r.raw.Pipelined(r.ctx, func(p goredis.Pipeliner) error {
		for i := range steps {
			s := &steps[i]
			if s.last == nil {
				s.start = p.HMGet(r.ctx, r.streamKey(s.room), "epoch", "offset")
				continue
			}
			s.catchUp = catchUpScript.EvalSha(r.ctx, p, r.streamKeys(s.room),
				s.last.Epoch, strconv.FormatUint(s.last.Offset, 10))
		}
		return nil
	})
	r.rerunUnknownScripts(cmds)
	for _, s := range steps {
		if s.last == nil {
			r.start(s.room, s.start)
			r.interest.confirmed(s.channel)
			continue
		}
		entries, err := s.catchUp.StringSlice()
		r.caughtUp(s.room, entries, err, nil)
	}
}

// forgetLeftRooms forgets the streams of the rooms the node left while its
// subscription was down: Redis never confirms leaving them, since go-redis
// does not subscribe to them again.
func (r *Redis) forgetLeftRooms() {
	for room := range r.streams {
		if !r.interest.subscribes(r.names.room(room)) {
			delete(r.streams, room)
		}
	}
}
