package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gogf/gf/v2/os/gcfg"
)

// PlaceholderJWTSecret is the secret shipped in manifest/config/config.yaml.
// Anybody can sign tokens with it: a server running with it warns, and
// takes tokens only on direct connections from its own machine.
const PlaceholderJWTSecret = "change-me"

// Config is everything the WebSocket transport reads from the `ws` section
// of the configuration, plus `server.trustedProxies`. The zero value of a
// field never means "default": DefaultConfig holds the defaults and
// LoadConfig starts from it.
type Config struct {
	// Path is the route that upgrades. Default "/ws".
	Path string
	// AllowedOrigins lists the browser origins allowed to connect, such as
	// "https://app.example.com", or "*" for any. Default empty: only an
	// Origin whose host equals the request's Host. Requests without an
	// Origin header (non-browser clients) are always accepted.
	AllowedOrigins []string
	// ReadBufferSize is the size of a connection's read buffer in bytes.
	// Default 1024.
	ReadBufferSize int
	// WriteBufferSize is the first size of the buffer a writer joins a
	// burst's frames in; it grows to 64 KiB and is pooled between bursts.
	// Default 1024.
	WriteBufferSize int
	// MaxMessageSize is the largest message accepted, in bytes; a larger one
	// closes the connection with 1009. Default 65536.
	MaxMessageSize int64
	// SendQueueSize is how many outgoing messages may wait for one slow
	// connection before it is closed with 4008. Default 256.
	SendQueueSize int
	// SendQueueBytes is how many bytes of outgoing messages may wait for
	// one slow connection before it is closed with 4008. A single message
	// larger than this still goes through an empty queue. Default 1 MiB.
	SendQueueBytes int
	// WriteTimeout bounds every write to the socket. Default 10s.
	WriteTimeout time.Duration
	// PingInterval is how often the server pings. Default 25s.
	PingInterval time.Duration
	// PongTimeout is how long a connection may stay silent (not even a pong)
	// before it is closed. Must exceed PingInterval and stay below the
	// proxy's read timeout. Default 60s.
	PongTimeout time.Duration
	// HandshakeTimeout bounds writing the 101 response. Default 10s.
	HandshakeTimeout time.Duration
	// ShutdownTimeout is how long a stopping node waits for its connections
	// to go after sending them 1001. Default 10s.
	ShutdownTimeout time.Duration
	// Compression enables permessage-deflate. Default false.
	Compression bool
	// MaxConnections caps the connections of this node; 0 disables the cap.
	// Default 100000.
	MaxConnections int
	// MaxConnectionsPerUser caps one user's connections on this node; 0
	// disables the cap. Default 0.
	MaxConnectionsPerUser int
	// MaxConnectionsPerIP caps one client address's connections on this
	// node; 0 disables the cap. Default 0.
	MaxConnectionsPerIP int
	// RateLimit is messages per second per connection; 0 disables it.
	// Default 100.
	RateLimit float64
	// RateBurst is the burst the rate limit allows. Default 200.
	RateBurst int
	// AuthRequired refuses upgrades without a token. Default false: such a
	// connection is the anonymous user "anon-<connId>".
	AuthRequired bool
	// JWTSecret verifies HS256 tokens. Default PlaceholderJWTSecret.
	JWTSecret string
	// TrustedProxies are the peers whose X-Forwarded-For / X-Real-IP are
	// believed (`server.trustedProxies`). Default loopback.
	TrustedProxies []netip.Prefix
}

// DefaultConfig returns the defaults of manifest/config/config.yaml.
func DefaultConfig() Config {
	return Config{
		Path:             "/ws",
		AllowedOrigins:   []string{},
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		MaxMessageSize:   65536,
		SendQueueSize:    256,
		SendQueueBytes:   1 << 20,
		WriteTimeout:     10 * time.Second,
		PingInterval:     25 * time.Second,
		PongTimeout:      60 * time.Second,
		HandshakeTimeout: 10 * time.Second,
		ShutdownTimeout:  10 * time.Second,
		MaxConnections:   100000,
		RateLimit:        100,
		RateBurst:        200,
		JWTSecret:        PlaceholderJWTSecret,
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.0/8"),
			netip.MustParsePrefix("::1/128"),
		},
	}
}

