package admin

import (
	"context"

	"github.com/gfws/template-ws/api/admin/v1"
	"github.com/gfws/template-ws/internal/service"
)

// KickReason is the close reason a kicked client sees with 4403.
const KickReason = "kicked"

func (c *ControllerV1) Kick(ctx context.Context, req *v1.KickReq) (res *v1.KickRes, err error) {
	if err := service.Hub().KickConn(ctx, req.ConnID, KickReason); err != nil {
		return nil, err
	}
	return &v1.KickRes{ConnID: req.ConnID}, nil
}
