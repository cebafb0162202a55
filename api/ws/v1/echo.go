package v1

import (
	"encoding/json"

	"github.com/gogf/gf/v2/frame/g"
)

// EchoReq takes any JSON value as its data; the embedded RawMessage keeps
// it exactly as sent.
type EchoReq struct {
	g.Meta `event:"echo" summary:"Reply with the data that was sent"`
	json.RawMessage
}

// EchoRes is the same JSON value, written back verbatim.
type EchoRes struct {
	json.RawMessage
}
