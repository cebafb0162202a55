// Package hub implements service.IHub: the registry of this node's
// connections by id, by user and by room, and every delivery between them.
// cmd builds one hub per node with New and registers it.
package hub

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

// Config is what a hub reads from the configuration's rooms section.
type Config struct {
	// MaxRoomsPerConnection is how many rooms one connection may be in
	// (rooms.maxPerConnection); 0 means no limit. Default 128.
	MaxRoomsPerConnection int
	// PresenceEventsLimit is the largest room, in users counted after the
	// change, whose members hear room.joined and room.left
	// (rooms.presenceEventsLimit): past it, N members joining would cost
	// N² pushes. 0 turns the pushes off. Default 100.
	PresenceEventsLimit int
	// MaxReplayBytes bounds the bytes a join with since replays at once:
	// a replay over it answers recovered false instead, so that it never
	// takes a connection's send queue past ws.sendQueueBytes. 0 sets no
	// bound. The node sets half of ws.sendQueueBytes.
	MaxReplayBytes int
}

// DefaultConfig returns the defaults of manifest/config/config.yaml.
func DefaultConfig() Config {
	return Config{MaxRoomsPerConnection: 128, PresenceEventsLimit: 100}
}

// subscribeWait bounds how long a new connection waits for its user's
// deliveries, and a join for its room's, to reach this node before it is
// answered anyway.
const subscribeWait = 5 * time.Second

// closed is a channel that never blocks.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// announces reports whether a room of users hears presence pushes.
func (h *sHub) announces(users int) bool {
	return h.cfg.PresenceEventsLimit > 0 && users <= h.cfg.PresenceEventsLimit
}

type sHub struct {
	node   string
	broker broker.Broker
	cfg    Config
	// callerOf returns the connection a WebSocket handler runs for.
	callerOf func(ctx context.Context) model.Peer

	// mu guards the maps and every member's rooms. Deliveries hold it for
	// reading while they enqueue, which never blocks; no socket is ever
	// written under it.
	mu    sync.RWMutex
	conns map[string]*member
	users map[string]*memberSet
	rooms map[string]*memberSet
	// roomUsers counts each room's users on this node: the count a join
	// reports while the other nodes are out of reach.
	roomUsers map[string]int
	// userConns counts each user's connections in each room on this node,
	// so that whether a user is in a room costs the same however many
	// connections the user has.
	userConns map[userRoom]int

	presence presence
	lanes    lanes
	arrivals arrivals
	counts   sharedCounts

	recovered, lost atomic.Uint64 // joins with since, by outcome
}

// member is a registered connection and the rooms it has joined.
type member struct {
	peer  model.Peer
	rooms map[string]*membership
}

// New returns the hub of node, which reaches the other nodes through b
// and receives their deliveries from it.
func New(node string, b broker.Broker, cfg Config) *sHub {
	h := &sHub{
		node:     node,
		broker:   b,
		cfg:      cfg,
		callerOf: wsCaller,
		conns:    make(map[string]*member),
		users:    make(map[string]*memberSet),
		rooms:    make(map[string]*memberSet),

		roomUsers: make(map[string]int),
		userConns: make(map[userRoom]int),
		lanes:     lanes{rooms: make(map[string]*lane)},
	}
	b.Departed(h.departed)
	b.Subscribe(func(m broker.Message) { h.deliver(m, nil) })
	return h
}

// wsCaller returns the WebSocket connection of a handler's ctx.
func wsCaller(ctx context.Context) model.Peer {
	if c := ws.FromContext(ctx); c != nil {
		return c
	}
	return nil
}

// Register adds a new connection. It returns once deliveries to its user
// reach this node from the others, or after subscribeWait.
func (h *sHub) Register(p model.Peer) {
	m := &member{peer: p, rooms: make(map[string]*membership)}
	var subscribed <-chan struct{} = closed
	h.mu.Lock()
	h.conns[p.ID()] = m
	if h.users[p.UserID()].len() == 0 {
		subscribed = h.broker.WatchUser(p.UserID())
	}
	addTo(h.users, p.UserID(), m)
	h.mu.Unlock()
	awaitSubscription(subscribed)
}

// isClosed reports whether a subscription's channel says it is live.
func isClosed(subscribed <-chan struct{}) bool {
	select {
	case <-subscribed:
		return true
	default:
		return false
	}
}

// awaitSubscription waits until subscribed is closed, when the broker has
// confirmed a subscription, or subscribeWait has passed: a node whose
// Redis is slow still answers, serving its own connections meanwhile.
func awaitSubscription(subscribed <-chan struct{}) {
	select {
	case <-subscribed:
		return
	default:
	}
	timer := time.NewTimer(subscribeWait)
	defer timer.Stop()
	select {
	case <-subscribed:
	case <-timer.C:
	}
}

