// =================================================================================
// Code generated and maintained by GoFrame CLI tool. DO NOT EDIT.
// =================================================================================

package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
)

type IWsV1 interface {
	Echo(ctx context.Context, req *v1.EchoReq) (res *v1.EchoRes, err error)
	Ping(ctx context.Context, req *v1.PingReq) (res *v1.PingRes, err error)
	RoomJoin(ctx context.Context, req *v1.RoomJoinReq) (res *v1.RoomJoinRes, err error)
	RoomLeave(ctx context.Context, req *v1.RoomLeaveReq) (res *v1.RoomLeaveRes, err error)
	RoomSend(ctx context.Context, req *v1.RoomSendReq) (res *v1.RoomSendRes, err error)
	RoomMembers(ctx context.Context, req *v1.RoomMembersReq) (res *v1.RoomMembersRes, err error)
	UserSend(ctx context.Context, req *v1.UserSendReq) (res *v1.UserSendRes, err error)
}
