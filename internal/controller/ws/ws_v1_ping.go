package ws

import (
	"context"
	"time"

	"github.com/gfws/template-ws/api/ws/v1"
)

func (c *ControllerV1) Ping(ctx context.Context, req *v1.PingReq) (res *v1.PingRes, err error) {
	return &v1.PingRes{Time: time.Now().UnixMilli()}, nil
}
