package cmd

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/gogf/gf/v2/database/gredis"
	"github.com/gogf/gf/v2/os/gcfg"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/logic/hub"
	"github.com/gfws/template-ws/internal/ws"
)

// defaultPresenceTTL is how long a node's presence outlives its last
// heartbeat: the longest a dead node's users stay listed.
const defaultPresenceTTL = 15 * time.Second

// newBroker builds the broker named by broker.type, and returns it with
// this node's id (broker.nodeId, or one unique per process). A recovery
// replays up to rooms.history.size messages at once, so it may not exceed
// sendQueue, ws.sendQueueSize.
func newBroker(ctx context.Context, cfg *gcfg.Config, sendQueue int) (string, broker.Broker, error) {
	node, err := cfg.Get(ctx, "broker.nodeId", "")
	if err != nil {
		return "", nil, fmt.Errorf("config broker.nodeId: %w", err)
	}
	nodeID := node.String()
	if nodeID == "" {
		nodeID = uniqueNodeID()
	}
	history, err := loadHistory(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	if sendQueue > 0 && history.Size > sendQueue {
		return "", nil, fmt.Errorf("config rooms.history.size: %d is more than ws.sendQueueSize (%d), and a recovery replays up to that many messages at once; lower it or raise ws.sendQueueSize", history.Size, sendQueue)
	}
	kind, err := cfg.Get(ctx, "broker.type", "memory")
	if err != nil {
		return "", nil, fmt.Errorf("config broker.type: %w", err)
	}
	switch kind.String() {
	case "memory":
		return nodeID, broker.NewMemoryWithHistory(history), nil
	case "redis":
	default:
		return "", nil, fmt.Errorf("config broker.type: unknown broker %q; use \"memory\" or \"redis\"", kind.String())
	}

	ttl := defaultPresenceTTL
	if v, err := cfg.Get(ctx, "broker.presenceTTL"); err != nil {
		return "", nil, fmt.Errorf("config broker.presenceTTL: %w", err)
	} else if v != nil && v.String() != "" { // "" keeps the default; 0 is refused
		if ttl, err = time.ParseDuration(v.String()); err != nil || ttl < 300*time.Millisecond {
			return "", nil, fmt.Errorf("config broker.presenceTTL: want a duration of at least 300ms such as \"15s\", got %q", v.String())
		}
	}
	prefix, err := redisPrefix(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	section, err := cfg.Get(ctx, "redis.default")
	if err != nil || section == nil || section.IsEmpty() {
		return "", nil, fmt.Errorf("config redis.default: broker.type redis needs redis.default.address")
	}
	redisCfg, err := gredis.ConfigFromMap(section.Map())
	if err != nil || redisCfg.Address == "" {
		return "", nil, fmt.Errorf("config redis.default: broker.type redis needs redis.default.address (%v)", err)
	}
	// Fail fast during an outage: the node keeps serving its own
	// connections and must not stall on Redis.
	if redisCfg.DialTimeout == 0 {
		redisCfg.DialTimeout = time.Second
	}
	if redisCfg.ReadTimeout == 0 {
		redisCfg.ReadTimeout = 2 * time.Second
	}
	if redisCfg.WriteTimeout == 0 {
		redisCfg.WriteTimeout = 2 * time.Second
	}
	b, err := broker.NewRedis(redisCfg, broker.RedisOptions{Prefix: prefix, Node: nodeID, PresenceTTL: ttl, History: history})
	if err != nil {
		return "", nil, fmt.Errorf("config redis.default: %w", err)
	}
	return nodeID, b, nil
}

// redisPrefix is broker.prefix, the start of every Redis key and channel
// of this application; "" means the application's module path.
func redisPrefix(ctx context.Context, cfg *gcfg.Config) (string, error) {
	v, err := cfg.Get(ctx, "broker.prefix", "")
	if err != nil {
		return "", fmt.Errorf("config broker.prefix: %w", err)
	}
	prefix := v.String()
	if prefix == "" {
		prefix = broker.DefaultPrefix()
	}
	if err := broker.CheckPrefix(prefix); err != nil {
		return "", fmt.Errorf("config broker.prefix: %w", err)
	}
	return prefix, nil
}

// uniqueNodeID is the host name plus a random suffix, so that two nodes on
// one host differ.
func uniqueNodeID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "node"
	}
	return host + "-" + ws.RandomID(3)
}

// loadHistory reads rooms.history over broker.DefaultHistory.
func loadHistory(ctx context.Context, cfg *gcfg.Config) (broker.History, error) {
	h := broker.DefaultHistory()
	size, err := cfg.Get(ctx, "rooms.history.size")
	if err != nil {
		return h, fmt.Errorf("config rooms.history.size: %w", err)
	}
	if size != nil && !size.IsNil() {
		if h.Size, err = strconv.Atoi(size.String()); err != nil || h.Size < 0 {
			return h, fmt.Errorf("config rooms.history.size: want a whole number, 0 to turn history off, got %q", size.String())
		}
	}
	maxBytes, err := cfg.Get(ctx, "rooms.history.maxBytes")
	if err != nil {
		return h, fmt.Errorf("config rooms.history.maxBytes: %w", err)
	}
	if maxBytes != nil && !maxBytes.IsNil() {
		if h.MaxBytes, err = strconv.ParseInt(maxBytes.String(), 10, 64); err != nil || h.MaxBytes < 0 {
			return h, fmt.Errorf("config rooms.history.maxBytes: want a whole number of bytes, 0 for no bound, got %q", maxBytes.String())
		}
	}
	ttl, err := cfg.Get(ctx, "rooms.history.ttl")
	if err != nil {
		return h, fmt.Errorf("config rooms.history.ttl: %w", err)
	}
	if ttl != nil && !ttl.IsNil() {
		if h.TTL, err = time.ParseDuration(ttl.String()); err != nil || h.TTL < time.Second {
			return h, fmt.Errorf("config rooms.history.ttl: want a duration of at least 1s such as \"10m\", got %q", ttl.String())
		}
	}
	return h, nil
}

// loadHubConfig reads the rooms section over hub.DefaultConfig.
func loadHubConfig(ctx context.Context, cfg *gcfg.Config) (hub.Config, error) {
	c := hub.DefaultConfig()
	for _, key := range []struct {
		name string
		dst  *int
	}{
		{"rooms.maxPerConnection", &c.MaxRoomsPerConnection},
		{"rooms.presenceEventsLimit", &c.PresenceEventsLimit},
	} {
		v, err := cfg.Get(ctx, key.name)
		if err != nil {
			return c, fmt.Errorf("config %s: %w", key.name, err)
		}
		if v == nil || v.IsNil() {
			continue
		}
		n, err := strconv.Atoi(v.String())
		if err != nil || n < 0 {
			return c, fmt.Errorf("config %s: want a whole number, 0 to turn it off, got %q", key.name, v.String())
		}
		*key.dst = n
	}
	return c, nil
}
