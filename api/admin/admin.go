// =================================================================================
// Code generated and maintained by GoFrame CLI tool. DO NOT EDIT.
// =================================================================================

package admin

import (
	"context"

	"github.com/gfws/template-ws/api/admin/v1"
)

type IAdminV1 interface {
	Connections(ctx context.Context, req *v1.ConnectionsReq) (res *v1.ConnectionsRes, err error)
	Kick(ctx context.Context, req *v1.KickReq) (res *v1.KickRes, err error)
	Push(ctx context.Context, req *v1.PushReq) (res *v1.PushRes, err error)
	Room(ctx context.Context, req *v1.RoomReq) (res *v1.RoomRes, err error)
	KickUser(ctx context.Context, req *v1.KickUserReq) (res *v1.KickUserRes, err error)
}
