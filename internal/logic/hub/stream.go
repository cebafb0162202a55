package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

// maxPending bounds the pushes held for one connection while its join
// recovers; a room that outpaces a join this far closes it as a slow
// consumer.
const maxPending = 4096

// membership is one connection's place in one room. From the moment it
// joins, joins again or asks for a first members page, until that
// request's reply is queued, the room's stream messages for it are held,
// so that they follow the replayed ones and the reply, and so are the
// other pushes that come after one of them, which keeps each sender's
// order; from then on, those at or below floor, which the reply's offset
// covers, are dropped: a message can reach a node after a recovery read it
// from the history. The floor holds in the reply's epoch only: a stream
// that Redis lost starts again from offset 1 under its members, and those
// messages are new. The pushes outside the stream handed over before the
// join (numbered up to joinedAt) are not its own: a large room's lane may
// deliver them after the join. The room.joined and room.left pushes are
// held until the reply too, and those of changes the reply's count
// includes (up to counted) are dropped: the count told them, and they must
// not move a client's count again, whether they reach the node before the
// reply or after.
type membership struct {
	joinedAt   uint64
	counted    atomic.Uint64
	recovering atomic.Bool
	floor      uint64 // written before recovering turns false, as epoch
	epoch      string
	// sent is the position of the last stream message queued for the
	// member since its reply, nil before the first: with floor, where a
	// repeat join's reply may say the member is.
	sent    atomic.Pointer[broker.Position]
	mu      sync.Mutex
	pending []roomPush
	// holdEnded run when the hold under way ends (see afterHold).
	holdEnded []func()
	gone      bool // taken out of its room: no hold of it ends any more
}

func newMembership(joinedAt uint64) *membership {
	ms := &membership{joinedAt: joinedAt}
	ms.recovering.Store(true)
	return ms
}

