package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) RoomMembers(ctx context.Context, req *v1.RoomMembersReq) (res *v1.RoomMembersRes, err error) {
	users, err := service.Hub().RoomMembers(ctx, req.Room)
	if err != nil {
		return nil, err
	}
	return &v1.RoomMembersRes{Room: req.Room, Users: users}, nil
}
