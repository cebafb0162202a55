package admin

import (
	"crypto/subtle"
	"mime"
	"net"
	"net/http"
	"net/http/fcgi"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"
	"github.com/gogf/gf/v2/net/ghttp"

	"github.com/gfws/template-ws/internal/edge"
)

// forwardingHeaders are the headers a reverse proxy adds; any of them, even
// empty, marks a request as proxied.
var forwardingHeaders = []string{"X-Forwarded-For", "X-Real-IP", "Forwarded", "Via", "X-Forwarded-Host", "X-Forwarded-Proto"}

// Guard is the admin API's middleware. With token set, a request needs
// `Authorization: Bearer <token>`, from anywhere. With token empty, only a
// direct request from this machine passes: its socket peer is loopback, it
// shows no mark of a proxy (see proxyMark; behind a proxy on the same
// machine every peer is loopback), and it is addressed to localhost or a
// loopback IP (a web page can point a name of its own at 127.0.0.1). Either
// way a browser's request from another site is refused, and so is a body
// that is not JSON: a page can send a text/plain POST to any address
// without a CORS preflight.
func Guard(token string) ghttp.HandlerFunc {
	return func(r *ghttp.Request) {
		req := r.Request
		if refusal := authorize(req, token); refusal != "" {
			edge.Refuse(r, http.StatusUnauthorized, gcode.CodeNotAuthorized, refusal)
			return
		}
		if site := crossSite(req); site != "" {
			edge.Refuse(r, http.StatusForbidden, gcode.CodeSecurityReason,
				"the admin API refuses requests a browser sends from another site ("+site+
					"): call it from a server or a command line, not from a web page")
			return
		}
		if contentType, ok := jsonBody(req); !ok {
			edge.Refuse(r, http.StatusUnsupportedMediaType, gcode.CodeInvalidRequest,
				"the admin API takes only JSON request bodies: send Content-Type: application/json (got "+
					quoteOrNone(contentType)+")")
			return
		}
		r.Middleware.Next()
	}
}

// OpsGuard is the before-serve hook of /api.json, /swagger and /metrics.
// They answer direct requests without auth, as a scraper or a developer on
// the node's address expects; a request that came through a proxy needs the
// admin token, so the proxy does not publish them.
func OpsGuard(token string) ghttp.HandlerFunc {
	return func(r *ghttp.Request) {
		mark := proxyMark(r.Request)
		if mark == "" || (token != "" && bearerMatches(r.Request, token)) {
			return
		}
		edge.Refuse(r, http.StatusUnauthorized, gcode.CodeNotAuthorized,
			"this request came through a proxy ("+mark+"): "+edge.Clip(r.URL.Path, edge.MaxQuoted)+
				" answers proxied requests only with Authorization: Bearer <admin.token>"+setTokenHint(token))
	}
}

// DebugGuard is the before-serve hook of GoFrame's pprof. Profiles,
// goroutine dumps and the command line are for an operator on the
// machine, so they are guarded as the admin API is, Host check and all
// (a web page can point a name of its own at 127.0.0.1), not only
// against proxies as the documents and /metrics are.
func DebugGuard(token string) ghttp.HandlerFunc {
	return func(r *ghttp.Request) {
		if refusal := authorize(r.Request, token); refusal != "" {
			edge.Refuse(r, http.StatusUnauthorized, gcode.CodeNotAuthorized, refusal)
			return
		}
		if site := crossSite(r.Request); site != "" {
			edge.Refuse(r, http.StatusForbidden, gcode.CodeSecurityReason,
				edge.Clip(r.URL.Path, edge.MaxQuoted)+" refuses requests a browser sends from another site ("+site+"): open it from this machine")
		}
	}
}

// authorize returns why r may not use the admin API or pprof, or "".
func authorize(r *http.Request, token string) string {
	if token != "" {
		if !bearerMatches(r, token) {
			return "missing or wrong admin token: send Authorization: Bearer <admin.token>"
		}
		return ""
	}
	const withoutToken = "while admin.token is empty the admin API and pprof answer only direct requests from this machine"
	const fix = ": set admin.token in the node's configuration and send Authorization: Bearer <admin.token>"
	if mark := proxyMark(r); mark != "" {
		return withoutToken + ", and this one came through a proxy (" + mark + ")" + fix
	}
	if peer := edge.PeerAddr(r); !peer.IsValid() || !peer.IsLoopback() {
		return withoutToken + ", and this one came from " + r.RemoteAddr + fix
	}
	if !loopbackHost(r.Host) {
		return withoutToken + " addressed to localhost or a loopback IP, not " + quoteOrNone(r.Host) + fix
	}
	return ""
}

// proxyMark names what shows that r came through a proxy or a gateway, or
// returns "".
func proxyMark(r *http.Request) string {
	for _, name := range forwardingHeaders {
		if len(r.Header.Values(name)) > 0 {
			return "it carries " + name
		}
	}
	if fcgi.ProcessEnv(r) != nil {
		return "it arrived over FastCGI"
	}
	// nginx speaks HTTP/1.0 to upstreams unless told otherwise, and then
	// adds no header of its own; clients today speak 1.1.
	if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
		return "it speaks HTTP/1.0, as nginx does to upstreams by default"
	}
	return ""
}

// bearerMatches compares the bearer token in constant time.
func bearerMatches(r *http.Request, token string) bool {
	return subtle.ConstantTimeCompare([]byte(edge.BearerToken(r)), []byte(token)) == 1
}

// loopbackHost reports whether the Host header names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

// crossSite names what shows that a browser sent r from a page of another
// site, or returns "". Same-site is refused too: a page on another port of
// localhost is the same site. Requests without these headers come from
// programs, not pages.
func crossSite(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		return "Sec-Fetch-Site: " + site
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return ""
	}
	return "Origin " + quoteOrNone(origin) + " is not the requested host " + quoteOrNone(r.Host)
}

// jsonBody reports whether r's body, if it may have one, is declared JSON,
// and returns the Content-Type it declared. POST, PUT and PATCH count as
// having a body even when it is empty.
func jsonBody(r *http.Request) (string, bool) {
	contentType := r.Header.Get("Content-Type")
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		if r.ContentLength == 0 {
			return contentType, true
		}
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	return contentType, err == nil && mediaType == "application/json"
}

func setTokenHint(token string) string {
	if token == "" {
		return "; admin.token is empty, so set it in the node's configuration first"
	}
	return ""
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return strconv.Quote(edge.Clip(s, edge.MaxQuoted))
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