// deliver hands peer its share of a lane's batch, in order, holding the
// stream messages and presence pushes, and the pushes behind them, while
// a join recovers.
func (ms *membership) deliver(peer model.Peer, batch roomBatch) {
	if !ms.recovering.Load() {
		ms.send(peer, batch)
		return
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if !ms.recovering.Load() {
		ms.send(peer, batch)
		return
	}
	var now []*ws.Frame
	for _, p := range batch.pushes {
		switch {
		case p.except == peer:
		case p.offset == 0 && p.number <= ms.joinedAt:
		case p.offset == 0 && p.presence == 0 && len(ms.pending) == 0:
			// Nothing is held before it, and the reply's count has no
			// say in it: it may go at once.
			now = append(now, p.frame)
		case len(ms.pending) == maxPending:
			go peer.Close(ws.CloseSlowConsumer, "slow consumer")
			return
		default:
			ms.pending = append(ms.pending, p)
		}
	}
	if len(now) > 0 {
		peer.SendFrames(now...)
	}
}

// send queues the batch's pushes for peer: all but those it is excepted
// from, the stream messages at or below floor, the pushes handed over
// before its join and the presence pushes its last count included. The
// batch's last stream message is recorded as sent even when floor covers
// it: holdAgain takes the later of the two.
func (ms *membership) send(peer model.Peer, batch roomBatch) {
	if batch.tail != nil {
		defer ms.sent.Store(batch.tail)
	}
	if batch.shared != nil && ms.takesAll(batch) {
		peer.SendFrames(batch.shared...)
		return
	}
	frames := make([]*ws.Frame, 0, len(batch.pushes))
	for _, p := range batch.pushes {
		if p.except != peer && ms.takes(p) {
			frames = append(frames, p.frame)
		}
	}
	if len(frames) > 0 {
		peer.SendFrames(frames...)
	}
}

func (ms *membership) takes(p roomPush) bool {
	if p.offset > 0 {
		return !ms.covered(p)
	}
	return p.number > ms.joinedAt && !ms.countedAlready(p)
}

// countedAlready reports whether presence push p tells a change that the
// count of the member's last join or members page included.
func (ms *membership) countedAlready(p roomPush) bool {
	return p.presence > 0 && p.presence <= ms.counted.Load()
}

// covered reports whether stream message p is one the join's reply
// covered. A message of no known epoch (a node of an earlier version
// sent it) is taken to be of the reply's.
func (ms *membership) covered(p roomPush) bool {
	return p.offset <= ms.floor && (p.epoch == ms.epoch || p.epoch == "")
}

// takesAll reports whether the membership takes every push of batch: in
// a batch, offsets and numbers ascend, so the first of each tells, and
// the lowest presence version.
func (ms *membership) takesAll(batch roomBatch) bool {
	if batch.lowestPresence > 0 && batch.lowestPresence <= ms.counted.Load() {
		return false
	}
	var streamSeen, numberSeen bool
	for _, p := range batch.pushes {
		if p.offset > 0 && !streamSeen {
			if ms.covered(p) {
				return false
			}
			streamSeen = true
		}
		if p.offset == 0 && !numberSeen {
			if p.number <= ms.joinedAt {
				return false
			}
			numberSeen = true
		}
		if streamSeen && numberSeen {
			return true
		}
	}
	return true
}

// live ends the recovery: the held messages after floor, the reply's
// position, go out, but for the presence pushes the reply's count
// included, and later ones go straight through.
func (ms *membership) live(peer model.Peer, floor broker.Position) {
	ms.mu.Lock()
	defer ms.endHold()
	defer ms.mu.Unlock()
	ms.floor, ms.epoch = floor.Offset, floor.Epoch
	var frames []*ws.Frame
	var last roomPush
	for _, p := range ms.pending {
		switch {
		case ms.countedAlready(p):
		case p.offset == 0:
			frames = append(frames, p.frame)
		case !ms.covered(p):
			frames = append(frames, p.frame)
			last = p
		}
	}
	if len(frames) > 0 {
		peer.SendFrames(frames...)
	}
	if last.offset > 0 {
		ms.sent.Store(&broker.Position{Offset: last.offset, Epoch: last.epoch})
	}
	ms.pending = nil
	ms.recovering.Store(false)
}

// afterHold runs fn once the hold under way ends, as live sends what it
// held or as the member leaves, and reports true; with no hold under way
// it reports false and does nothing.
func (ms *membership) afterHold(fn func()) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.gone || !ms.recovering.Load() {
		return false
	}
	ms.holdEnded = append(ms.holdEnded, fn)
	return true
}

// leftRoom ends the membership's holds for good: what waits for them goes
// on now, and what would wait later does not.
func (ms *membership) leftRoom() {
	ms.mu.Lock()
	ms.gone = true
	ms.mu.Unlock()
	ms.endHold()
}

// endHold runs what waits for the hold to end, outside ms.mu.
func (ms *membership) endHold() {
	ms.mu.Lock()
	waiting := ms.holdEnded
	ms.holdEnded = nil
	ms.mu.Unlock()
	for _, fn := range waiting {
		fn()
	}
}

// holdAgain starts a hold for a member past its join, for a join of the
// room it is in already or a first members page: it returns the stream
// position of the last message queued for it, or the reply's floor, and
// the messages that follow are held until the new reply is queued (live
// ends the hold). Called with the hub's lock held, which no
// delivery holds, and on the member's reader, which ended the last hold.
func (ms *membership) holdAgain() broker.Position {
	at := broker.Position{Offset: ms.floor, Epoch: ms.epoch}
	if sent := ms.sent.Load(); sent != nil && (sent.Epoch != at.Epoch || sent.Offset > at.Offset) {
		at = *sent
	}
	ms.recovering.Store(true)
	return at
}

// countedUpTo records that a count given to the member includes the
// presence changes up to version.
func (ms *membership) countedUpTo(version uint64) {
	for {
		was := ms.counted.Load()
		if version <= was || ms.counted.CompareAndSwap(was, version) {
			return
		}
	}
}

