package v1

import (
	"net/http"

	"github.com/gogf/gf/v2/frame/g"
	"github.com/gogf/gf/v2/net/goai"

	"github.com/gfws/template-ws/internal/model"
)

// ConnectionsReq lists this node's connections.
type ConnectionsReq struct {
	g.Meta `path:"/connections" method:"get" tags:"Admin" summary:"List this node's connections" security:"BearerAuth"`
	User   string `json:"user" in:"query" dc:"only this user's connections"`
}

// ConnectionsRes is the list, oldest first.
type ConnectionsRes struct {
	List []model.Connection `json:"list"`
}

// KickReq closes a connection with 4403 kicked.
type KickReq struct {
	g.Meta `path:"/connections/{connId}" method:"delete" tags:"Admin" summary:"Close a connection with 4403 kicked" security:"BearerAuth"`
	ConnID string `json:"connId" in:"path" v:"required" dc:"the connection id from the welcome message or the list"`
}

// KickRes names the closed connection.
type KickRes struct {
	ConnID string `json:"connId"`
}

// EnhanceResponseStatus documents the refusals of the list of this node's connections.
func (ConnectionsRes) EnhanceResponseStatus() map[goai.EnhancedStatusCode]goai.EnhancedStatusType {
	return refusals()
}

// EnhanceResponseStatus documents the refusals of a connection's kick: a
// single node has no such connection, or the other nodes, which may hold
// it, cannot be reached.
func (KickRes) EnhanceResponseStatus() map[goai.EnhancedStatusCode]goai.EnhancedStatusType {
	return refusals(http.StatusNotFound, http.StatusServiceUnavailable)
}
