package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) RoomJoin(ctx context.Context, req *v1.RoomJoinReq) (res *v1.RoomJoinRes, err error) {
	joined, err := service.Hub().JoinRoom(ctx, req.Room)
	if err != nil {
		return nil, err
	}
	return &v1.RoomJoinRes{Room: req.Room, Members: joined.Members, Local: joined.Local}, nil
}
