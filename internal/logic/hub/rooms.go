package hub

import (
	"context"
	"time"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

// Pushes the hub sends.
const (
	EventRoomJoined  = "room.joined"
	EventRoomLeft    = "room.left"
	EventRoomMessage = "room.message"
	EventUserMessage = "user.message"
)

// caller returns the connection a WebSocket handler runs for.
func (h *sHub) caller(ctx context.Context) (model.Peer, error) {
	p := h.callerOf(ctx)
	if p == nil {
		return nil, gerror.NewCode(gcode.CodeInvalidOperation, "not called from a WebSocket connection")
	}
	return p, nil
}

// JoinRoom adds the calling connection to in.Room and counts the room's
// users on every node, or on this one while the others are out of reach.
// The room's other members hear room.joined when this is the user's first
// connection in it and the room has at most rooms.presenceEventsLimit
// users: the cost of a join does not grow with the room. With in.Since,
// the stream messages the client missed are replayed before the reply.
func (h *sHub) JoinRoom(ctx context.Context, in model.RoomJoinInput) (out model.RoomJoinOutput, err error) {
	p, err := h.caller(ctx)
	if err != nil {
		return out, err
	}
	room := in.Room
	h.mu.Lock()
	m := h.conns[p.ID()]
	if m == nil {
		h.mu.Unlock()
		return out, gerror.NewCode(gcode.CodeInvalidOperation, "connection is closing")
	}
	if ms, already := m.rooms[room]; already {
		at := ms.holdAgain()
		h.mu.Unlock()
		return h.rejoin(ctx, p, ms, room, in.Since, at)
	}
	if limit := h.cfg.MaxRoomsPerConnection; limit > 0 && len(m.rooms) >= limit {
		h.mu.Unlock()
		return out, gerror.NewCodef(gcode.CodeServerBusy,
			"this connection is already in %d rooms, the most rooms.maxPerConnection allows: leave one first", limit)
	}
	firstOfUser := h.enteredLocked(p.UserID(), room)
	ms := newMembership(h.lanes.numbered.Load())
	m.rooms[room] = ms
	addTo(h.rooms, room, m)
	watched := h.broker.WatchRoom(room)
	// A stream position read after the change is one this member can
	// start from if the room's deliveries reached this node before it.
	subscribed := isClosed(watched)
	var counted chan roomCount
	if firstOfUser {
		// The count must include this user: it comes with the change.
		counted = make(chan roomCount, 1)
		h.record(presenceChange{Change: broker.Change{Room: room, User: p.UserID(), Join: true}, counted: counted})
	}
	h.mu.Unlock()
	// Read after this join's presence change, a room's position is that
	// of the stream its users hold: read before it, in a room nobody was
	// in, it could be one no stream keeps (the broker keeps none for a
	// room without users), or one that the room's last leave ends.
	var count roomCount
	if counted != nil {
		count = <-counted
	}
	if counted == nil || !subscribed || in.Since != nil {
		// The position the change read counts only if the room's
		// deliveries reached this node before it; otherwise it is read
		// once they do.
		count.position = nil
		awaitSubscription(watched)
	}
	// So does the count: the presence pushes published before the room's
	// deliveries reached this node never reach the member, so the count
	// it is given must include their changes. The room.joined this join
	// sends keeps the number of its own change. A change the broker did
	// not take is missing from the broker's count until the node restores
	// its presence there: this node's count, which has it, stands.
	members := count
	if counted == nil || !subscribed {
		if recount := h.countUsers(ctx, room); counted == nil || !count.local && !recount.local {
			members = recount
		}
	}
	ms.countedUpTo(members.version)
	position, recovered, err := h.recoverJoin(ctx, p, ms, room, in.Since, count.position)
	if err != nil {
		// The user was in the room from the join's change to the leave
		// that undoes it, and counts taken in between include them: a
		// room small enough to hear of joins hears them come and go, so
		// that no count kept from the pushes keeps them; a larger one
		// hears of neither.
		told := count.moved && h.announces(count.users)
		if told {
			h.pushPresence(ctx, room, EventRoomJoined, p.UserID(), count.version, p)
		}
		h.takeOut(p, room, !told)
		return out, err
	}
	if count.moved && h.announces(count.users) {
		h.pushPresence(ctx, room, EventRoomJoined, p.UserID(), count.version, p)
	}
	return model.RoomJoinOutput{Members: members.users, Local: members.local, StreamPosition: position, Recovered: recovered}, nil
}

// rejoin answers a join of a room the connection is already in, whose
// stream messages up to at are queued for it already and later ones are
// held until this reply is: nothing is replayed, and the reply's position
// is at, not the stream's head, which may be ahead of messages still on
// their way to the member.
func (h *sHub) rejoin(ctx context.Context, p model.Peer, ms *membership, room string, since *model.StreamPosition, at broker.Position) (model.RoomJoinOutput, error) {
	if !ws.AfterReply(ctx, func() { ms.live(p, at) }) {
		ms.live(p, at) // not a WebSocket request: there is no reply to follow
	}
	if since != nil {
		head, err := h.broker.Position(ctx, room)
		if err == nil && since.Epoch == head.Epoch && since.Offset > head.Offset {
			return model.RoomJoinOutput{}, sinceBeyond(room, since, head)
		}
	}
	count := h.countUsers(ctx, room)
	ms.countedUpTo(count.version)
	out := model.RoomJoinOutput{Members: count.users, Local: count.local, StreamPosition: model.StreamPosition{Offset: at.Offset, Epoch: at.Epoch}}
	if since != nil {
		out.Recovered = new(bool)
	}
	return out, nil
}

// countUsers counts room's users on every node, or on this one while the
// others are out of reach; the broker logs its outage.
func (h *sHub) countUsers(ctx context.Context, room string) roomCount {
	return h.counts.take(room, func() roomCount {
		// Shared with other callers, the count must not end with the
		// connection of the one that makes it.
		if n, err := h.broker.Count(context.WithoutCancel(ctx), room); err == nil {
			return roomCount{users: n.Users, version: n.Version}
		}
		return roomCount{users: h.localUsers(room), local: true}
	})
}

// LeaveRoom takes the calling connection out of room; a small room hears
// room.left when this was the user's last connection in it. Leaving a room
// one is not in succeeds and changes nothing.
func (h *sHub) LeaveRoom(ctx context.Context, room string) error {
	p, err := h.caller(ctx)
	if err != nil {
		return err
	}
	h.leave(p, room)
	return nil
}

// leave takes p out of room.
func (h *sHub) leave(p model.Peer, room string) { h.takeOut(p, room, false) }

// takeOut takes p out of room; quiet keeps the room from hearing of it,
// for a refused join that it never heard of.
func (h *sHub) takeOut(p model.Peer, room string, quiet bool) {
	h.mu.Lock()
	m := h.conns[p.ID()]
	var ms *membership
	if m != nil {
		ms = m.rooms[room]
	}
	if ms == nil {
		h.mu.Unlock()
		return
	}
	delete(m.rooms, room)
	removeFrom(h.rooms, room, m)
	h.broker.UnwatchRoom(room)
	if h.leftLocked(p.UserID(), room) {
		h.record(presenceChange{Change: broker.Change{Room: room, User: p.UserID()}, quiet: quiet})
	}
	h.mu.Unlock()
	// A refused join's hold never goes live: what waits for it (a kick)
	// goes on now, and what comes later waits for nothing.
	ms.leftRoom()
}

// userRoom keys userConns.
type userRoom struct{ user, room string }

// enteredLocked counts one more connection of user in room and reports
// whether it is the user's first there. Called with mu held.
func (h *sHub) enteredLocked(user, room string) bool {
	key := userRoom{user, room}
	h.userConns[key]++
	return h.userConns[key] == 1
}

// leftLocked counts one connection of user less in room and reports
// whether it was the user's last there. Called with mu held.
func (h *sHub) leftLocked(user, room string) bool {
	key := userRoom{user, room}
	if h.userConns[key]--; h.userConns[key] > 0 {
		return false
	}
	delete(h.userConns, key)
	return true
}

// SendToRoom sends text as room.message, in the room's stream, to every
// connection in room on every node, the sender's included. Only a member
// may send.
func (h *sHub) SendToRoom(ctx context.Context, room, text string) (model.RoomSendOutput, error) {
	p, err := h.caller(ctx)
	if err != nil {
		return model.RoomSendOutput{}, err
	}
	return h.publishToRoom(ctx, p, model.RoomEventInput{
		Room:  room,
		Event: EventRoomMessage,
		Data: map[string]any{
			"room": room, "from": p.UserID(), "text": text, "ts": time.Now().UnixMilli(),
		},
		Stream: true,
	})
}

// PublishToRoom pushes an event to every connection in a room on every
// node, as the calling connection, which must have joined the room. It is
// how a new room event (a typing indicator, a reaction) reaches a room
// without a change to the hub.
func (h *sHub) PublishToRoom(ctx context.Context, in model.RoomEventInput) error {
	p, err := h.caller(ctx)
	if err != nil {
		return err
	}
	_, err = h.publishToRoom(ctx, p, in)
	return err
}

func (h *sHub) publishToRoom(ctx context.Context, p model.Peer, in model.RoomEventInput) (model.RoomSendOutput, error) {
	h.mu.RLock()
	m := h.conns[p.ID()]
	member := m != nil
	if member {
		_, member = m.rooms[in.Room]
	}
	h.mu.RUnlock()
	if !member {
		return model.RoomSendOutput{}, gerror.NewCodef(gcode.CodeNotAuthorized, "you are not a member of room %q: join it first", in.Room)
	}
	frame, err := encodePush(in.Event, in.Data)
	if err != nil {
		return model.RoomSendOutput{}, err
	}
	if in.Stream {
		return h.appendToRoom(ctx, in.Room, frame)
	}
	var except model.Peer
	if !in.IncludeSender {
		except = p
	}
	_, _ = h.publish(ctx, broker.Message{Kind: broker.ToRoom, Target: in.Room, Frame: frame}, except)
	return model.RoomSendOutput{}, nil
}

// RoomMembers returns one page of room's users on every node, sorted, and
// how many there are: a reply never grows with the room.
func (h *sHub) RoomMembers(ctx context.Context, in model.RoomMembersInput) (out model.RoomMembersOutput, err error) {
	limit := max(in.Limit, 1)
	// A first page counts the room again, as a join does; a later one
	// lists only users after its cursor, and the caller's list still
	// needs to hear of those who join before it.
	var ms *membership
	if in.After == "" {
		ms = h.holdPresence(ctx, in.Room)
	}
	users, count, err := h.broker.Page(ctx, in.Room, in.After, limit+1)
	if err != nil {
		return out, gerror.WrapCode(gcode.CodeServerBusy, err, "room members are unavailable right now")
	}
	if ms != nil {
		ms.countedUpTo(count.Version)
	}
	out.Count = count.Users
	if len(users) > limit {
		users = users[:limit]
		out.Next = users[limit-1]
	}
	if users == nil {
		users = []string{} // an empty page is [], as the schema says, not null
	}
	out.Users = users
	return out, nil
}

// holdPresence holds room's pushes for the calling connection, when it is
// a member, until the reply to its request is queued, as a repeat join
// does: the reply's count then decides which presence pushes it takes.
// It returns the membership, nil for none. With presence pushes off
// there is nothing to hold.
func (h *sHub) holdPresence(ctx context.Context, room string) *membership {
	p := h.callerOf(ctx)
	if p == nil || h.cfg.PresenceEventsLimit == 0 {
		return nil
	}
	h.mu.Lock()
	m := h.conns[p.ID()]
	var ms *membership
	if m != nil {
		ms = m.rooms[room]
	}
	if ms == nil {
		h.mu.Unlock()
		return nil
	}
	at := ms.holdAgain()
	h.mu.Unlock()
	if !ws.AfterReply(ctx, func() { ms.live(p, at) }) {
		ms.live(p, at)
		return nil
	}
	return ms
}

// pushPresence tells room, but for except, that user joined or left in
// the presence change of version.
func (h *sHub) pushPresence(ctx context.Context, room, event, user string, version uint64, except model.Peer) {
	frame, err := encodePush(event, map[string]string{"room": room, "userId": user})
	if err != nil {
		return
	}
	_, _ = h.publish(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: frame, Presence: version}, except)
}
