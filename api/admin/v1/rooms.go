package v1

import "github.com/gogf/gf/v2/frame/g"

// RoomReq asks who is in a room.
type RoomReq struct {
	g.Meta `path:"/rooms/{room}" method:"get" tags:"Admin" summary:"List a room's users on every node" security:"BearerAuth"`
	Room   string `json:"room" in:"path" v:"required|regex:^[A-Za-z0-9._:\\-]{1,64}$#room is required|room must be 1 to 64 characters of A-Z a-z 0-9 . _ : -"`
}

// RoomRes lists the room's users.
type RoomRes struct {
	Room  string   `json:"room"`
	Users []string `json:"users"`
}
