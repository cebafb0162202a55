package v1

import (
	"github.com/gogf/gf/v2/frame/g"

	_ "github.com/gfws/template-ws/internal/rules" // the room rule
)

// RoomReq asks who is in a room.
type RoomReq struct {
	g.Meta `path:"/rooms/{room}" method:"get" tags:"Admin" summary:"List a room's users on every node" security:"BearerAuth"`
	Room   string `json:"room" in:"path" v:"required|room#room is required"`
}

// RoomRes lists the room's users.
type RoomRes struct {
	Room  string   `json:"room"`
	Users []string `json:"users"`
}
