package hub

import (
	"context"
	"sync"
)

// presence hands this node's presence changes to the broker, which may do
// I/O, in the order the registry made them, on a goroutine that runs only
// while changes wait: a closing connection's leave never waits on Redis,
// and a join waits only for its own turn.
type presence struct {
	mu      sync.Mutex
	queue   []presenceChange
	running bool
}

// presenceChange is one user entering or leaving a room on this node.
// done, when set, is closed once the broker has it.
type presenceChange struct {
	join       bool
	room, user string
	done       chan struct{}
}

// record queues a change. The hub calls it with its registry lock held, so
// changes queue in the order the registry made them.
func (h *sHub) record(change presenceChange) {
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
		for _, change := range batch {
			if change.join {
				_ = h.broker.Join(ctx, change.room, change.user)
			} else {
				_ = h.broker.Leave(ctx, change.room, change.user)
				h.announceLeave(ctx, change.room, change.user)
			}
			if change.done != nil {
				close(change.done)
			}
		}
	}
}

// announceLeave pushes room.left to a room that is small enough once the
// user has left it. It runs after the broker has the leave, so the count
// is the room's size after it.
func (h *sHub) announceLeave(ctx context.Context, room, user string) {
	if h.cfg.PresenceEventsLimit == 0 {
		return // pushes are off: counting the room would be wasted
	}
	if users, _ := h.countUsers(ctx, room); h.announces(users) {
		h.pushToRoom(ctx, room, EventRoomLeft, map[string]string{"room": room, "userId": user}, nil)
	}
}
