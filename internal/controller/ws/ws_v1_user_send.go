package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/service"
)

func (c *ControllerV1) UserSend(ctx context.Context, req *v1.UserSendReq) (res *v1.UserSendRes, err error) {
	if err := service.Hub().SendToUser(ctx, req.To, req.Text); err != nil {
		return nil, err
	}
	return &v1.UserSendRes{To: req.To}, nil
}
