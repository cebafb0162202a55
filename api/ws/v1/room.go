package v1

import (
	"github.com/gogf/gf/v2/frame/g"

	_ "github.com/gfws/template-ws/internal/rules" // the room rule
)

// RoomJoinReq joins the connection to a room; a client coming back gives
// the stream position it left off at.
type RoomJoinReq struct {
	g.Meta `event:"room.join" summary:"Join a room"`
	Room   string       `json:"room"  v:"required|room#room is required"`
	Since  *StreamSince `json:"since" dc:"the last offset and epoch received in this room; the messages after it are replayed before the reply"`
}

// StreamSince is where a client's copy of a room's stream ends.
type StreamSince struct {
	Offset uint64 `json:"offset" dc:"offset of the last message received"`
	Epoch  string `json:"epoch"  v:"max-length:64#since.epoch must be an epoch a join reply gave" dc:"the epoch the join reply gave"`
}

// RoomJoinRes reports the room's size after joining and the stream
// position its live messages follow.
type RoomJoinRes struct {
	Room      string `json:"room"`
	Members   int    `json:"members" dc:"users in the room, on every node"`
	Offset    uint64 `json:"offset"  dc:"the room's last offset; live messages follow it"`
	Epoch     string `json:"epoch"   dc:"the life of the room's stream; a new one means the history was lost"`
	Recovered *bool  `json:"recovered,omitempty" dc:"with since: true when every missed message was replayed before this reply"`
	Local     bool   `json:"local,omitempty" dc:"true when members counts only this node's users: the other nodes are out of reach"`
}

// RoomLeaveReq takes the connection out of a room.
type RoomLeaveReq struct {
	g.Meta `event:"room.leave" summary:"Leave a room"`
	Room   string `json:"room" v:"required|room#room is required"`
}

// RoomLeaveRes names the room left.
type RoomLeaveRes struct {
	Room string `json:"room"`
}

// RoomSendReq sends text to every connection in a room the sender is in.
type RoomSendReq struct {
	g.Meta `event:"room.send" summary:"Send a message to a room"`
	Room   string `json:"room" v:"required|room#room is required"`
	Text   string `json:"text" v:"required|length:1,4096#text is required|text must be 1 to 4096 characters"`
}

// RoomSendRes names the room sent to and the message's offset.
type RoomSendRes struct {
	Room   string `json:"room"`
	Offset uint64 `json:"offset,omitempty" dc:"the message's offset in the room's stream"`
	Local  bool   `json:"local,omitempty" dc:"true when only this node's members got it: the other nodes are out of reach"`
}

// RoomMembersReq asks for one page of a room's users.
type RoomMembersReq struct {
	g.Meta `event:"room.members" summary:"List a room's users, a page at a time"`
	Room   string `json:"room"  v:"required|room#room is required"`
	Limit  int    `json:"limit" d:"100" v:"between:1,1000#limit must be 1 to 1000" dc:"users per page"`
	After  string `json:"after" v:"max-length:256#after must be a user id" dc:"the next value of the previous page"`
}

// RoomMembersRes is one page of the room's users on every node, sorted.
type RoomMembersRes struct {
	Room  string   `json:"room"`
	Count int      `json:"count" dc:"users in the room"`
	Users []string `json:"users"`
	Next  string   `json:"next,omitempty" dc:"pass as after for the next page; absent on the last"`
}
