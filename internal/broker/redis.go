package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	_ "github.com/gogf/gf/contrib/nosql/redis/v2" // gredis adapter
	"github.com/gogf/gf/v2/database/gredis"
	"github.com/gogf/gf/v2/os/glog"
)

var _ Broker = (*Redis)(nil)

// ErrUnavailable is returned while the broker has lost Redis. The node
// keeps serving its own connections meanwhile.
var ErrUnavailable = errors.New("redis is unavailable: only this node's connections are served")

const maxBackoff = 5 * time.Second

// names builds every Redis key and channel of the broker from one prefix.
// Two applications on one Redis must differ in it: Pub/Sub ignores the
// database number, so a shared prefix mixes their deliveries and presence.
type names struct{ prefix string }

func (n names) deliveries() string          { return n.prefix + ":deliveries" }
func (n names) presence(room string) string { return n.prefix + ":presence:" + room }

// DefaultPrefix is the prefix of an application that configures none: the
// Go module path of the running program, which `gf init -r` changes, so a
// new application never shares names with the template or another one.
func DefaultPrefix() string {
	info, _ := debug.ReadBuildInfo()
	return modulePrefix(info)
}

// modulePrefix is the main module's path from info. `go run main.go`
// builds without module information (the main package is then
// "command-line-arguments"), so it falls back to the module named by this
// package's own import path: an internal package belongs to the module of
// the program that imports it. Both ways give one name for every node of
// an application, however each was built.
func modulePrefix(info *debug.BuildInfo) string {
	if info != nil && info.Main.Path != "" {
		return info.Main.Path
	}
	return strings.TrimSuffix(reflect.TypeFor[names]().PkgPath(), "/internal/broker")
}

// CheckPrefix reports why prefix cannot name Redis keys and channels.
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return errors.New("the prefix is empty; name the application, e.g. \"myapp\"")
	}
	if strings.IndexFunc(prefix, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%q has a space or control character; use letters, digits and punctuation such as \"example.com/myapp\"", prefix)
	}
	return nil
}

// Redis is the broker of a cluster: deliveries go through one Pub/Sub
// channel, which keeps each publisher's order, and presence is a sorted set
// per room whose scores are expiry times, refreshed by every node's
// heartbeat, so the entries of a node that died expire by themselves.
type Redis struct {
	client *gredis.Redis
	names  names
	node   string
	ttl    time.Duration
	local  *Memory // this node's presence, re-sent by each heartbeat

	handler atomic.Pointer[Handler]
	ready   atomic.Bool
	ctx     context.Context
	cancel  context.CancelFunc
	done    sync.WaitGroup

	subMu sync.Mutex
	sub   gredis.Conn // the live subscription, closed by Close
}

// NewRedis connects to Redis with cfg as node of the application whose
// keys and channels start with prefix (one CheckPrefix accepts), and starts
// the subscription and presence heartbeat. Presence entries live for
// presenceTTL unless a heartbeat renews them.
func NewRedis(cfg *gredis.Config, prefix, node string, presenceTTL time.Duration) (*Redis, error) {
	client, err := gredis.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", cfg.Address, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Redis{client: client, names: names{prefix}, node: node, ttl: presenceTTL, local: NewMemory(), ctx: ctx, cancel: cancel}, nil
}

// Publish sends m to the other nodes. While Redis is down it fails at once
// rather than stall the sender.
func (r *Redis) Publish(ctx context.Context, m Message) error {
	if !r.ready.Load() {
		return ErrUnavailable
	}
	_, err := r.client.Do(ctx, "PUBLISH", r.names.deliveries(), encodeMessage(m))
	return err
}

// Subscribe sets the handler of other nodes' messages, then starts the
// subscription and the presence heartbeat: nothing is received before
// there is somebody to hand it to.
func (r *Redis) Subscribe(h Handler) {
	r.handler.Store(&h)
	r.done.Add(2)
	go r.subscribeLoop()
	go r.heartbeatLoop()
}

// Clustered is true: other nodes share the Redis.
func (r *Redis) Clustered() bool { return true }

// Join records user in room, on this node and in Redis.
func (r *Redis) Join(ctx context.Context, room, user string) error {
	_ = r.local.Join(ctx, room, user)
	if !r.ready.Load() {
		return ErrUnavailable // the next heartbeat after recovery adds it
	}
	return r.addPresence(ctx, room, []string{user})
}

// Leave removes user from room. During an outage the entry left in Redis
// expires with its TTL.
func (r *Redis) Leave(ctx context.Context, room, user string) error {
	_ = r.local.Leave(ctx, room, user)
	if !r.ready.Load() {
		return ErrUnavailable
	}
	_, err := r.client.Do(ctx, "ZREM", r.names.presence(room), presenceMember(r.node, user))
	return err
}

