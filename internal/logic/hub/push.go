package hub

import (
	"context"
	"time"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/ws"
)

// SendToUser sends text as user.message to every connection of user to,
// on every node.
func (h *sHub) SendToUser(ctx context.Context, to, text string) error {
	p, err := h.caller(ctx)
	if err != nil {
		return err
	}
	_, err = h.push(ctx, broker.ToUser, to, EventUserMessage, map[string]any{
		"from": p.UserID(), "text": text, "ts": time.Now().UnixMilli(),
	})
	if gerror.Code(err) == gcode.CodeServerBusy {
		return nil // delivered here; the broker logs its outage
	}
	return err
}

// PushToUser sends event with data to every connection of user on every
// node, and returns how many of this node's connections took it.
func (h *sHub) PushToUser(ctx context.Context, user, event string, data any) (delivered int, err error) {
	return h.push(ctx, broker.ToUser, user, event, data)
}

// PushToRoom sends event with data, in the room's stream, to every
// connection in room on every node, and returns how many of this node's
// connections are in the room, once it has handed the push to them
// (through Redis, its message comes back through the room's channel): a
// kick after it closes them after the push.
func (h *sHub) PushToRoom(ctx context.Context, room, event string, data any) (delivered int, err error) {
	frame, err := encodePush(event, data)
	if err != nil {
		return 0, err
	}
	h.mu.RLock()
	delivered = h.rooms[room].len()
	h.mu.RUnlock()
	var arrival *arrival
	if delivered > 0 && h.broker.Clustered() {
		arrival = h.arrivals.expect(room)
	}
	out, _ := h.appendToRoom(ctx, room, frame)
	if arrival != nil {
		h.arrivals.await(room, arrival, out.Offset)
	}
	if out.Local {
		return delivered, gerror.NewCode(gcode.CodeServerBusy, "delivered on this node only: the other nodes cannot be reached right now")
	}
	return delivered, nil
}

// PushToAll sends event with data to every connection on every node, and
// returns how many of this node's connections took it.
func (h *sHub) PushToAll(ctx context.Context, event string, data any) (delivered int, err error) {
	return h.push(ctx, broker.ToAll, "", event, data)
}

// KickConn closes a connection with 4403 and reason, on whichever node
// holds it. Alone, a connection this node does not hold is not found.
func (h *sHub) KickConn(ctx context.Context, connID, reason string) error {
	closed, err := h.publish(ctx, broker.Message{Kind: broker.KickConn, Target: connID, Frame: []byte(reason)}, nil)
	switch {
	case closed > 0:
		return nil
	case !h.broker.Clustered():
		return gerror.NewCodef(gcode.CodeNotFound, "no connection %q on this node", connID)
	case err != nil:
		return gerror.WrapCode(gcode.CodeServerBusy, err, "the other nodes cannot be reached right now")
	}
	return nil
}

// KickUser closes every connection of user with 4403 and reason, on every
// node, and returns how many of this node's connections it closed. While
// the other nodes cannot be reached it says so, whatever it closed here:
// the user's connections there stay open, and the caller must kick again.
func (h *sHub) KickUser(ctx context.Context, user, reason string) (closed int, err error) {
	closed, err = h.publish(ctx, broker.Message{Kind: broker.KickUser, Target: user, Frame: []byte(reason)}, nil)
	if err != nil {
		return closed, gerror.WrapCodef(gcode.CodeServerBusy, err,
			"closed %d connection(s) on this node only: the other nodes cannot be reached right now; kick again once they can", closed)
	}
	return closed, nil
}

// push publishes one push to every connection a delivery kind names.
func (h *sHub) push(ctx context.Context, kind broker.Kind, target, event string, data any) (int, error) {
	frame, err := encodePush(event, data)
	if err != nil {
		return 0, err
	}
	delivered, err := h.publish(ctx, broker.Message{Kind: kind, Target: target, Frame: frame}, nil)
	if err != nil {
		return delivered, gerror.WrapCode(gcode.CodeServerBusy, err, "delivered on this node only: the other nodes cannot be reached right now")
	}
	return delivered, nil
}

func encodePush(event string, data any) ([]byte, error) {
	frame, err := ws.EncodePush(event, data)
	if err != nil {
		return nil, gerror.WrapCode(gcode.CodeInvalidParameter, err, "data cannot be encoded as JSON")
	}
	return frame, nil
}
