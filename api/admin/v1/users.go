package v1

import (
	"net/http"

	"github.com/gogf/gf/v2/frame/g"
	"github.com/gogf/gf/v2/net/goai"
)

// KickUserReq closes every connection of a user, on every node, with 4403
// kicked.
type KickUserReq struct {
	g.Meta `path:"/users/{user}/connections" method:"delete" tags:"Admin" summary:"Close every connection of a user, on every node, with 4403 kicked" security:"BearerAuth"`
	User   string `json:"user" in:"path" v:"required" dc:"the user id"`
}

// KickUserRes counts this node's closed connections; other nodes close
// theirs through the broker.
type KickUserRes struct {
	User   string `json:"user"`
	Closed int    `json:"closed" dc:"connections closed on this node"`
}

// EnhanceResponseStatus documents the refusals of a user's kick, which needs the other nodes.
func (KickUserRes) EnhanceResponseStatus() map[goai.EnhancedStatusCode]goai.EnhancedStatusType {
	return refusals(http.StatusServiceUnavailable)
}
