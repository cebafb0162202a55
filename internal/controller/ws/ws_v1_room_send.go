package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) RoomSend(ctx context.Context, req *v1.RoomSendReq) (res *v1.RoomSendRes, err error) {
	sent, err := service.Hub().SendToRoom(ctx, req.Room, req.Text)
	if err != nil {
		return nil, err
	}
	return &v1.RoomSendRes{Room: req.Room, Offset: sent.Offset, Local: sent.Local}, nil
}
