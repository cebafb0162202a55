package admin

import (
	"context"

	"github.com/gfws/template-ws/api/admin/v1"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) Room(ctx context.Context, req *v1.RoomReq) (res *v1.RoomRes, err error) {
	page, err := service.Hub().RoomMembers(ctx, model.RoomMembersInput{Room: req.Room, Limit: req.Limit, After: req.After})
	if err != nil {
		return nil, err
	}
	position, err := service.Hub().RoomPosition(ctx, req.Room)
	if err != nil {
		return nil, err
	}
	return &v1.RoomRes{
		Room: req.Room, Count: page.Count, Users: page.Users, Next: page.Next,
		Offset: position.Offset, Epoch: position.Epoch,
	}, nil
}
