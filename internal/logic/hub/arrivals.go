package hub

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// arrivalWait bounds how long PushToRoom waits for its message to reach
// this node's members: a round trip through Redis, or, past it, a node
// whose subscription lags, which the push must not hold up for long.
const arrivalWait = time.Second

// arrivals let PushToRoom wait until this node has handed its stream
// message to the room's members. Through Redis those go through the
// room's channel after the append answers, so that a kick sent after the
// push's answer could otherwise close a member before the push reached
// it; once handed on, the kick waits for it (closeAfterPushes).
type arrivals struct {
	mu      sync.Mutex
	rooms   map[string][]*arrival
	waiting atomic.Int32 // how many arrivals are awaited, so that deliveries skip the lock while none is
}

// arrival is one push's wait for its offset.
type arrival struct {
	offset uint64 // the push's, 0 until its append answers
	seen   uint64 // the highest offset of the room handed on since the wait began
	done   chan struct{}
}

// expect starts a wait in room, before the append, so that a delivery
// that comes before the append's answer counts.
func (as *arrivals) expect(room string) *arrival {
	a := &arrival{done: make(chan struct{})}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.rooms == nil {
		as.rooms = make(map[string][]*arrival)
	}
	as.rooms[room] = append(as.rooms[room], a)
	as.waiting.Add(1)
	return a
}

// handedOn records that room's stream message at offset went to this
// node's members.
func (as *arrivals) handedOn(room string, offset uint64) {
	if as.waiting.Load() == 0 {
		return
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, a := range as.rooms[room] {
		a.seen = max(a.seen, offset)
		if a.offset > 0 && a.seen >= a.offset {
			a.arrived()
		}
	}
}

// await waits, up to arrivalWait, until the message at offset (0: the
// append failed) was handed on, and ends the wait.
func (as *arrivals) await(room string, a *arrival, offset uint64) {
	as.mu.Lock()
	a.offset = offset
	if offset == 0 || a.seen >= offset {
		a.arrived()
	}
	as.mu.Unlock()
	timer := time.NewTimer(arrivalWait)
	select {
	case <-a.done:
	case <-timer.C:
	}
	timer.Stop()
	as.mu.Lock()
	defer as.mu.Unlock()
	waits := as.rooms[room]
	if i := slices.Index(waits, a); i >= 0 {
		waits = slices.Delete(waits, i, i+1)
	}
	if len(waits) == 0 {
		delete(as.rooms, room)
	} else {
		as.rooms[room] = waits
	}
	as.waiting.Add(-1)
}

// arrived closes done once.
func (a *arrival) arrived() {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
}
