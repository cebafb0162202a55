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
