// Package hub implements service.IHub: the registry of this node's
// connections by id, by user and by room, and every delivery between them.
package hub

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/service"
	"github.com/gfws/template-ws/internal/ws"
)

type sHub struct {
	// mu guards the maps and every member's rooms. Deliveries hold it for
	// reading while they enqueue, which never blocks; no socket is ever
	// written under it.
	mu    sync.RWMutex
	conns map[string]*member
	users map[string]map[*member]struct{}
	rooms map[string]map[*member]struct{}

	// presenceMu orders presence updates to the broker, which may do I/O,
	// without holding mu during it.
	presenceMu sync.Mutex

	// cluster is read without mu, so the broker can be reached while
	// presenceMu is held.
	cluster atomic.Pointer[cluster]
}

// cluster is this node's name and the broker to the other nodes.
type cluster struct {
	node   string
	broker broker.Broker
}

// member is a registered connection and the rooms it has joined.
type member struct {
	conn  *ws.Conn
	rooms map[string]struct{}
}

func init() {
	service.RegisterHub(New())
}

// New returns an empty hub on the in-memory broker.
func New() *sHub {
	h := &sHub{
		conns: make(map[string]*member),
		users: make(map[string]map[*member]struct{}),
		rooms: make(map[string]map[*member]struct{}),
	}
	h.cluster.Store(&cluster{broker: broker.NewMemory()})
	return h
}

// Start connects the hub to the cluster as node through b. Until it is
// called the hub runs alone on an in-memory broker.
func (h *sHub) Start(node string, b broker.Broker) {
	h.cluster.Store(&cluster{node: node, broker: b})
	b.Subscribe(func(m broker.Message) {
		if m.Origin != node {
			h.deliver(m, nil)
		}
	})
}

// Broker returns the broker the hub publishes through.
func (h *sHub) Broker() broker.Broker {
	return h.cluster.Load().broker
}

// Register adds a new connection.
func (h *sHub) Register(c *ws.Conn) {
	m := &member{conn: c, rooms: make(map[string]struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns[c.ID()] = m
	addTo(h.users, c.UserID(), m)
}

// Unregister removes a closed connection from its user and its rooms; the
// rooms it was the user's last connection in hear room.left.
func (h *sHub) Unregister(c *ws.Conn) {
	h.mu.Lock()
	m := h.conns[c.ID()]
	if m == nil {
		h.mu.Unlock()
		return
	}
	delete(h.conns, c.ID())
	removeFrom(h.users, c.UserID(), m)
	var gone []string
	for room := range m.rooms {
		removeFrom(h.rooms, room, m)
		if !h.userInRoomLocked(c.UserID(), room) {
			gone = append(gone, room)
		}
	}
	h.presenceMu.Lock()
	h.mu.Unlock()
	ctx := context.WithoutCancel(c.Context())
	for _, room := range gone {
		h.leavePresence(ctx, room, c.UserID())
	}
	h.presenceMu.Unlock()
	for _, room := range gone {
		h.pushToRoom(ctx, room, EventRoomLeft, map[string]string{"room": room, "userId": c.UserID()}, nil)
	}
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
		members = make(map[string]*member, len(h.users[user]))
		for m := range h.users[user] {
			members[m.conn.ID()] = m
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
			ConnID:     m.conn.ID(),
			UserID:     m.conn.UserID(),
			RemoteAddr: m.conn.RemoteAddr(),
			Since:      m.conn.Since(),
			Rooms:      rooms,
		})
	}
	slices.SortFunc(list, func(a, b model.Connection) int { return a.Since.Compare(b.Since) })
	return list
}

// deliver hands m to this node's connections, skipping except, and
// returns how many took it. Frames are prepared once for all receivers.
func (h *sHub) deliver(m broker.Message, except *ws.Conn) int {
	if m.Kind == broker.KickUser || m.Kind == broker.KickConn {
		return h.kick(m.Kind, m.Target, string(m.Frame))
	}
	frame := ws.NewFrame(m.Frame)
	h.mu.RLock()
	defer h.mu.RUnlock()
	delivered := 0
	send := func(c *ws.Conn) {
		if c != except && c.SendFrame(frame) {
			delivered++
		}
	}
	switch m.Kind {
	case broker.ToRoom:
		for mem := range h.rooms[m.Target] {
			send(mem.conn)
		}
	case broker.ToUser:
		for mem := range h.users[m.Target] {
			send(mem.conn)
		}
	case broker.ToAll:
		for _, mem := range h.conns {
			send(mem.conn)
		}
	}
	return delivered
}

// kick closes the connections a kick names with 4403 and reason, after
// what was queued for them.
func (h *sHub) kick(kind broker.Kind, target, reason string) int {
	var victims []*ws.Conn
	h.mu.RLock()
	if kind == broker.KickConn {
		if m := h.conns[target]; m != nil {
			victims = append(victims, m.conn)
		}
	} else {
		for m := range h.users[target] {
			victims = append(victims, m.conn)
		}
	}
	h.mu.RUnlock()
	for _, c := range victims {
		c.Close(ws.CloseKicked, reason)
	}
	return len(victims)
}

// publish delivers m on this node, then hands it to the other nodes. A
// broker failure does not undo the local delivery; it is returned, and the
// broker logs the outage once.
func (h *sHub) publish(ctx context.Context, m broker.Message, except *ws.Conn) (int, error) {
	delivered := h.deliver(m, except)
	cl := h.cluster.Load()
	m.Origin = cl.node
	return delivered, cl.broker.Publish(ctx, m)
}

func addTo(index map[string]map[*member]struct{}, key string, m *member) {
	set := index[key]
	if set == nil {
		set = make(map[*member]struct{})
		index[key] = set
	}
	set[m] = struct{}{}
}

func removeFrom(index map[string]map[*member]struct{}, key string, m *member) {
	delete(index[key], m)
	if len(index[key]) == 0 {
		delete(index, key)
	}
}
