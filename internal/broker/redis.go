package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/gogf/gf/contrib/nosql/redis/v2" // gredis adapter
	"github.com/gogf/gf/v2/database/gredis"
	"github.com/gogf/gf/v2/os/glog"
	goredis "github.com/redis/go-redis/v9"
)

var _ Broker = (*Redis)(nil)

// ErrUnavailable is returned while the broker has lost Redis. The node
// keeps serving its own connections meanwhile.
var ErrUnavailable = errors.New("redis is unavailable: only this node's connections are served")

const maxBackoff = 5 * time.Second

// Redis is the broker of a cluster. Deliveries travel on Pub/Sub channels
// by interest (see names.channel and interest), and presence is kept per
// room by one script (see presenceScript). Publishes and presence changes
// go through one writer goroutine that sends whatever has queued as one
// pipeline, so a sender is not held to a round trip per message, and
// pipelines run one after another, so each sender's order holds.
//
// gredis configures the client; Pub/Sub with changing channels and
// pipelines use the go-redis client beneath it, which gredis does not
// expose as such.
type Redis struct {
	client  *gredis.Redis
	raw     goredis.UniversalClient
	names   names
	shared  []string // names.shared, made once
	node    string
	ttl     time.Duration
	history History
	local   *Memory // this node's presence, re-sent by each heartbeat

	pubsub   *goredis.PubSub
	interest *interest
	writes   chan write
	handler  atomic.Pointer[Handler]
	departed atomic.Pointer[func(room string, left []Departure)]
	received atomic.Uint64
	streams  streams // the receiver's; see inStream
	ready    atomic.Bool
	rejoin   chan struct{} // asks the heartbeat to restore all presence now
	repair   chan struct{} // asks the heartbeat to restore the unsure rooms now
	// unsure holds the rooms whose presence in Redis may lack this node's
	// changes; guarded by local.mu.
	unsure map[string]struct{}

	ctx    context.Context
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// RedisOptions place a node in its application's cluster.
type RedisOptions struct {
	// Prefix starts every key and channel of the application; one
	// CheckPrefix accepts.
	Prefix string
	// Node names this node; every node of the cluster has its own.
	Node string
	// PresenceTTL is how long a node's presence entries live unless its
	// heartbeat renews them.
	PresenceTTL time.Duration
	// History is how much of each room's stream is kept.
	History History
}

// NewRedis connects to Redis with cfg as a node of a cluster. Nothing runs
// until Subscribe.
func NewRedis(cfg *gredis.Config, opts RedisOptions) (*Redis, error) {
	client, err := gredis.New(keepIdle(cfg))
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", cfg.Address, err)
	}
	raw, ok := client.GetAdapter().Client().(goredis.UniversalClient)
	if !ok {
		_ = client.Close(context.Background())
		return nil, fmt.Errorf("redis %s: the gredis adapter is not go-redis", cfg.Address)
	}
	loadScriptsOnConnect(raw)
	ctx, cancel := context.WithCancel(context.Background())
	return &Redis{
		client: client, raw: raw, names: names{opts.Prefix}, shared: names{opts.Prefix}.shared(), node: opts.Node, ttl: opts.PresenceTTL, history: opts.History,
		local: NewMemory(), interest: newInterest(), streams: make(streams), writes: make(chan write, writeQueue),
		rejoin: make(chan struct{}, 1), repair: make(chan struct{}, 1), unsure: make(map[string]struct{}),
		ctx: ctx, cancel: cancel,
	}, nil
}

// poolSize is the Redis client's pool when the configuration sets none,
// as gredis has it.
const poolSize = 100

// keepIdle returns cfg with the pool keeping as many idle connections as
// it may open, unless cfg sets maxIdle. A node's calls come in bursts,
// such as the members pages that clients ask for at once after a mass
// rejoin: with gredis's default of ten, every burst dialled the
// connections it lacked and closed them again once it was over.
func keepIdle(cfg *gredis.Config) *gredis.Config {
	if cfg.MaxIdle != 0 {
		return cfg
	}
	kept := *cfg
	kept.MaxIdle = poolSize
	if cfg.MaxActive > 0 {
		kept.MaxIdle = cfg.MaxActive
	}
	return &kept
}

// Subscribe sets the handler of other nodes' messages, then starts the
// subscription, the writer and the presence heartbeat: nothing is received
// before there is somebody to hand it to.
func (r *Redis) Subscribe(h Handler) {
	r.handler.Store(&h)
	r.pubsub = r.raw.Subscribe(r.ctx)
	r.interest.add(r.names.everyone())
	r.done.Add(5)
	replies := make(chan received, confirmBatch)
	go r.readLoop(replies)
	go r.receiveLoop(replies)
	go r.reconcileLoop()
	go r.writeLoop()
	go r.heartbeatLoop()
}

// Publish queues m for the other nodes. While Redis is down it fails at
// once rather than stall the sender.
func (r *Redis) Publish(ctx context.Context, m Message) error {
	if !r.ready.Load() {
		return ErrUnavailable
	}
	channel, payload := r.names.channel(m), encodeMessage(m)
	return r.queue(ctx, write{commands: func(p goredis.Pipeliner) {
		p.Publish(r.ctx, channel, payload)
	}})
}

// WatchUser subscribes to user's deliveries.
func (r *Redis) WatchUser(user string) <-chan struct{} {
	return r.interest.add(r.names.user(user))
}

