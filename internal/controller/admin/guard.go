package admin

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"
	"github.com/gogf/gf/v2/net/ghttp"
)

// Guard admits requests with `Authorization: Bearer <token>`. With token
// empty it admits only requests whose socket peer is loopback, so a fresh
// install is not open to the network; X-Forwarded-For is not consulted.
func Guard(token string) ghttp.HandlerFunc {
	return func(r *ghttp.Request) {
		if token == "" {
			if !loopbackPeer(r.Request) {
				r.SetError(gerror.NewCode(gcode.CodeNotAuthorized,
					"the admin API answers only loopback clients while admin.token is empty; set admin.token and send Authorization: Bearer <token>"))
				return
			}
			r.Middleware.Next()
			return
		}
		scheme, given, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(given)), []byte(token)) != 1 {
			r.SetError(gerror.NewCode(gcode.CodeNotAuthorized, "missing or wrong admin token: send Authorization: Bearer <admin.token>"))
			return
		}
		r.Middleware.Next()
	}
}

func loopbackPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// StatusFromCode gives an API error the HTTP status that matches its code,
// so that clients and proxies see a 401 as a 401 and not a 200 with a code
// inside. It runs outside ghttp.MiddlewareHandlerResponse.
func StatusFromCode(r *ghttp.Request) {
	r.Middleware.Next()
	err := r.GetError()
	if err == nil {
		return
	}
	status := http.StatusInternalServerError
	switch gerror.Code(err) {
	case gcode.CodeNotAuthorized:
		status = http.StatusUnauthorized
	case gcode.CodeValidationFailed, gcode.CodeInvalidParameter, gcode.CodeMissingParameter, gcode.CodeInvalidRequest:
		status = http.StatusBadRequest
	case gcode.CodeNotFound:
		status = http.StatusNotFound
	case gcode.CodeServerBusy:
		status = http.StatusServiceUnavailable
	}
	r.Response.WriteHeader(status)
}
