package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) RoomJoin(ctx context.Context, req *v1.RoomJoinReq) (res *v1.RoomJoinRes, err error) {
	in := model.RoomJoinInput{Room: req.Room}
	if req.Since != nil {
		in.Since = &model.StreamPosition{Offset: req.Since.Offset, Epoch: req.Since.Epoch}
	}
	joined, err := service.Hub().JoinRoom(ctx, in)
	if err != nil {
		return nil, err
	}
	return &v1.RoomJoinRes{
		Room: req.Room, Members: joined.Members, Local: joined.Local,
		Offset: joined.Offset, Epoch: joined.Epoch, Recovered: joined.Recovered,
	}, nil
}
