package ws_test

import (
	"net/http"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// With ws.allowedOrigins empty an Origin must name the host and port the
// browser addressed. The forwarded host counts only from a trusted proxy.
func TestSameOriginComparesHostAndPort(t *testing.T) {
	t.Parallel()
	// Loopback, where the test dials from, is a trusted proxy by default.
	behindProxy := wstest.Start(t, nil)
	direct := wstest.Start(t, map[string]any{"server.trustedProxies": []string{}})
	cases := []struct {
		name     string
		node     *wstest.Node
		header   http.Header
		accepted bool
	}{
		{"no origin", direct, http.Header{"Host": {"example.com:8080"}}, true},
		{"host and port", direct, http.Header{"Host": {"example.com:8080"}, "Origin": {"http://example.com:8080"}}, true},
		{"case of the host name", direct, http.Header{"Host": {"EXAMPLE.com:8080"}, "Origin": {"http://example.COM:8080"}}, true},
		{"IPv6 literal", direct, http.Header{"Host": {"[::1]:8080"}, "Origin": {"http://[::1]:8080"}}, true},
		{"another port", direct, http.Header{"Host": {"example.com:8080"}, "Origin": {"http://example.com:8081"}}, false},
		{"origin on port 80, host with 8080", direct, http.Header{"Host": {"example.com:8080"}, "Origin": {"http://example.com"}}, false},
		{"origin on 8080, host without port", direct, http.Header{"Host": {"example.com"}, "Origin": {"http://example.com:8080"}}, false},
		{"http default port both sides", direct, http.Header{"Host": {"example.com"}, "Origin": {"http://example.com"}}, true},
		{"https default port both sides", direct, http.Header{"Host": {"example.com"}, "Origin": {"https://example.com"}}, true},
		{"origin without port, host with 80", direct, http.Header{"Host": {"example.com:80"}, "Origin": {"http://example.com"}}, true},
		{"https origin, host with 443", direct, http.Header{"Host": {"example.com:443"}, "Origin": {"https://example.com"}}, true},
		{"http origin, host with 443", direct, http.Header{"Host": {"example.com:443"}, "Origin": {"http://example.com"}}, false},
		{"another host", direct, http.Header{"Host": {"example.com:8080"}, "Origin": {"http://other.example:8080"}}, false},
		{"opaque origin", direct, http.Header{"Host": {"example.com"}, "Origin": {"null"}}, false},
		{"X-Forwarded-Host from a trusted proxy", behindProxy,
			http.Header{"Host": {"template_ws"}, "X-Forwarded-Host": {"example.com:8080"}, "Origin": {"http://example.com:8080"}}, true},
		{"Forwarded host from a trusted proxy", behindProxy,
			http.Header{"Host": {"template_ws"}, "Forwarded": {`for=203.0.113.5;host="example.com:8080";proto=http`}, "Origin": {"http://example.com:8080"}}, true},
		{"only the entry the nearest proxy added", behindProxy,
			http.Header{"Host": {"template_ws"}, "X-Forwarded-Host": {"evil.example, example.com:8080"}, "Origin": {"http://evil.example"}}, false},
		{"only the header line the nearest proxy added", behindProxy,
			http.Header{"Host": {"template_ws"}, "X-Forwarded-Host": {"evil.example", "example.com:8080"}, "Origin": {"http://evil.example"}}, false},
		{"only the Forwarded element the nearest proxy added", behindProxy,
			http.Header{"Host": {"template_ws"}, "Forwarded": {"host=evil.example, for=203.0.113.5;host=example.com"}, "Origin": {"http://evil.example"}}, false},
		{"X-Forwarded-Host from any other peer", direct,
			http.Header{"Host": {"template_ws"}, "X-Forwarded-Host": {"example.com:8080"}, "Origin": {"http://example.com:8080"}}, false},
		{"Forwarded host from any other peer", direct,
			http.Header{"Host": {"template_ws"}, "Forwarded": {"host=example.com:8080"}, "Origin": {"http://example.com:8080"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.accepted {
				wstest.DialWelcome(t, tc.node.WSURL, tc.header)
				return
			}
			dialRefused(t, tc.node.WSURL, tc.header, refusal{
				status: 403, code: 62, message: []string{tc.header.Get("Origin"), "ws.allowedOrigins"},
			})
		})
	}
}