// brokerPosition is since as the broker takes it.
func brokerPosition(since *model.StreamPosition) *broker.Position {
	if since == nil {
		return nil
	}
	return &broker.Position{Offset: since.Offset, Epoch: since.Epoch}
}

// sinceBeyond refuses a since past the stream's end (code 51).
func sinceBeyond(room string, since *model.StreamPosition, at broker.Position) error {
	return gerror.NewCodef(gcode.CodeValidationFailed,
		"since.offset %d is past the last offset of room %q, %d, in epoch %q: send the offset of the last message you received",
		since.Offset, room, at.Offset, at.Epoch)
}

// streamFrame is the frame of a stream message as every receiver gets it.
func streamFrame(m broker.Message) *ws.Frame {
	return ws.NewFrame(ws.StreamPush(m.Frame, m.Target, m.Offset, m.Epoch))
}

// recoverJoin reads room's stream position for a join that has just
// registered ms, unless it is known already, and, with since, replays
// what the client missed to p; the held live messages follow the reply.
// A since past the stream's end is code 51, the one error it returns:
// the caller undoes the join.
func (h *sHub) recoverJoin(ctx context.Context, p model.Peer, ms *membership, room string, since *model.StreamPosition, known *broker.Position) (model.StreamPosition, *bool, error) {
	var rec broker.Recovery
	var err error
	if known != nil {
		rec.Position = *known
	} else {
		rec, err = h.broker.Recover(ctx, room, brokerPosition(since))
	}
	if errors.Is(err, broker.ErrSinceBeyond) {
		return model.StreamPosition{}, nil, sinceBeyond(room, since, rec.Position)
	}
	if err != nil {
		rec = broker.Recovery{} // out of reach: no position, live messages from now
	}
	replay := make([]*ws.Frame, len(rec.Missed))
	size := 0
	for i, m := range rec.Missed {
		replay[i] = streamFrame(m)
		size += replay[i].Len()
	}
	if limit := h.cfg.MaxReplayBytes; limit > 0 && size > limit {
		// More than the connection's queue may hold: the client reloads
		// the room another way, as after a history that expired.
		replay, rec.Recovered, rec.Missed = nil, false, nil
	}
	if len(replay) > 0 {
		p.SendReplay(replay...)
	}
	if !ws.AfterReply(ctx, func() { ms.live(p, rec.Position) }) {
		ms.live(p, rec.Position) // not a WebSocket request: there is no reply to follow
	}
	position := model.StreamPosition{Offset: rec.Offset, Epoch: rec.Epoch}
	if since == nil {
		return position, nil, nil
	}
	if rec.Recovered {
		h.recovered.Add(1)
	} else {
		h.lost.Add(1)
	}
	return position, &rec.Recovered, nil
}

// appendToRoom makes a push part of room's stream on every node. While the
// stream is out of reach it reaches this node's members only, without an
// offset.
func (h *sHub) appendToRoom(ctx context.Context, room string, frame []byte) (model.RoomSendOutput, error) {
	offset, err := h.broker.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: frame})
	if err == nil {
		return model.RoomSendOutput{Offset: offset}, nil
	}
	h.deliver(broker.Message{Kind: broker.ToRoom, Target: room, Frame: frame}, nil)
	return model.RoomSendOutput{Local: true}, nil
}

// RoomPosition returns room's stream position, cluster-wide, without
// starting a stream: a room never used has offset 0 and no epoch.
func (h *sHub) RoomPosition(ctx context.Context, room string) (model.StreamPosition, error) {
	at, err := h.broker.Position(ctx, room)
	if err != nil {
		return model.StreamPosition{}, gerror.WrapCode(gcode.CodeServerBusy, err, "the room's stream is unavailable right now")
	}
	return model.StreamPosition{Offset: at.Offset, Epoch: at.Epoch}, nil
}

// Recoveries counts the joins with since that recovered every missed
// message, and those that could not.
func (h *sHub) Recoveries() (recovered, lost uint64) {
	return h.recovered.Load(), h.lost.Load()
}
