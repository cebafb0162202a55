package hub

import (
	"context"
	"time"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"
	"github.com/gogf/gf/v2/os/glog"

	"github.com/gfws/template-ws/internal/broker"
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
func caller(ctx context.Context) (*ws.Conn, error) {
	c := ws.FromContext(ctx)
	if c == nil {
		return nil, gerror.NewCode(gcode.CodeInvalidOperation, "not called from a WebSocket connection")
	}
	return c, nil
}

// JoinRoom adds the calling connection to room and returns how many users
// the room has on every node. The room's other members hear room.joined
// when this is the user's first connection in it.
func (h *sHub) JoinRoom(ctx context.Context, room string) (members int, err error) {
	c, err := caller(ctx)
	if err != nil {
		return 0, err
	}
	h.mu.Lock()
	m := h.conns[c.ID()]
	if m == nil {
		h.mu.Unlock()
		return 0, gerror.NewCode(gcode.CodeInvalidOperation, "connection is closing")
	}
	_, already := m.rooms[room]
	firstOfUser := !already && !h.userInRoomLocked(c.UserID(), room)
	m.rooms[room] = struct{}{}
	addTo(h.rooms, room, m)
	if !firstOfUser {
		h.mu.Unlock()
	} else {
		h.presenceMu.Lock()
		h.mu.Unlock()
		// A broker that lost its peers logs that itself and re-records
		// presence when they return.
		_ = h.Broker().Join(ctx, room, c.UserID())
		h.presenceMu.Unlock()
		h.pushToRoom(ctx, room, EventRoomJoined, map[string]string{"room": room, "userId": c.UserID()}, c)
	}
	users, err := h.RoomMembers(ctx, room)
	return len(users), err
}

// LeaveRoom takes the calling connection out of room. Leaving a room one
// is not in succeeds and changes nothing.
func (h *sHub) LeaveRoom(ctx context.Context, room string) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	m := h.conns[c.ID()]
	if m == nil {
		h.mu.Unlock()
		return nil
	}
	if _, in := m.rooms[room]; !in {
		h.mu.Unlock()
		return nil
	}
	delete(m.rooms, room)
	removeFrom(h.rooms, room, m)
	lastOfUser := !h.userInRoomLocked(c.UserID(), room)
	if !lastOfUser {
		h.mu.Unlock()
		return nil
	}
	h.presenceMu.Lock()
	h.mu.Unlock()
	h.leavePresence(ctx, room, c.UserID())
	h.presenceMu.Unlock()
	h.pushToRoom(ctx, room, EventRoomLeft, map[string]string{"room": room, "userId": c.UserID()}, nil)
	return nil
}

// leavePresence records that user has no connection left in room on this
// node. Called with presenceMu held, so presence updates reach the broker
// in the order the registry changed; pushes go out after it is released,
// since delivering takes mu.
func (h *sHub) leavePresence(ctx context.Context, room, user string) {
	_ = h.Broker().Leave(ctx, room, user) // on failure the entry expires
}

// userInRoomLocked reports whether any connection of user is in room.
// Called with mu held.
func (h *sHub) userInRoomLocked(user, room string) bool {
	for m := range h.users[user] {
		if _, in := m.rooms[room]; in {
			return true
		}
	}
	return false
}

// SendToRoom sends text to every connection in room on every node, the
// sender's included. Only a member may send.
func (h *sHub) SendToRoom(ctx context.Context, room, text string) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	h.mu.RLock()
	m := h.conns[c.ID()]
	member := m != nil
	if member {
		_, member = m.rooms[room]
	}
	h.mu.RUnlock()
	if !member {
		return gerror.NewCodef(gcode.CodeNotAuthorized, "you are not a member of room %q: join it first", room)
	}
	h.pushToRoom(ctx, room, EventRoomMessage, map[string]any{
		"room": room, "from": c.UserID(), "text": text, "ts": time.Now().UnixMilli(),
	}, nil)
	return nil
}

// RoomMembers returns the users in room on every node.
func (h *sHub) RoomMembers(ctx context.Context, room string) ([]string, error) {
	users, err := h.Broker().Members(ctx, room)
	if err != nil {
		return nil, gerror.WrapCode(gcode.CodeServerBusy, err, "room members are unavailable right now")
	}
	return users, nil
}

// SendToUser sends text to every connection of user to, on every node.
func (h *sHub) SendToUser(ctx context.Context, to, text string) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	frame, err := ws.EncodePush(EventUserMessage, map[string]any{
		"from": c.UserID(), "text": text, "ts": time.Now().UnixMilli(),
	})
	if err != nil {
		return err
	}
	_, _ = h.publish(ctx, broker.Message{Kind: broker.ToUser, Target: to, Frame: frame}, nil)
	return nil
}

// Push sends event with data to a user, a room or everyone (kind
// ToUser, ToRoom or ToAll) on every node, and returns how many of this
// node's connections took it.
func (h *sHub) Push(ctx context.Context, kind broker.Kind, target, event string, data any) (delivered int, err error) {
	frame, err := ws.EncodePush(event, data)
	if err != nil {
		return 0, gerror.WrapCode(gcode.CodeInvalidParameter, err, "data cannot be encoded as JSON")
	}
	return h.publish(ctx, broker.Message{Kind: kind, Target: target, Frame: frame}, nil)
}

// Kick closes a connection (KickConn) or every connection of a user
// (KickUser) with 4403 and reason, on every node. It returns how many of
// this node's connections it closed.
func (h *sHub) Kick(ctx context.Context, kind broker.Kind, target, reason string) (int, error) {
	return h.publish(ctx, broker.Message{Kind: kind, Target: target, Frame: []byte(reason)}, nil)
}

// pushToRoom publishes one push to room, skipping except.
func (h *sHub) pushToRoom(ctx context.Context, room, event string, data any, except *ws.Conn) {
	frame, err := ws.EncodePush(event, data)
	if err != nil {
		glog.Errorf(ctx, "encode %q: %v", event, err)
		return
	}
	_, _ = h.publish(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: frame}, except)
}
