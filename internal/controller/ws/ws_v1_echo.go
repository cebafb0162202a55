package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
)

func (c *ControllerV1) Echo(ctx context.Context, req *v1.EchoReq) (res *v1.EchoRes, err error) {
	return &v1.EchoRes{RawMessage: req.RawMessage}, nil
}
