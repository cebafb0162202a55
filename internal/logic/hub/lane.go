package hub

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

// laneFrom is the smallest number of a room's members on this node whose
// pushes go through the room's lane. A smaller room's delivery is quicker
// than handing it over, and a room.send's reply then follows the sender's
// own copy, as it does with no lane at all.
const laneFrom = 64

// laneLimit bounds the deliveries waiting in one room's lane: past it,
// whoever hands the lane more waits, which holds back the publisher rather
// than growing the node's memory.
const laneLimit = 1024

// lanes deliver a large room's pushes on this node in the order they were
// handed over, away from the goroutine that published or received them.
// While one batch goes out to a large room, the pushes arriving meanwhile
// gather and go out together: each member then takes them with one
// enqueue and its writer with one write, where one push at a time would
// cost every member a write per push. A lane exists only while it has
// work.
type lanes struct {
	mu    sync.Mutex
	rooms map[string]*lane
	// numbered counts the pushes outside a stream handed over so far, and
	// numbers each in the order it is queued; a membership keeps the count
	// at its join, and takes none numbered up to it.
	numbered atomic.Uint64
}

type lane struct {
	pending []roomPush
	// after run once the pushes handed over before them are delivered.
	after   []func()
	drained *sync.Cond // on lanes.mu: the lane went back under laneLimit
}

// roomPush is one delivery to a room: a stream message when offset > 0,
// otherwise a push numbered by lanes.numbered.
type roomPush struct {
	frame  *ws.Frame
	offset uint64
	epoch  string // of offset's stream
	number uint64
	// presence is the version of the change a room.joined or room.left
	// tells, 0 for other pushes and for a change of unknown version.
	presence uint64
	except   model.Peer // a member that does not get it
}

// add numbers push and queues it for room, starting the room's lane when
// it was idle, and reports true; run delivers each batch. For a room below
// laneFrom members without a lane under way it reports false, and the
// caller delivers push itself.
func (ls *lanes) add(room string, members int, push *roomPush, run func(room string, batch []roomPush)) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for {
		l := ls.rooms[room]
		if l == nil && members < laneFrom {
			ls.number(push)
			return false
		}
		if l == nil {
			l = &lane{drained: sync.NewCond(&ls.mu)}
			ls.rooms[room] = l
			go ls.drain(room, l, run)
		}
		if len(l.pending) < laneLimit {
			ls.number(push)
			l.pending = append(l.pending, *push)
			return true
		}
		// The lane may retire while this waits: look it up again.
		l.drained.Wait()
	}
}

// number gives a push outside a stream the next number, under ls.mu, so
// that a lane's pushes are numbered in its order.
func (ls *lanes) number(push *roomPush) {
	if push.offset == 0 {
		push.number = ls.numbered.Add(1)
	}
}

// drain hands run whatever the lane holds, batch after batch, and retires
// the lane once it is empty.
func (ls *lanes) drain(room string, l *lane, run func(room string, batch []roomPush)) {
	for {
		ls.mu.Lock()
		batch, after := l.pending, l.after
		if len(batch) == 0 && len(after) == 0 {
			delete(ls.rooms, room)
			ls.mu.Unlock()
			return
		}
		l.pending, l.after = nil, nil
		l.drained.Broadcast()
		ls.mu.Unlock()
		if len(batch) > 0 {
			run(room, batch)
		}
		for _, fn := range after {
			fn()
		}
	}
}

// after runs fn once room's lane has delivered every push handed to it
// so far, and reports true; with no lane under way it reports false and
// does nothing, since every push to room is delivered already.
func (ls *lanes) after(room string, fn func()) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.rooms[room]
	if l == nil {
		return false
	}
	l.after = append(l.after, fn)
	return true
}

// roomBatch is one batch of a room's pushes as each member is handed it.
type roomBatch struct {
	pushes []roomPush
	shared []*ws.Frame      // every push's frame, when no push skips a member
	tail   *broker.Position // the last stream message's position, nil for none
	// lowestPresence is the lowest version of the batch's presence
	// pushes, 0 for none.
	lowestPresence uint64
}

// deliverToRoom hands a batch of room's pushes to this node's members of
// it. When no push skips a member, every member that is past its
// recovery shares one slice of frames.
func (h *sHub) deliverToRoom(room string, pushes []roomPush) {
	batch := roomBatch{pushes: pushes}
	for _, p := range pushes {
		if p.presence > 0 && (batch.lowestPresence == 0 || p.presence < batch.lowestPresence) {
			batch.lowestPresence = p.presence
		}
	}
	for _, p := range pushes {
		if p.except != nil {
			batch.shared = nil
			break
		}
		batch.shared = append(batch.shared, p.frame)
	}
	for _, p := range slices.Backward(pushes) {
		if p.offset > 0 {
			batch.tail = &broker.Position{Offset: p.offset, Epoch: p.epoch}
			break
		}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for mem := range h.rooms[room].all() {
		mem.rooms[room].deliver(mem.peer, batch)
	}
}
