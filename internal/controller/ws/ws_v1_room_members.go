package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) RoomMembers(ctx context.Context, req *v1.RoomMembersReq) (res *v1.RoomMembersRes, err error) {
	page, err := service.Hub().RoomMembers(ctx, model.RoomMembersInput{Room: req.Room, Limit: req.Limit, After: req.After})
	if err != nil {
		return nil, err
	}
	return &v1.RoomMembersRes{Room: req.Room, Count: page.Count, Users: page.Users, Next: page.Next}, nil
}