// Members returns the users of room on every live node.
func (r *Redis) Members(ctx context.Context, room string) ([]string, error) {
	if !r.ready.Load() {
		return nil, ErrUnavailable
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	v, err := r.client.Do(ctx, "ZRANGEBYSCORE", r.names.presence(room), now, "+inf")
	if err != nil {
		return nil, err
	}
	seen := make(map[string]struct{})
	for _, member := range v.Strings() {
		if _, user, ok := strings.Cut(member, "\x00"); ok {
			seen[user] = struct{}{}
		}
	}
	users := make([]string, 0, len(seen))
	for u := range seen {
		users = append(users, u)
	}
	slices.Sort(users)
	return users, nil
}

// Count returns how many users room has on every live node. It lists
// them: a user on two nodes has two entries, and only the list tells.
func (r *Redis) Count(ctx context.Context, room string) (int, error) {
	users, err := r.Members(ctx, room)
	return len(users), err
}

// Ready reports whether the subscription is live.
func (r *Redis) Ready() bool { return r.ready.Load() }

// Close stops the loops and releases the connections. This node's
// presence is left to expire: a restarting node should not flicker it.
func (r *Redis) Close() error {
	r.cancel()
	r.subMu.Lock()
	if r.sub != nil {
		_ = r.sub.Close(context.Background())
	}
	r.subMu.Unlock()
	r.done.Wait()
	return r.client.Close(context.Background())
}

func (r *Redis) addPresence(ctx context.Context, room string, users []string) error {
	key := r.names.presence(room)
	expiry := time.Now().Add(r.ttl).UnixMilli()
	args := []any{key}
	for _, u := range users {
		args = append(args, expiry, presenceMember(r.node, u))
	}
	if _, err := r.client.Do(ctx, "ZADD", args...); err != nil {
		return err
	}
	// Forget stale members, and the whole key once every node is gone.
	_, _ = r.client.Do(ctx, "ZREMRANGEBYSCORE", key, "-inf", time.Now().UnixMilli())
	_, err := r.client.Do(ctx, "PEXPIRE", key, (2 * r.ttl).Milliseconds())
	return err
}

// subscribeLoop keeps one subscription alive, reconnecting with capped
// exponential backoff and jitter. It logs the outage and the recovery once
// each, not every attempt.
func (r *Redis) subscribeLoop() {
	defer r.done.Done()
	backoff := 100 * time.Millisecond
	var outage error
	for r.ctx.Err() == nil {
		conn, _, err := r.client.Subscribe(r.ctx, r.names.deliveries())
		if err == nil {
			r.setSub(conn)
			r.setReady(true, &outage, nil)
			backoff = 100 * time.Millisecond
			r.heartbeat() // re-add this node's presence at once
			err = r.receive(conn)
			r.setSub(nil)
			_ = conn.Close(context.Background())
		}
		if r.ctx.Err() != nil {
			return
		}
		r.setReady(false, &outage, err)
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(backoff/2 + rand.N(backoff/2)):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// receive reads deliveries until the subscription fails. It uses Receive
// and a type switch, not ReceiveMessage, which can panic on a subscription
// reply.
func (r *Redis) receive(conn gredis.Conn) error {
	for {
		v, err := conn.Receive(r.ctx)
		if err != nil {
			return err
		}
		msg, ok := v.Val().(*gredis.Message)
		if !ok {
			continue // subscription confirmations and pongs
		}
		m, err := decodeMessage(msg.Payload)
		if err != nil {
			glog.Warningf(r.ctx, "redis broker: dropping a malformed delivery: %v", err)
			continue
		}
		if h := r.handler.Load(); h != nil && m.Origin != r.node {
			(*h)(m)
		}
	}
}

func (r *Redis) setSub(conn gredis.Conn) {
	r.subMu.Lock()
	r.sub = conn
	r.subMu.Unlock()
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

// heartbeatLoop renews this node's presence three times per TTL.
func (r *Redis) heartbeatLoop() {
	defer r.done.Done()
	tick := time.NewTicker(r.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
			if r.ready.Load() {
				r.heartbeat()
			}
		}
	}
}

func (r *Redis) heartbeat() {
	r.local.mu.Lock()
	rooms := make(map[string][]string, len(r.local.rooms))
	for room, users := range r.local.rooms {
		for u := range users {
			rooms[room] = append(rooms[room], u)
		}
	}
	r.local.mu.Unlock()
	for room, users := range rooms {
		if err := r.addPresence(r.ctx, room, users); err != nil {
			return // the subscription loop notices the outage and logs it
		}
	}
}

func presenceMember(node, user string) string { return node + "\x00" + user }

// encodeMessage lays m out as kind, then origin, target and frame, each
// prefixed with its length, so that no value needs escaping.
func encodeMessage(m Message) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen32+len(m.Origin)+len(m.Target)+len(m.Frame))
	b = append(b, byte(m.Kind))
	for _, part := range [][]byte{[]byte(m.Origin), []byte(m.Target), m.Frame} {
		b = binary.AppendUvarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	return b
}

func decodeMessage(payload string) (Message, error) {
	b := []byte(payload)
	if len(b) < 1 {
		return Message{}, errors.New("empty payload")
	}
	m := Message{Kind: Kind(b[0])}
	b = b[1:]
	parts := make([][]byte, 3)
	for i := range parts {
		n, size := binary.Uvarint(b)
		if size <= 0 || uint64(len(b)-size) < n {
			return Message{}, errors.New("truncated payload")
		}
		parts[i] = b[size : size+int(n)]
		b = b[size+int(n):]
	}
	m.Origin, m.Target, m.Frame = string(parts[0]), string(parts[1]), parts[2]
	return m, nil
}