// Unregister removes a closed connection from its user and its rooms; the
// small rooms it was the user's last connection in hear room.left.
func (h *sHub) Unregister(p model.Peer) {
	h.mu.Lock()
	m := h.conns[p.ID()]
	if m == nil {
		h.mu.Unlock()
		return
	}
	delete(h.conns, p.ID())
	removeFrom(h.users, p.UserID(), m)
	if h.users[p.UserID()].len() == 0 {
		h.broker.UnwatchUser(p.UserID())
	}
	var gone []string
	for room := range m.rooms {
		removeFrom(h.rooms, room, m)
		h.broker.UnwatchRoom(room)
		if h.leftLocked(p.UserID(), room) {
			gone = append(gone, room)
		}
	}
	for _, room := range gone {
		h.record(presenceChange{Change: broker.Change{Room: room, User: p.UserID()}})
	}
	h.mu.Unlock()
}

// Counts returns the size of the registry.
func (h *sHub) Counts() model.HubCounts {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return model.HubCounts{Connections: len(h.conns), Users: len(h.users), Rooms: len(h.rooms)}
}

// Connections lists this node's connections, all or those of user.
func (h *sHub) Connections(user string) []model.Connection {
	h.mu.RLock()
	defer h.mu.RUnlock()
	members := h.conns
	if user != "" {
		members = make(map[string]*member, h.users[user].len())
		for m := range h.users[user].all() {
			members[m.peer.ID()] = m
		}
	}
	list := make([]model.Connection, 0, len(members))
	for _, m := range members {
		rooms := make([]string, 0, len(m.rooms))
		for room := range m.rooms {
			rooms = append(rooms, room)
		}
		slices.Sort(rooms)
		list = append(list, model.Connection{
			ConnID:     m.peer.ID(),
			UserID:     m.peer.UserID(),
			RemoteAddr: m.peer.RemoteAddr(),
			Since:      m.peer.Since(),
			Rooms:      rooms,
		})
	}
	slices.SortFunc(list, func(a, b model.Connection) int { return a.Since.Compare(b.Since) })
	return list
}

// deliver hands m to this node's connections, skipping except, and
// returns how many took it. A frame is encoded once for all receivers.
// Pushes to a room count 0 here: a large room's go to its lane, which
// keeps their order.
func (h *sHub) deliver(m broker.Message, except model.Peer) int {
	switch m.Kind {
	case broker.KickUser, broker.KickConn:
		return h.kick(m.Kind, m.Target, string(m.Frame))
	case broker.ToRoom:
		push := roomPush{offset: m.Offset, epoch: m.Epoch, presence: m.Presence, except: except}
		if m.Offset > 0 {
			push.frame = streamFrame(m)
		} else {
			push.frame = ws.NewFrame(m.Frame)
		}
		h.mu.RLock()
		members := h.rooms[m.Target].len()
		h.mu.RUnlock()
		if !h.lanes.add(m.Target, members, &push, h.deliverToRoom) {
			h.deliverToRoom(m.Target, []roomPush{push})
		}
		if m.Offset > 0 {
			h.arrivals.handedOn(m.Target, m.Offset)
		}
		return 0
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	delivered := 0
	frame := ws.NewFrame(m.Frame)
	send := func(p model.Peer) {
		if p != except && p.SendFrames(frame) {
			delivered++
		}
	}
	switch m.Kind {
	case broker.ToUser:
		for mem := range h.users[m.Target].all() {
			send(mem.peer)
		}
	case broker.ToAll:
		for _, mem := range h.conns {
			send(mem.peer)
		}
	}
	return delivered
}

// kick closes the connections a kick names with 4403 and reason, after
// what was queued for them.
func (h *sHub) kick(kind broker.Kind, target, reason string) int {
	type victim struct {
		peer  model.Peer
		rooms map[string]*membership // a copy: the member's may change once mu is released
	}
	var victims []victim
	add := func(m *member) {
		victims = append(victims, victim{peer: m.peer, rooms: maps.Clone(m.rooms)})
	}
	h.mu.RLock()
	if kind == broker.KickConn {
		if m := h.conns[target]; m != nil {
			add(m)
		}
	} else {
		for m := range h.users[target].all() {
			add(m)
		}
	}
	h.mu.RUnlock()
	for _, v := range victims {
		h.closeAfterPushes(v.peer, v.rooms, reason)
	}
	return len(victims)
}

// closeAfterPushes kicks p once the lanes of its rooms have delivered the
// pushes handed to them before the kick, and the holds of its memberships
// under way (a join or a first members page waiting for its reply) have
// ended, sending what they held: a push followed by a kick arrives before
// the close, in a large room as in a small one, and during a join too.
func (h *sHub) closeAfterPushes(p model.Peer, rooms map[string]*membership, reason string) {
	var waiting atomic.Int32
	waiting.Store(2*int32(len(rooms)) + 1)
	done := func() {
		if waiting.Add(-1) == 0 {
			p.Close(ws.CloseKicked, reason)
		}
	}
	for room, ms := range rooms {
		if !h.lanes.after(room, done) {
			done()
		}
		if !ms.afterHold(done) {
			done()
		}
	}
	done()
}

// publish delivers m on this node, then hands it to the other nodes. A
// broker failure does not undo the local delivery; it is returned, and the
// broker logs the outage once.
func (h *sHub) publish(ctx context.Context, m broker.Message, except model.Peer) (int, error) {
	delivered := h.deliver(m, except)
	m.Origin = h.node
	return delivered, h.broker.Publish(ctx, m)
}
