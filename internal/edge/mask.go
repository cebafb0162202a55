package edge

import (
	"net/url"
	"strings"

	"github.com/gogf/gf/v2/net/ghttp"
)

// tokenMask replaces the value of a `token` query parameter in logs.
const tokenMask = "***"

// MaskToken is the middleware of the WebSocket route. Browsers send their
// token as ?token=, and ghttp's access and error logs print r.URL after the
// handler has run, so once the handler is done the request's URL is
// replaced by a copy whose token value reads "***". The copy leaves the URL
// the handler saw untouched for anything still holding it.
func MaskToken(r *ghttp.Request) {
	r.Middleware.Next()
	if r.URL.RawQuery == "" {
		return
	}
	masked, changed := maskTokenQuery(r.URL.RawQuery)
	if !changed {
		return
	}
	u := *r.URL
	u.RawQuery = masked
	r.URL = &u
}

// maskTokenQuery masks every pair whose key unescapes to "token", the key
// the WebSocket handshake reads.
func maskTokenQuery(raw string) (string, bool) {
	pairs := strings.Split(raw, "&")
	changed := false
	for i, pair := range pairs {
		key, _, _ := strings.Cut(pair, "=")
		if name, err := url.QueryUnescape(key); err == nil && name == "token" {
			pairs[i] = key + "=" + tokenMask
			changed = true
		}
	}
	return strings.Join(pairs, "&"), changed
}
