package v1

import (
	"github.com/gogf/gf/v2/frame/g"

	_ "github.com/gfws/template-ws/internal/rules" // the room rule
)

// RoomJoinReq joins the connection to a room.
type RoomJoinReq struct {
	g.Meta `event:"room.join" summary:"Join a room"`
	Room   string `json:"room" v:"required|room#room is required"`
}

// RoomJoinRes reports the room's size after joining.
type RoomJoinRes struct {
	Room    string `json:"room"`
	Members int    `json:"members" dc:"users in the room, on every node"`
	Local   bool   `json:"local,omitempty" dc:"true when members counts only this node's users: the other nodes are out of reach"`
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

// RoomSendRes names the room sent to.
type RoomSendRes struct {
	Room string `json:"room"`
}

// RoomMembersReq asks who is in a room.
type RoomMembersReq struct {
	g.Meta `event:"room.members" summary:"List a room's users"`
	Room   string `json:"room" v:"required|room#room is required"`
}

// RoomMembersRes lists the room's users on every node.
type RoomMembersRes struct {
	Room  string   `json:"room"`
	Users []string `json:"users"`
}
