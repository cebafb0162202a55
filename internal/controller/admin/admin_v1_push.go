package admin

import (
	"context"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"

	"github.com/gfws/template-ws/api/admin/v1"
	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) Push(ctx context.Context, req *v1.PushReq) (res *v1.PushRes, err error) {
	var kind broker.Kind
	var target string
	targets := 0
	if req.User != "" {
		kind, target, targets = broker.ToUser, req.User, targets+1
	}
	if req.Room != "" {
		kind, target, targets = broker.ToRoom, req.Room, targets+1
	}
	if req.All {
		kind, targets = broker.ToAll, targets+1
	}
	if targets != 1 {
		return nil, gerror.NewCode(gcode.CodeValidationFailed,
			`name exactly one target: "user": "<id>", "room": "<name>" or "all": true`)
	}
	delivered, err := service.Hub().Push(ctx, kind, target, req.Event, req.Data)
	if err != nil && delivered == 0 {
		return nil, err
	}
	return &v1.PushRes{Delivered: delivered}, nil
}
