// Package model holds the data structures shared between the service
// layer and its callers.
package model

import (
	"time"

	"github.com/gfws/template-ws/internal/ws"
)

// Peer is a connection as the hub sees it: *ws.Conn is the real one, and a
// test can bring its own.
type Peer interface {
	ID() string
	UserID() string
	RemoteAddr() string
	Since() time.Time
	// SendFrames queues frames, in order, without blocking; false means
	// the peer is closing or was just closed as a slow consumer.
	SendFrames(frames ...*ws.Frame) bool
	// SendReplay queues frames the peer asked for (a join's replay), in
	// order, once its queue has room for them, waiting a bounded time:
	// called only from the peer's own request handler.
	SendReplay(frames ...*ws.Frame) bool
	// Close closes the peer with code and reason after what is queued.
	Close(code int, reason string)
}

// Connection describes one live connection of this node.
type Connection struct {
	ConnID     string    `json:"connId"     dc:"connection id, unique across nodes"`
	UserID     string    `json:"userId"     dc:"user id, or anon-<connId>"`
	RemoteAddr string    `json:"remoteAddr" dc:"client address, resolved through trusted proxies"`
	Since      time.Time `json:"since"      dc:"when the connection was accepted"`
	Rooms      []string  `json:"rooms"      dc:"rooms the connection has joined"`
}

// HubCounts is the size of a node's registry.
type HubCounts struct {
	Connections int
	Users       int
	Rooms       int
}

// RoomEventInput is an event a connection publishes to a room it has
// joined.
type RoomEventInput struct {
	Room  string // the room, which the calling connection must be in
	Event string // the push's event name
	Data  any    // the push's data, encoded as JSON
	// IncludeSender delivers the push to the publishing connection too; a
	// typing indicator leaves it out, a chat message keeps it.
	IncludeSender bool
	// Stream makes the push part of the room's stream: it carries the
	// room's next offset and is kept for clients that recover after a
	// reconnect. A stream push reaches its sender too, whatever
	// IncludeSender says: the offset is part of everyone's stream.
	Stream bool
}

// StreamPosition is a place in a room's stream: the offset of its last
// message (0 for none) and the epoch, which changes whenever the stream's
// history is lost.
type StreamPosition struct {
	Offset uint64
	Epoch  string
}

// RoomJoinInput is a room to join and, for a client coming back, where
// its stream left off.
type RoomJoinInput struct {
	Room  string
	Since *StreamPosition // nil for a first join
}

// RoomJoinOutput is the room a connection joined, as counted after it,
// and the stream position from which its live messages follow.
type RoomJoinOutput struct {
	Members int // users in the room, on every node
	// Local is true when Members counts only this node's users: the other
	// nodes are out of reach, and the join worked here all the same.
	Local bool
	StreamPosition
	// Recovered, for a join with Since, tells whether every missed
	// message was replayed before the reply; nil without Since.
	Recovered *bool
}

// RoomSendOutput is where a room message went in the room's stream.
type RoomSendOutput struct {
	Offset uint64 // 0 when Local
	// Local is true when the message reached only this node's members:
	// the other nodes, and the stream, are out of reach.
	Local bool
}

// RoomMembersInput asks for one page of a room's users, sorted.
type RoomMembersInput struct {
	Room  string
	Limit int    // users per page
	After string // the page starts after this user; "" for the first
}

// RoomMembersOutput is one page of a room's users on every node.
type RoomMembersOutput struct {
	Count int      // users in the room
	Users []string // at most Limit of them, sorted, after In.After
	Next  string   // pass as After for the next page; "" on the last
}
