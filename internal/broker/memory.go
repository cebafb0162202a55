package broker

import (
	"context"
	"slices"
	"sync"
)

var _ Broker = (*Memory)(nil)

// Memory is the broker of a single process: there are no other nodes, so
// Publish has nowhere to go, and presence is a map.
type Memory struct {
	mu    sync.Mutex
	rooms map[string]map[string]struct{} // room -> users
}

// NewMemory returns an empty in-memory broker.
func NewMemory() *Memory {
	return &Memory{rooms: make(map[string]map[string]struct{})}
}

// Publish does nothing: the publishing node has delivered already.
func (m *Memory) Publish(context.Context, Message) error { return nil }

// Subscribe does nothing: no other node ever publishes.
func (m *Memory) Subscribe(Handler) {}

// Join adds user to room.
func (m *Memory) Join(_ context.Context, room, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	users := m.rooms[room]
	if users == nil {
		users = make(map[string]struct{})
		m.rooms[room] = users
	}
	users[user] = struct{}{}
	return nil
}

// Leave removes user from room, and the room once it is empty.
func (m *Memory) Leave(_ context.Context, room, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rooms[room], user)
	if len(m.rooms[room]) == 0 {
		delete(m.rooms, room)
	}
	return nil
}

// Members returns the users in room, sorted.
func (m *Memory) Members(_ context.Context, room string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	users := make([]string, 0, len(m.rooms[room]))
	for u := range m.rooms[room] {
		users = append(users, u)
	}
	slices.Sort(users)
	return users, nil
}

// Count returns how many users room has, without listing them.
func (m *Memory) Count(_ context.Context, room string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rooms[room]), nil
}

// Ready is always true.
func (m *Memory) Ready() bool { return true }

// Clustered is false: the process is the whole cluster.
func (m *Memory) Clustered() bool { return false }

// Close does nothing.
func (m *Memory) Close() error { return nil }
