// Package edge holds what every HTTP request to a node passes through
// besides its route: the listener's bound on request headers, refusals
// and the one-line log of client errors, and the mask that keeps
// credentials out of ghttp's access log.
package edge

import (
	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"
	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gogf/gf/v2/os/glog"
)

// Refuse answers r with status and GoFrame's {"code","message","data"}
// body, logs it like ClientErrors does, and ends the request: no handler,
// middleware or hook after the caller runs. It works in middleware and in
// hooks alike; it sets no request error, which ghttp would log again with
// a stack trace.
func Refuse(r *ghttp.Request, status int, code gcode.Code, message string) {
	r.Response.ClearBuffer()
	r.Response.WriteHeader(status)
	r.Response.WriteJson(ghttp.DefaultHandlerResponse{Code: code.Code(), Message: message})
	logClientError(r, status, code, message)
	r.ExitAll()
}

// ClientErrors is a server-wide middleware. A request that failed with a
// 4xx answer is the client's doing: it is logged on one line at notice
// level and its error is cleared, so ghttp does not log it again at error
// level with a stack trace (one per unauthenticated admin request, say).
// 5xx answers keep ghttp's error log and its stack. It must run outside
// the middleware that sets the status from the error (admin.StatusFromCode).
func ClientErrors(r *ghttp.Request) {
	r.Middleware.Next()
	err := r.GetError()
	if status := r.Response.Status; err != nil && status >= 400 && status < 500 {
		logClientError(r, status, gerror.Code(err), err.Error())
		r.SetError(nil)
	}
}

// logClientError logs the path without its query, which may hold a
// credential, and quotes what the client controls, clipped.
func logClientError(r *ghttp.Request, status int, code gcode.Code, message string) {
	glog.Noticef(r.Context(), "http %d %s %q from %s: code %d %q",
		status, Clip(r.Method, MaxQuoted), Clip(r.URL.Path, MaxQuoted), r.RemoteAddr, code.Code(), message)
}
