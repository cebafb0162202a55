package ws

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// The handshake's refusal table, decided without a server or a socket;
// handshake_test.go dials one real refusal of each kind.
func TestCheckRefusalTable(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.JWTSecret = "check-secret"
	s := NewServer(cfg, "test-node", NewRouter(), Hooks{})
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ann"}).SignedString([]byte(cfg.JWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	// The same secret under another algorithm, and no signature at all:
	// the server takes HS256 only.
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "ann"}).SignedString([]byte(cfg.JWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "ann"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	upgrade := func(edit func(r *http.Request)) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://node.example/ws", nil)
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Sec-WebSocket-Version", "13")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		if edit != nil {
			edit(r)
		}
		return r
	}
	for _, tc := range []struct {
		name       string
		req        *http.Request
		hijackable bool
		reason     string
		status     int
		message    string
	}{
		{"not GET", upgrade(func(r *http.Request) { r.Method = http.MethodPost }), true, RefusedMethod, 405, "only GET"},
		{"no Upgrade", upgrade(func(r *http.Request) { r.Header.Del("Upgrade") }), true, RefusedNoUpgrade, 426, "Upgrade: websocket"},
		{"no Upgrade through a proxy", upgrade(func(r *http.Request) {
			r.Header.Del("Connection")
			r.Header.Set("X-Forwarded-For", "203.0.113.9")
		}), true, RefusedNoUpgrade, 426, "proxy_http_version 1.1"},
		{"version 8", upgrade(func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }), true, RefusedVersion, 400, "version 13"},
		{"short key", upgrade(func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "c2hvcnQ=") }), true, RefusedKey, 400, "16 random bytes"},
		{"FastCGI", upgrade(nil), false, RefusedNoHijack, 500, NginxFastCGIHint},
		{"HTTP/2", upgrade(func(r *http.Request) { r.ProtoMajor, r.Proto = 2, "HTTP/2.0" }), true, RefusedNoHijack, 500, "HTTP/2.0"},
		{"foreign origin", upgrade(func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }), true, RefusedOrigin, 403, "ws.allowedOrigins"},
		{"bad token", upgrade(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token+"x") }), true, RefusedAuth, 401, "not valid"},
		{"HS512 token", upgrade(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+hs512) }), true, RefusedAuth, 401, "HS256"},
		{"unsigned token", upgrade(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+unsigned) }), true, RefusedAuth, 401, "HS256"},
	} {
		_, got := s.check(tc.req, tc.hijackable)
		if got == nil || got.reason != tc.reason || got.status != tc.status || !strings.Contains(got.message, tc.message) {
			t.Errorf("%s: got %+v, want %s %d containing %q", tc.name, got, tc.reason, tc.status, tc.message)
		}
	}
	who, got := s.check(upgrade(func(r *http.Request) {
		r.Header.Set("Origin", "http://node.example")
		r.Header.Set("Authorization", "Bearer "+token)
	}), true)
	if got != nil || who.userID != "ann" {
		t.Fatalf("a valid handshake: %+v, %+v", who, got)
	}
}

// The client address behind trusted proxies: the right-most entry of
// X-Forwarded-For that is not a trusted proxy, read from the right and
// no further than an entry that is not an address, which no proxy of
// ours writes; IPv4-mapped forms count as the IPv4 address.
func TestClientIPTable(t *testing.T) {
	t.Parallel()
	s := NewServer(DefaultConfig(), "test-node", NewRouter(), Hooks{})
	for _, tc := range []struct {
		peer, forwardedFor, realIP, want string
	}{
		{"203.0.113.1:5000", "198.51.100.7", "", "203.0.113.1"},            // an untrusted peer's header is ignored
		{"127.0.0.1:5000", "198.51.100.7, 203.0.113.5", "", "203.0.113.5"}, // the nearest proxy's entry
		{"127.0.0.1:5000", "203.0.113.5, 127.0.0.1", "", "203.0.113.5"},    // trusted hops are skipped
		{"127.0.0.1:5000", "::ffff:203.0.113.5", "", "203.0.113.5"},
		{"127.0.0.1:5000", "203.0.113.5, ::ffff:127.0.0.1", "", "203.0.113.5"},
		{"127.0.0.1:5000", "198.51.100.7, unknown", "", "127.0.0.1"},
		{"127.0.0.1:5000", "198.51.100.7, unknown", "::ffff:203.0.113.8", "203.0.113.8"},
		{"127.0.0.1:5000", "", "203.0.113.8", "203.0.113.8"},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://node.example/ws", nil)
		r.RemoteAddr = tc.peer
		if tc.forwardedFor != "" {
			r.Header.Set("X-Forwarded-For", tc.forwardedFor)
		}
		if tc.realIP != "" {
			r.Header.Set("X-Real-IP", tc.realIP)
		}
		if got := s.clientIP(r); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q, X-Real-IP %q: %s, want %s", tc.peer, tc.forwardedFor, tc.realIP, got, tc.want)
		}
	}
}
