package hub

import (
	"context"
	"sync"

	"github.com/gfws/template-ws/internal/broker"
)

// presence hands this node's presence changes to the broker, which may do
// I/O, in the order the registry made them, on a goroutine that runs only
// while changes wait. Whatever queued while the broker was busy goes as
// one batch: a closing connection's leave never waits on Redis, and many
// joins share a round trip.
type presence struct {
	mu      sync.Mutex
	queue   []presenceChange
	running bool
}

// presenceChange is one user entering or leaving a room on this node.
// counted, when set, receives the room's users once the broker has it.
type presenceChange struct {
	broker.Change
	counted chan roomCount
	quiet   bool // a leave that undoes a refused join the room was not told of
}

// roomCount is how many users a room has: on every node, or on this one
// (local) while the others are out of reach; with the room's stream
// position after a join when the broker read it along with the change.
type roomCount struct {
	users int
	local bool
	// version is that of the last presence change the count includes
	// (see broker.Applied), 0 when unknown.
	version  uint64
	position *broker.Position
	// moved reports whether the change took its user into or out of the
	// room on every node (on this one while the others are out of
	// reach): only such a change is told to the room.
	moved bool
}

// record queues a change. The hub calls it with its registry lock held, so
// changes queue in the order the registry made them.
func (h *sHub) record(change presenceChange) {
	if change.Join {
		h.roomUsers[change.Room]++
	} else if h.roomUsers[change.Room]--; h.roomUsers[change.Room] <= 0 {
		delete(h.roomUsers, change.Room)
	}
	p := &h.presence
	p.mu.Lock()
	p.queue = append(p.queue, change)
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		go h.sendPresence()
	}
}

// sendPresence gives queued changes to the broker until none is left. A
// broker that lost its peers logs that itself, lets entries expire and
// re-records this node's presence when they return.
func (h *sHub) sendPresence() {
	p := &h.presence
	ctx := context.Background()
	for {
		p.mu.Lock()
		batch := p.queue
		p.queue = nil
		if len(batch) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		changes := make([]broker.Change, len(batch))
		for i, c := range batch {
			changes[i] = c.Change
		}
		applied, err := h.broker.Apply(ctx, changes)
		for i, c := range batch {
			count := roomCount{local: err != nil, moved: true}
			if err == nil {
				a := applied[i]
				count.users, count.version, count.position, count.moved = a.Users, a.Version, a.Position, a.Moved
			} else {
				count.users = h.localUsers(c.Room)
			}
			if c.counted != nil {
				c.counted <- count
			}
			// A leave that empties the room is told too: a member whose
			// own user's join is still on its way may hold a count that
			// includes the user who left.
			if !c.Join && !c.quiet && count.moved && h.announces(count.users) {
				h.pushPresence(ctx, c.Room, EventRoomLeft, c.User, count.version, nil)
			}
		}
	}
}

// departed tells a small room of the users that a sweep of a dead node's
// presence took out of it, as a leave of this node's own users is told.
func (h *sHub) departed(room string, left []broker.Departure) {
	for _, d := range left {
		if h.announces(d.Users) {
			h.pushPresence(context.Background(), room, EventRoomLeft, d.User, d.Version, nil)
		}
	}
}

// localUsers counts the users of room on this node.
func (h *sHub) localUsers(room string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.roomUsers[room]
}