// LoadConfig reads the `ws` section and `server.trustedProxies` from cfg
// over DefaultConfig. An error names the offending key.
func LoadConfig(ctx context.Context, cfg *gcfg.Config) (Config, error) {
	c := DefaultConfig()
	r := configReader{ctx: ctx, cfg: cfg}
	r.str("ws.path", &c.Path)
	r.strs("ws.allowedOrigins", &c.AllowedOrigins)
	r.integer("ws.readBufferSize", &c.ReadBufferSize)
	r.integer("ws.writeBufferSize", &c.WriteBufferSize)
	var maxMessage = int(c.MaxMessageSize)
	r.integer("ws.maxMessageSize", &maxMessage)
	c.MaxMessageSize = int64(maxMessage)
	r.integer("ws.sendQueueSize", &c.SendQueueSize)
	r.integer("ws.sendQueueBytes", &c.SendQueueBytes)
	r.duration("ws.writeTimeout", &c.WriteTimeout)
	r.duration("ws.pingInterval", &c.PingInterval)
	r.duration("ws.pongTimeout", &c.PongTimeout)
	r.duration("ws.handshakeTimeout", &c.HandshakeTimeout)
	r.duration("ws.shutdownTimeout", &c.ShutdownTimeout)
	r.boolean("ws.compression", &c.Compression)
	r.integer("ws.maxConnections", &c.MaxConnections)
	r.integer("ws.maxConnectionsPerUser", &c.MaxConnectionsPerUser)
	r.integer("ws.maxConnectionsPerIP", &c.MaxConnectionsPerIP)
	r.float("ws.rateLimit.rate", &c.RateLimit)
	r.integer("ws.rateLimit.burst", &c.RateBurst)
	r.boolean("ws.auth.required", &c.AuthRequired)
	r.str("ws.auth.jwtSecret", &c.JWTSecret)
	var proxies []string
	if r.strs("server.trustedProxies", &proxies) {
		c.TrustedProxies = c.TrustedProxies[:0]
		for _, p := range proxies {
			prefix, err := netip.ParsePrefix(strings.TrimSpace(p))
			if err != nil {
				r.fail("server.trustedProxies", "%q is not a CIDR such as 10.0.0.0/8", p)
				continue
			}
			c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
		}
	}
	if r.err != nil {
		return c, r.err
	}
	return c, c.Validate()
}

// Trusts reports whether addr is in TrustedProxies.
func (c Config) Trusts(addr netip.Addr) bool {
	for _, p := range c.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Validate reports the first setting that cannot work, naming its key.
func (c Config) Validate() error {
	positive := []struct {
		key   string
		value int64
	}{
		{"ws.readBufferSize", int64(c.ReadBufferSize)},
		{"ws.writeBufferSize", int64(c.WriteBufferSize)},
		{"ws.maxMessageSize", c.MaxMessageSize},
		{"ws.sendQueueSize", int64(c.SendQueueSize)},
		{"ws.sendQueueBytes", int64(c.SendQueueBytes)},
		{"ws.writeTimeout", int64(c.WriteTimeout)},
		{"ws.pingInterval", int64(c.PingInterval)},
		{"ws.pongTimeout", int64(c.PongTimeout)},
		{"ws.handshakeTimeout", int64(c.HandshakeTimeout)},
		{"ws.shutdownTimeout", int64(c.ShutdownTimeout)},
	}
	for _, p := range positive {
		if p.value <= 0 {
			return fmt.Errorf("config %s must be greater than zero", p.key)
		}
	}
	notNegative := []struct {
		key   string
		value float64
	}{
		{"ws.maxConnections", float64(c.MaxConnections)},
		{"ws.maxConnectionsPerUser", float64(c.MaxConnectionsPerUser)},
		{"ws.maxConnectionsPerIP", float64(c.MaxConnectionsPerIP)},
		{"ws.rateLimit.rate", c.RateLimit},
		{"ws.rateLimit.burst", float64(c.RateBurst)},
	}
	for _, n := range notNegative {
		if n.value < 0 {
			return fmt.Errorf("config %s must not be negative (0 turns it off)", n.key)
		}
	}
	if c.RateLimit > 0 && c.RateBurst < 1 {
		return fmt.Errorf("config ws.rateLimit.burst must be at least 1 while ws.rateLimit.rate is on")
	}
	if !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("config ws.path must start with /, got %q", c.Path)
	}
	if c.PingInterval >= c.PongTimeout {
		return fmt.Errorf("config ws.pingInterval (%s) must be shorter than ws.pongTimeout (%s), "+
			"or live connections are closed between two pings", c.PingInterval, c.PongTimeout)
	}
	if c.WriteTimeout >= c.PongTimeout {
		return fmt.Errorf("config ws.writeTimeout (%s) must be shorter than ws.pongTimeout (%s): "+
			"a connection's reader may wait up to ws.writeTimeout for room in its queue (a join's replay), "+
			"and the client's pongs must be read before its pong timeout", c.WriteTimeout, c.PongTimeout)
	}
	if c.JWTSecret == "" {
		return fmt.Errorf("config ws.auth.jwtSecret must not be empty")
	}
	return nil
}

