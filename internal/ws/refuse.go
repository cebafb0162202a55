package ws

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/net/ghttp"

	"github.com/gfws/template-ws/internal/edge"
)

// NginxConfigHint is the shipped file that shows a working WebSocket proxy.
const NginxConfigHint = "manifest/deploy/nginx/template-ws.conf"

// NginxFastCGIHint is the shipped file that splits /ws from FastCGI routes.
const NginxFastCGIHint = "manifest/deploy/nginx/template-ws-fastcgi.conf"

// proxyFix is appended to the 426 message when the request shows signs of
// having come through a proxy, because a proxy dropping the hop-by-hop
// Upgrade and Connection headers is by far the most common cause.
const proxyFix = " The request came through a proxy, which most likely dropped these hop-by-hop headers." +
	" In nginx, the location that proxies this path needs:" +
	" proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade;" +
	" proxy_set_header Connection $connection_upgrade;" +
	" (with the map $http_upgrade $connection_upgrade block); see " + NginxConfigHint + "."

// writeRefusal answers a handshake that will not be upgraded with a plain
// HTTP response in GoFrame's {"code","message","data"} shape.
func writeRefusal(w http.ResponseWriter, status int, code gcode.Code, message string, header http.Header) {
	for name, values := range header {
		w.Header()[name] = values
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(refusalBody(code, message))
}

// refusalBody is a refusal's body, in GoFrame's {"code","message","data"}
// shape.
func refusalBody(code gcode.Code, message string) []byte {
	body, _ := json.Marshal(ghttp.DefaultHandlerResponse{Code: code.Code(), Message: message})
	return body
}

// earlyDataRefusal answers, as a plain 400, a handshake whose client sent
// frames before the 101.
var earlyDataRefusal = func() []byte {
	body := refusalBody(gcode.CodeInvalidRequest,
		"the client sent data behind its handshake: a WebSocket client must wait for the 101 response before it sends frames (RFC 6455, 4.1)")
	return []byte("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))
}()

// missingUpgradeHeaders names the handshake headers the request lacks, or
// returns "".
func missingUpgradeHeaders(r *http.Request) string {
	var missing []string
	if !headerHasToken(r.Header, "Upgrade", "websocket") {
		missing = append(missing, "Upgrade: websocket")
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") {
		missing = append(missing, "Connection: Upgrade")
	}
	return strings.Join(missing, " and ")
}

// upgradeRequiredMessage explains a 426 in words a person can act on.
func upgradeRequiredMessage(r *http.Request, missing string) string {
	msg := "This is a WebSocket endpoint and the request lacks the header " + missing +
		". Connect with a WebSocket client (for example new WebSocket(\"ws://" + edge.Clip(r.Host+r.URL.Path, edge.MaxQuoted) +
		"\") in a browser), not a plain HTTP request."
	// Only a handshake can have lost its hop-by-hop headers on the way:
	// every WebSocket client sends Sec-WebSocket-Key, which proxies pass on.
	if cameThroughProxy(r) && r.Header.Get("Sec-WebSocket-Key") != "" {
		msg += proxyFix
	}
	return msg
}

// cameThroughProxy reports whether the request carries the marks a reverse
// proxy leaves. An HTTP/1.0 request with a WebSocket key is nginx's default
// upstream protocol: no browser sends that.
func cameThroughProxy(r *http.Request) bool {
	for _, h := range []string{"X-Forwarded-For", "X-Real-Ip", "Forwarded", "Via"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return r.ProtoMajor == 1 && r.ProtoMinor == 0 && r.Header.Get("Sec-WebSocket-Key") != ""
}

// headerHasToken reports whether the comma-separated header name contains
// token, compared case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, value := range h.Values(name) {
		for part := range strings.SplitSeq(value, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
