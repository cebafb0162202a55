package v1

import (
	"net/http"

	"github.com/gogf/gf/v2/frame/g"
	"github.com/gogf/gf/v2/net/goai"
)

// Refusal is an answer without data: its code and message say why, and
// its HTTP status matches the code.
type Refusal struct {
	Code    int    `json:"code"    dc:"the GoFrame error code (gcode)"`
	Message string `json:"message" dc:"why, in words a person can act on"`
	Data    any    `json:"data"    dc:"null"`
}

// The refusals an admin request may get, one type per HTTP status so that
// each carries its own description in /api.json.
type (
	BadRequest struct {
		g.Meta `description:"code 51: a parameter does not fit its rule (the message names it); code 66: a request the API cannot read"`
		Refusal
	}
	Unauthorized struct {
		g.Meta `description:"code 61: a missing or wrong admin token, or, with admin.token empty, a request that is not a direct one from the node's machine"`
		Refusal
	}
	Forbidden struct {
		g.Meta `description:"code 62: a request a browser sent from another site"`
		Refusal
	}
	NotFound struct {
		g.Meta `description:"code 65: no such connection (a single node: in a cluster the kick goes to the other nodes, which may hold it)"`
		Refusal
	}
	UnsupportedMediaType struct {
		g.Meta `description:"code 66: a body that is not JSON (Content-Type: application/json)"`
		Refusal
	}
	Unavailable struct {
		g.Meta `description:"code 63: the other nodes cannot be reached right now; the message says what was done on this node"`
		Refusal
	}
	InternalError struct {
		g.Meta `description:"code 50: the node failed; its log has the cause"`
		Refusal
	}
)

// refusals documents the refusals every admin request may get, and those
// of the statuses given.
func refusals(statuses ...int) map[goai.EnhancedStatusCode]goai.EnhancedStatusType {
	answers := map[goai.EnhancedStatusCode]goai.EnhancedStatusType{
		http.StatusBadRequest:          {Response: BadRequest{}},
		http.StatusUnauthorized:        {Response: Unauthorized{}},
		http.StatusForbidden:           {Response: Forbidden{}},
		http.StatusInternalServerError: {Response: InternalError{}},
	}
	for _, status := range statuses {
		switch status {
		case http.StatusNotFound:
			answers[status] = goai.EnhancedStatusType{Response: NotFound{}}
		case http.StatusUnsupportedMediaType:
			answers[status] = goai.EnhancedStatusType{Response: UnsupportedMediaType{}}
		case http.StatusServiceUnavailable:
			answers[status] = goai.EnhancedStatusType{Response: Unavailable{}}
		}
	}
	return answers
}
