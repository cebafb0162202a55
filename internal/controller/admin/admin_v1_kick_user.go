package admin

import (
	"context"

	"github.com/gfws/template-ws/api/admin/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) KickUser(ctx context.Context, req *v1.KickUserReq) (res *v1.KickUserRes, err error) {
	closed, err := service.Hub().KickUser(ctx, req.User, KickReason)
	if err != nil {
		return nil, err
	}
	return &v1.KickUserRes{User: req.User, Closed: closed}, nil
}
