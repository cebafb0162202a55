// =================================================================================
// Code generated and maintained by GoFrame CLI tool. DO NOT EDIT.
// =================================================================================

package ws

import (
	"context"

	"github.com/gfws/template-ws/api/ws/v1"
)

type IWsV1 interface {
	Echo(ctx context.Context, req *v1.EchoReq) (res *v1.EchoRes, err error)
	Ping(ctx context.Context, req *v1.PingReq) (res *v1.PingRes, err error)
}
