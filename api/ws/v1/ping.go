package v1

import "github.com/gogf/gf/v2/frame/g"

// PingReq is the application-level heartbeat for clients that cannot send
// ping frames, such as browsers. Any data is accepted and ignored.
type PingReq struct {
	g.Meta `event:"ping" summary:"Application-level heartbeat"`
}

// PingRes carries the server clock.
type PingRes struct {
	Time int64 `json:"time" dc:"server time, unix milliseconds"`
}
