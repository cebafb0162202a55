package admin

import (
	"context"

	"github.com/gfws/template-ws/api/admin/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) Room(ctx context.Context, req *v1.RoomReq) (res *v1.RoomRes, err error) {
	users, err := service.Hub().RoomMembers(ctx, req.Room)
	if err != nil {
		return nil, err
	}
	return &v1.RoomRes{Room: req.Room, Users: users}, nil
}
