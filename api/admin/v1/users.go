package v1

import "github.com/gogf/gf/v2/frame/g"

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
