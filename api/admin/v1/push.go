package v1

import (
	"net/http"

	"github.com/gogf/gf/v2/frame/g"
	"github.com/gogf/gf/v2/net/goai"
)

// PushReq sends a server push to a user, a room or everyone.
type PushReq struct {
	g.Meta `path:"/push" method:"post" tags:"Admin" summary:"Push an event to a user, a room or every connection" security:"BearerAuth"`
	User   string `json:"user"  dc:"deliver to every connection of this user"`
	Room   string `json:"room"  v:"room" pattern:"^[A-Za-z0-9._:-]{1,64}$" dc:"deliver to every connection in this room"`
	All    bool   `json:"all"   dc:"deliver to every connection"`
	Event  string `json:"event" v:"required|length:1,128#event is required|event must be at most 128 characters" dc:"the push's event name"`
	Data   any    `json:"data"  dc:"the push's data, any JSON"`
}

// PushRes counts this node's deliveries; other nodes deliver through the
// broker.
type PushRes struct {
	Delivered int `json:"delivered" dc:"connections on this node that got the push"`
}

// EnhanceResponseStatus documents the refusals of a push: a body that is
// not JSON, and a delivery the other nodes could not be handed.
func (PushRes) EnhanceResponseStatus() map[goai.EnhancedStatusCode]goai.EnhancedStatusType {
	return refusals(http.StatusUnsupportedMediaType, http.StatusServiceUnavailable)
}
