package admin

import (
	"context"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"

	"github.com/gfws/template-ws/api/admin/v1"
	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/service"
)

// KickReason is the close reason a kicked client sees with 4403.
const KickReason = "kicked"

func (c *ControllerV1) Kick(ctx context.Context, req *v1.KickReq) (res *v1.KickRes, err error) {
	closed, err := service.Hub().Kick(ctx, broker.KickConn, req.ConnID, KickReason)
	if closed > 0 {
		return &v1.KickRes{ConnID: req.ConnID}, nil
	}
	if err != nil {
		return nil, err
	}
	// In a cluster the connection may live on another node, which the
	// broker has told; alone, nobody has it.
	if _, alone := service.Hub().Broker().(*broker.Memory); alone {
		return nil, gerror.NewCodef(gcode.CodeNotFound, "no connection %q on this node", req.ConnID)
	}
	return &v1.KickRes{ConnID: req.ConnID}, nil
}
