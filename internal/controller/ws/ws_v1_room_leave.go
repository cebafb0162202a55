package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) RoomLeave(ctx context.Context, req *v1.RoomLeaveReq) (res *v1.RoomLeaveRes, err error) {
	if err := service.Hub().LeaveRoom(ctx, req.Room); err != nil {
		return nil, err
	}
	return &v1.RoomLeaveRes{Room: req.Room}, nil
}
