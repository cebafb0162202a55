package v1

import (
	"net/http"

	"github.com/gogf/gf/v2/frame/g"
	"github.com/gogf/gf/v2/net/goai"

	_ "github.com/gfws/template-ws/internal/rules" // the room rule
)

// RoomReq asks for one page of a room's users.
type RoomReq struct {
	g.Meta `path:"/rooms/{room}" method:"get" tags:"Admin" summary:"List a room's users on every node, a page at a time" security:"BearerAuth"`
	Room   string `json:"room"  in:"path" v:"required|room#room is required" pattern:"^[A-Za-z0-9._:-]{1,64}$"`
	Limit  int    `json:"limit" in:"query" d:"100" v:"between:1,1000#limit must be 1 to 1000" minimum:"1" maximum:"1000" dc:"users per page"`
	After  string `json:"after" in:"query" v:"max-length:256#after must be a user id" maxLength:"256" dc:"the next value of the previous page"`
}

// RoomRes is one page of the room's users, sorted.
type RoomRes struct {
	Room   string   `json:"room"`
	Count  int      `json:"count" dc:"users in the room"`
	Users  []string `json:"users"`
	Next   string   `json:"next,omitempty" dc:"pass as after for the next page; absent on the last"`
	Offset uint64   `json:"offset" dc:"the room stream's last offset"`
	Epoch  string   `json:"epoch"  dc:"the life of the room's stream; empty while the room has none"`
}

// EnhanceResponseStatus documents the refusals of a room's page, which needs the other nodes.
func (RoomRes) EnhanceResponseStatus() map[goai.EnhancedStatusCode]goai.EnhancedStatusType {
	return refusals(http.StatusServiceUnavailable)
}
