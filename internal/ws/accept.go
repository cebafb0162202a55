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
)

// Refusal reasons, as counted by Hooks.OnRefuse and logged.
const (
	RefusedMethod     = "method"
	RefusedNoUpgrade  = "no_upgrade"
	RefusedVersion    = "version"
	RefusedKey        = "key"
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
	return []string{RefusedMethod, RefusedNoUpgrade, RefusedVersion, RefusedKey, RefusedNoHijack,
		RefusedOrigin, RefusedAuth, RefusedCapacity, RefusedDraining, RefusedHandshake}
}

// Handle is the ghttp handler of the WebSocket route. It checks everything
// that can be checked before the upgrade, so that each refusal is a plain
// HTTP answer saying what to change, then upgrades through
// r.Response.Writer: that writer records the hijack, so ghttp writes nothing
// to the socket afterwards.
func (s *Server) Handle(r *ghttp.Request) {
	req := r.Request
	refuse := func(reason string, status int, code gcode.Code, message string, header http.Header) {
		s.refused(r, reason, message)
		writeRefusal(r.Response.BufferWriter, status, code, message, header)
	}
	if req.Method != http.MethodGet {
		refuse(RefusedMethod, http.StatusMethodNotAllowed, gcode.CodeInvalidRequest,
			"the WebSocket endpoint accepts only GET; got "+req.Method, http.Header{"Allow": {"GET"}})
		return
	}
	if missing := missingUpgradeHeaders(req); missing != "" {
		refuse(RefusedNoUpgrade, http.StatusUpgradeRequired, gcode.CodeInvalidRequest,
			upgradeRequiredMessage(req, missing), http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}})
		return
	}
	if v := req.Header.Get("Sec-WebSocket-Version"); v != "13" {
		refuse(RefusedVersion, http.StatusBadRequest, gcode.CodeInvalidRequest,
			"unsupported Sec-WebSocket-Version "+strconv.Quote(clip(v, maxQuoted))+": this server speaks RFC 6455, version 13",
			http.Header{"Sec-WebSocket-Version": {"13"}})
		return
	}
	if !validKey(req.Header.Get("Sec-WebSocket-Key")) {
		refuse(RefusedKey, http.StatusBadRequest, gcode.CodeInvalidRequest,
			"missing or malformed Sec-WebSocket-Key: it must be 16 random bytes in base64", nil)
		return
	}
	if _, ok := r.Response.Writer.ResponseWriter.(http.Hijacker); !ok || req.ProtoMajor != 1 {
		refuse(RefusedNoHijack, http.StatusInternalServerError, gcode.CodeNotSupported,
			"this connection cannot be upgraded: it arrived over "+describeTransport(req)+
				", which cannot hand over the socket. The WebSocket route must be reached over plain HTTP/1.1;"+
				" see "+NginxFastCGIHint+" for routing "+clip(req.URL.Path, maxQuoted)+" to the HTTP address", nil)
		return
	}
	if !s.originAllowed(req) {
		refuse(RefusedOrigin, http.StatusForbidden, gcode.CodeSecurityReason, s.originRefusal(req), nil)
		return
	}
	who, err := s.authenticate(req)
	if err != nil {
		refuse(RefusedAuth, http.StatusUnauthorized, gcode.CodeNotAuthorized, err.Error(), nil)
		return
	}

	c := newConn(s, r, who)
	if full := s.reserve(c); full != nil {
		reason, header := RefusedCapacity, http.Header(nil)
		if full.status == http.StatusServiceUnavailable {
			header = http.Header{"Retry-After": {strconv.Itoa(retryAfterSeconds)}}
			if s.Draining() {
				reason = RefusedDraining
			}
		}
		refuse(reason, full.status, gcode.CodeServerBusy, full.message, header)
		return
	}
	hijacker := &socketHijacker{ResponseWriter: r.Response.Writer, hijacker: r.Response.Writer, writeTimeout: s.cfg.WriteTimeout}
	reader, err := s.upgrader.Upgrade(hijacker, req, nil)
	if err != nil {
		// gorilla has already answered through upgrader.Error.
		s.release(c)
		s.refused(r, RefusedHandshake, err.Error())
		return
	}
	c.attach(reader, hijacker.sock)
	draining := s.register(c)
	c.start()
	if draining {
		c.Close(websocket.CloseGoingAway, ShutdownReason)
	}
}

// refused logs a refusal at notice level: refusals are the first thing to
// look for when clients cannot connect, but they are not server faults.
func (s *Server) refused(r *ghttp.Request, reason, message string) {
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