// configReader reads typed keys, keeping the first error so LoadConfig can
// read every key in one straight list.
type configReader struct {
	ctx context.Context
	cfg *gcfg.Config
	err error
}

func (r *configReader) fail(key, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("config %s: %s", key, fmt.Sprintf(format, args...))
	}
}

// raw returns the value at key and whether it is set.
func (r *configReader) raw(key string) (any, bool) {
	v, err := r.cfg.Get(r.ctx, key)
	if err != nil {
		r.fail(key, "%v", err)
		return nil, false
	}
	if v == nil || v.IsNil() {
		return nil, false
	}
	return v.Val(), true
}

func (r *configReader) str(key string, dst *string) {
	readAs(r, key, dst, "want a string, got %v")
}

// readAs sets *dst to key's value when it has type T, and fails with
// complaint otherwise.
func readAs[T any](r *configReader, key string, dst *T, complaint string) {
	if v, ok := r.raw(key); ok {
		t, isT := v.(T)
		if !isT {
			r.fail(key, complaint, v)
			return
		}
		*dst = t
	}
}

func (r *configReader) strs(key string, dst *[]string) bool {
	v, ok := r.raw(key)
	if !ok {
		return false
	}
	list, isList := v.([]any)
	if !isList {
		r.fail(key, "want a list of strings, got %v", v)
		return false
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, isString := item.(string)
		if !isString {
			r.fail(key, "want a list of strings, got item %v", item)
			return false
		}
		out = append(out, s)
	}
	*dst = out
	return true
}

func (r *configReader) number(key string) (float64, bool) {
	v, ok := r.raw(key)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case json.Number:
		if f, err := n.Float64(); err == nil {
			return f, true
		}
	}
	r.fail(key, "want a number, got %v", v)
	return 0, false
}

func (r *configReader) integer(key string, dst *int) {
	if f, ok := r.number(key); ok {
		if f != float64(int(f)) {
			r.fail(key, "want a whole number, got %v", f)
			return
		}
		*dst = int(f)
	}
}

func (r *configReader) float(key string, dst *float64) {
	if f, ok := r.number(key); ok {
		*dst = f
	}
}

func (r *configReader) boolean(key string, dst *bool) {
	readAs(r, key, dst, "want true or false, got %v")
}

func (r *configReader) duration(key string, dst *time.Duration) {
	if v, ok := r.raw(key); ok {
		s, isString := v.(string)
		if !isString {
			r.fail(key, "want a duration such as \"10s\", got %v", v)
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			r.fail(key, "want a duration such as \"10s\", got %q", s)
			return
		}
		*dst = d
	}
}
