package ws

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gogf/gf/v2/os/glog"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/edge"
)

// Refusal reasons, as counted by Hooks.OnRefuse and logged.
const (
	RefusedMethod     = "method"
	RefusedNoUpgrade  = "no_upgrade"
	RefusedVersion    = "version"
	RefusedKey        = "key"
	RefusedBody       = "body"
	RefusedNoHijack   = "no_hijack"
	RefusedOrigin     = "origin"
	RefusedAuth       = "auth"
	RefusedCapacity   = "capacity"
	RefusedDraining   = "draining"
	RefusedHandshake  = "handshake"
	retryAfterSeconds = 5
)

// RefusalReasons lists every reason Hooks.OnRefuse can be called with, so
// that metrics can show each at zero before it first happens.
func RefusalReasons() []string {
	return []string{RefusedMethod, RefusedNoUpgrade, RefusedVersion, RefusedKey, RefusedBody, RefusedNoHijack,
		RefusedOrigin, RefusedAuth, RefusedCapacity, RefusedDraining, RefusedHandshake}
}

// refusal is a handshake answered with a plain HTTP error instead of an
// upgrade: what the client is told, and the reason metrics count.
type refusal struct {
	reason  string // one of the Refused* reasons
	status  int
	code    gcode.Code
	message string
	header  http.Header
}

// Handle is the ghttp handler of the WebSocket route. It checks everything
// that can be checked before the upgrade, so that each refusal is a plain
// HTTP answer saying what to change, then upgrades through
// r.Response.Writer: that writer records the hijack, so ghttp writes nothing
// to the socket afterwards.
func (s *Server) Handle(r *ghttp.Request) {
	_, hijackable := r.Response.Writer.ResponseWriter.(http.Hijacker)
	who, refused := s.check(r.Request, hijackable)
	if refused == nil {
		s.upgrade(r, who)
		return
	}
	s.refuse(r, refused)
}

// check runs the handshake's checks in order, without side effects, and
// returns who the request authenticates as, or the first refusal.
func (s *Server) check(req *http.Request, hijackable bool) (identity, *refusal) {
	if req.Method != http.MethodGet {
		return identity{}, &refusal{RefusedMethod, http.StatusMethodNotAllowed, gcode.CodeInvalidRequest,
			"the WebSocket endpoint accepts only GET; got " + edge.Clip(req.Method, edge.MaxQuoted), http.Header{"Allow": {"GET"}}}
	}
	if missing := missingUpgradeHeaders(req); missing != "" {
		return identity{}, &refusal{RefusedNoUpgrade, http.StatusUpgradeRequired, gcode.CodeInvalidRequest,
			upgradeRequiredMessage(req, missing), http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}}
	}
	if v := req.Header.Get("Sec-WebSocket-Version"); v != "13" {
		return identity{}, &refusal{RefusedVersion, http.StatusBadRequest, gcode.CodeInvalidRequest,
			"unsupported Sec-WebSocket-Version " + strconv.Quote(edge.Clip(v, edge.MaxQuoted)) + ": this server speaks RFC 6455, version 13",
			http.Header{"Sec-WebSocket-Version": {"13"}}}
	}
	if !validKey(req.Header.Get("Sec-WebSocket-Key")) {
		return identity{}, &refusal{RefusedKey, http.StatusBadRequest, gcode.CodeInvalidRequest,
			"missing or malformed Sec-WebSocket-Key: it must be 16 random bytes in base64", nil}
	}
	// What follows the handshake on the socket is frames: a body would be
	// read as the first of them.
	if req.ContentLength != 0 || len(req.TransferEncoding) > 0 {
		return identity{}, &refusal{RefusedBody, http.StatusBadRequest, gcode.CodeInvalidRequest,
			"a WebSocket handshake has no body: send the GET without Content-Length or Transfer-Encoding", nil}
	}
	if !hijackable || req.ProtoMajor != 1 {
		return identity{}, &refusal{RefusedNoHijack, http.StatusInternalServerError, gcode.CodeNotSupported,
			"this connection cannot be upgraded: it arrived over " + describeTransport(req) +
				", which cannot hand over the socket. The WebSocket route must be reached over plain HTTP/1.1;" +
				" see " + NginxFastCGIHint + " for routing " + edge.Clip(req.URL.Path, edge.MaxQuoted) + " to the HTTP address", nil}
	}
	if !s.originAllowed(req) {
		return identity{}, &refusal{RefusedOrigin, http.StatusForbidden, gcode.CodeSecurityReason, s.originRefusal(req), nil}
	}
	who, err := s.authenticate(req)
	if err != nil {
		return identity{}, &refusal{RefusedAuth, http.StatusUnauthorized, gcode.CodeNotAuthorized, err.Error(), nil}
	}
	return who, nil
}

// upgrade takes a slot under the connection caps, upgrades, and starts
// the connection.
func (s *Server) upgrade(r *ghttp.Request, who identity) {
	c := newConn(s, r, who)
	if full := s.reserve(c); full != nil {
		s.refuse(r, full)
		return
	}
	hijacker := &socketHijacker{ResponseWriter: r.Response.Writer, hijacker: r.Response.Writer, writeTimeout: s.cfg.WriteTimeout}
	reader, err := s.upgrader.Upgrade(hijacker, r.Request, nil)
	if err != nil {
		// gorilla has already answered through upgrader.Error.
		s.release(c)
		s.logRefusal(r, RefusedHandshake, err.Error())
		return
	}
	c.attach(reader, hijacker.sock)
	draining := s.register(c)
	c.start()
	if draining {
		c.Close(websocket.CloseGoingAway, ShutdownReason)
	}
}

// refuse answers the handshake with refused.
func (s *Server) refuse(r *ghttp.Request, refused *refusal) {
	s.logRefusal(r, refused.reason, refused.message)
	writeRefusal(r.Response.BufferWriter, refused.status, refused.code, refused.message, refused.header)
}

// logRefusal counts and logs a refusal at notice level: refusals are the
// first thing to look for when clients cannot connect, but they are not
// server faults.
func (s *Server) logRefusal(r *ghttp.Request, reason, message string) {
	if s.hooks.OnRefuse != nil {
		s.hooks.OnRefuse(reason)
	}
	glog.Noticef(r.Context(), "ws handshake refused reason=%s remote=%q message=%q", reason, s.clientIP(r.Request), message)
}

func validKey(key string) bool {
	decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(key))
	return err == nil && len(decoded) == 16
}

func describeTransport(r *http.Request) string {
	if r.ProtoMajor >= 2 {
		return r.Proto
	}
	return "a gateway such as FastCGI"
}
