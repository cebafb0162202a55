package v1

import "github.com/gogf/gf/v2/frame/g"

// The pushes below are what the server sends unasked. The server builds
// their data itself; these structs declare it for the event contract
// (/asyncapi.json), so a change to a push's fields is made here too.
// A push whose g.Meta says stream:"true" belongs to a room's stream: its
// envelope carries "room" and "offset" beside "event" and "data".

// WelcomePush is the first message of every connection.
type WelcomePush struct {
	g.Meta       `push:"welcome" summary:"The first message of every connection"`
	ConnID       string `json:"connId" dc:"this connection's id, as the admin API names it"`
	UserID       string `json:"userId" dc:"the token's sub, or anon-<connId> without a token"`
	Node         string `json:"node" dc:"the node that holds the connection"`
	PingInterval int64  `json:"pingInterval" dc:"how often the server sends a ping frame, in milliseconds"`
}

// RoomJoinedPush tells a room's members that a user joined, while the
// room is small enough for presence pushes (rooms.presenceEventsLimit).
type RoomJoinedPush struct {
	g.Meta `push:"room.joined" summary:"A user joined a room you are in"`
	Room   string `json:"room"`
	UserID string `json:"userId" dc:"the user who joined"`
}

// RoomLeftPush tells a room's members that a user left, while the room is
// small enough for presence pushes (rooms.presenceEventsLimit).
type RoomLeftPush struct {
	g.Meta `push:"room.left" summary:"A user left a room you are in"`
	Room   string `json:"room"`
	UserID string `json:"userId" dc:"the user who left, or who was on a node that died (its presence lapsed)"`
}

// RoomMessagePush is a room.send of any member, the receiver's own
// included, in the room's stream.
type RoomMessagePush struct {
	g.Meta `push:"room.message" stream:"true" summary:"A message sent to a room you are in"`
	Room   string `json:"room"`
	From   string `json:"from" dc:"the sender's user id"`
	Text   string `json:"text"`
	TS     int64  `json:"ts" dc:"when the server took it, unix milliseconds"`
}

// UserMessagePush is a user.send addressed to the receiver's user, on
// every connection of that user.
type UserMessagePush struct {
	g.Meta `push:"user.message" summary:"A message sent to your user"`
	From   string `json:"from" dc:"the sender's user id"`
	Text   string `json:"text"`
	TS     int64  `json:"ts" dc:"when the server took it, unix milliseconds"`
}

// Pushes returns one value of each push struct, for the event contract.
func Pushes() []any {
	return []any{WelcomePush{}, RoomJoinedPush{}, RoomLeftPush{}, RoomMessagePush{}, UserMessagePush{}}
}
