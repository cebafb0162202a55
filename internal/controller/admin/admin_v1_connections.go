package admin

import (
	"context"

	"github.com/gfws/template-ws/api/admin/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) Connections(ctx context.Context, req *v1.ConnectionsReq) (res *v1.ConnectionsRes, err error) {
	return &v1.ConnectionsRes{List: service.Hub().Connections(req.User)}, nil
}
