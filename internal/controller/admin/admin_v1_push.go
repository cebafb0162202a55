package admin

import (
	"context"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"

	"github.com/gfws/template-ws/api/admin/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) Push(ctx context.Context, req *v1.PushReq) (res *v1.PushRes, err error) {
	if serverEvents[req.Event] {
		return nil, gerror.NewCodef(gcode.CodeValidationFailed,
			"event %q is one the server sends itself, with its own data (see /asyncapi.json): push an event name of your own", req.Event)
	}
	var delivered int
	switch {
	case req.User != "" && req.Room == "" && !req.All:
		delivered, err = service.Hub().PushToUser(ctx, req.User, req.Event, req.Data)
	case req.Room != "" && req.User == "" && !req.All:
		delivered, err = service.Hub().PushToRoom(ctx, req.Room, req.Event, req.Data)
	case req.All && req.User == "" && req.Room == "":
		delivered, err = service.Hub().PushToAll(ctx, req.Event, req.Data)
	default:
		return nil, gerror.NewCode(gcode.CodeValidationFailed,
			`name exactly one target: "user": "<id>", "room": "<name>" or "all": true`)
	}
	// Delivered here while the other nodes are out of reach still counts.
	if err != nil && delivered == 0 {
		return nil, err
	}
	return &v1.PushRes{Delivered: delivered}, nil
}