// UnwatchUser leaves user's deliveries once no connection needs them.
func (r *Redis) UnwatchUser(user string) {
	r.interest.remove(r.names.user(user))
}

// WatchRoom subscribes to room's deliveries unless this node already has.
func (r *Redis) WatchRoom(room string) <-chan struct{} {
	return r.interest.add(r.names.room(room))
}

// UnwatchRoom leaves room's deliveries once no connection needs them.
func (r *Redis) UnwatchRoom(room string) {
	r.interest.remove(r.names.room(room))
}

// Received counts the deliveries taken from other nodes.
func (r *Redis) Received() uint64 { return r.received.Load() }

// Clustered is true: other nodes share the Redis.
func (r *Redis) Clustered() bool { return true }

// Ready reports whether the subscription is live.
func (r *Redis) Ready() bool { return r.ready.Load() }

// Close stops the loops and releases the connections. This node's
// presence is left to expire: a restarting node should not flicker it.
func (r *Redis) Close() error {
	r.cancel()
	if r.pubsub != nil {
		_ = r.pubsub.Close()
	}
	r.done.Wait()
	return r.client.Close(context.Background())
}

func (r *Redis) deliver(payload string) {
	m, err := decodeMessage(payload)
	if err != nil {
		glog.Warningf(r.ctx, "redis broker: dropping a malformed delivery: %v", err)
		return
	}
	if m.Offset == 0 && m.Origin == r.node {
		return // delivered here when it was published
	}
	if m.Offset > 0 && !r.inStream(m) {
		return
	}
	r.hand(m)
}

// hand gives a delivery to the handler.
func (r *Redis) hand(m Message) {
	if m.Origin != r.node {
		r.received.Add(1)
	}
	if h := r.handler.Load(); h != nil {
		(*h)(m)
	}
}

// reconcileLoop brings the subscription in line with the interest
// whenever it changes. During an outage go-redis records the channels and
// subscribes to them when it re-dials. A subscribe that fails on a dead
// connection is the exception: go-redis re-dials within the call and
// subscribes the channels it had, then records the new ones, which would
// wait for the next re-dial; so such a call is made once more.
func (r *Redis) reconcileLoop() {
	defer r.done.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.interest.changed:
		}
		subscribe, unsubscribe := r.interest.plan()
		if len(subscribe) > 0 {
			if err := r.pubsub.Subscribe(r.ctx, subscribe...); err != nil {
				_ = r.pubsub.Subscribe(r.ctx, subscribe...)
			}
		}
		if len(unsubscribe) > 0 {
			_ = r.pubsub.Unsubscribe(r.ctx, unsubscribe...)
		}
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (r *Redis) setReady(ready bool, outage *error, cause error) {
	was := r.ready.Swap(ready)
	if ready {
		if *outage != nil {
			glog.Infof(r.ctx, "redis broker: Redis is back; node %s is serving the cluster again", r.node)
		}
		*outage = nil
		return
	}
	if *outage != nil {
		return // told once already
	}
	*outage = cause
	what := "lost Redis"
	if !was {
		what = "cannot reach Redis at start"
	}
	glog.Warningf(r.ctx, "redis broker: %s (%v); node %s serves only its own connections and reports not ready until it returns", what, cause, r.node)
}

// heartbeatLoop renews this node's presence three times per TTL, restores
// all of it when Redis comes back, and the rooms an Apply left unsure as
// soon as it asks.
func (r *Redis) heartbeatLoop() {
	defer r.done.Done()
	tick := time.NewTicker(r.ttl / 3)
	defer tick.Stop()
	for {
		work := r.heartbeat
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		case <-r.rejoin:
			work = func() {
				r.warnIfEvicting()
				r.restoreAll()
			}
		case <-r.repair:
			work = r.restoreUnsure
		}
		if r.ready.Load() {
			work()
		}
	}
}

// warnIfEvicting says, each time the node reaches Redis, when Redis may
// evict the brokers' keys. INFO may be disabled on a managed Redis; then
// the README's advice has to do.
func (r *Redis) warnIfEvicting() {
	info, err := r.raw.Info(r.ctx, "memory").Result()
	if err != nil {
		return
	}
	if warning := evictionWarning(info); warning != "" {
		glog.Warning(r.ctx, "redis broker: "+warning)
	}
}

// InfoFields reads a reply of Redis's INFO into its fields, by name.
func InfoFields(info string) map[string]string {
	fields := make(map[string]string)
	for _, line := range strings.Split(info, "\n") {
		if key, value, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[key] = value
		}
	}
	return fields
}

// evictionWarning reads the reply of INFO memory: every key the brokers
// write expires on its own, and an evicted presence key is rebuilt by no
// node, so its room keeps wrong counts and member pages until it empties.
// Without a maxmemory, no policy evicts.
func evictionWarning(info string) string {
	fields := InfoFields(info)
	limit, policy := fields["maxmemory"], fields["maxmemory_policy"]
	if limit == "" || limit == "0" || policy == "" || policy == "noeviction" {
		return ""
	}
	return "Redis evicts keys when it reaches maxmemory (" + limit + " bytes, maxmemory-policy " + policy +
		"), presence keys included, and a room whose keys are evicted keeps wrong counts and member pages until it empties; " +
		"set maxmemory-policy noeviction: every key the brokers write expires on its own"
}
