package broker

import (
	"context"
	"sync"

	"github.com/google/btree"
)

var _ Broker = (*Memory)(nil)

// Memory is the broker of a single process: there are no other nodes, so
// Publish has nowhere to go, and presence is an ordered tree of users per
// room, so that a count is its size and a page starts with a search.
type Memory struct {
	mu    sync.Mutex
	rooms map[string]*btree.BTreeG[string]
	// nodes is the spare tree nodes all rooms share: a tree of its own
	// keeps a list of 32, which a room of one user pays 275 bytes for.
	nodes *btree.FreeListG[string]
	// version is the Version of the last presence change.
	version uint64

	streams memoryStreams
}

// treeDegree suits trees of a few to millions of short strings.
const treeDegree = 32

// NewMemory returns an empty in-memory broker that keeps the default
// history.
func NewMemory() *Memory {
	return NewMemoryWithHistory(DefaultHistory())
}

// NewMemoryWithHistory returns an empty in-memory broker keeping history
// of each room's stream.
func NewMemoryWithHistory(history History) *Memory {
	m := &Memory{
		rooms:   make(map[string]*btree.BTreeG[string]),
		nodes:   btree.NewFreeListG[string](btree.DefaultFreeListSize),
		streams: memoryStreams{history: history, rooms: make(map[string]*memoryStream)},
	}
	m.streams.occupied = m.occupied
	return m
}

// occupied reports whether room has users. The streams call it holding
// their own locks, which nothing holding mu ever takes.
func (m *Memory) occupied(room string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms[room] != nil
}

// Publish does nothing: the publishing node has delivered already.
func (m *Memory) Publish(context.Context, Message) error { return nil }

// Subscribe sets the handler of room stream messages, which Append hands
// to this node; no other node ever publishes.
func (m *Memory) Subscribe(h Handler) { m.streams.handler = h }

// Apply adds and removes users, and forgets a room once it is empty.
// The room's stream position is Recover's to tell: it is as cheap.
func (m *Memory) Apply(_ context.Context, changes []Change) ([]Applied, error) {
	applied := make([]Applied, len(changes))
	var entered, emptied []string // rooms that had no users, and that have none now
	m.mu.Lock()
	for i, c := range changes {
		if c.Join && m.rooms[c.Room] == nil {
			entered = append(entered, c.Room)
		}
		applied[i] = m.applyLocked(c)
		if !c.Join && m.rooms[c.Room] == nil {
			emptied = append(emptied, c.Room)
		}
	}
	m.mu.Unlock()
	// Nobody in these rooms held an offset: an expired stream may end
	// now, and the joins start a new one.
	for _, room := range entered {
		m.streams.endIfExpired(room)
	}
	for _, room := range emptied {
		m.streams.forgetUnused(room)
	}
	return applied, nil
}

// applyLocked makes one change and returns the room's users after it.
func (m *Memory) applyLocked(c Change) Applied {
	m.version++
	tree := m.rooms[c.Room]
	if c.Join {
		if tree == nil {
			tree = btree.NewWithFreeListG(treeDegree, btree.Less[string](), m.nodes)
			m.rooms[c.Room] = tree
		}
		_, was := tree.ReplaceOrInsert(c.User)
		return Applied{Users: tree.Len(), Moved: !was, Version: m.version}
	}
	if tree == nil {
		return Applied{Version: m.version}
	}
	_, was := tree.Delete(c.User)
	if tree.Len() == 0 {
		delete(m.rooms, c.Room)
	}
	return Applied{Users: tree.Len(), Moved: was, Version: m.version}
}

// WatchUser returns a closed channel: every user's deliveries are here.
func (m *Memory) WatchUser(string) <-chan struct{} { return closedChan }

// UnwatchUser does nothing.
func (m *Memory) UnwatchUser(string) {}

// WatchRoom returns a closed channel: every room's deliveries are here.
func (m *Memory) WatchRoom(string) <-chan struct{} { return closedChan }

// UnwatchRoom does nothing.
func (m *Memory) UnwatchRoom(string) {}

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Count returns how many users room has.
func (m *Memory) Count(_ context.Context, room string) (Headcount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.headcountLocked(room), nil
}

func (m *Memory) headcountLocked(room string) Headcount {
	count := Headcount{Version: m.version}
	if tree := m.rooms[room]; tree != nil {
		count.Users = tree.Len()
	}
	return count
}

// Page returns up to limit users of room after after, in order.
func (m *Memory) Page(_ context.Context, room, after string, limit int) ([]string, Headcount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	count := m.headcountLocked(room)
	tree := m.rooms[room]
	if tree == nil {
		return nil, count, nil
	}
	users := make([]string, 0, min(limit, tree.Len()))
	tree.AscendGreaterOrEqual(after, func(user string) bool {
		if user == after {
			return true
		}
		users = append(users, user)
		return len(users) < limit
	})
	return users, count, nil
}

// Departed does nothing: a single process has no other node to die.
func (m *Memory) Departed(func(room string, left []Departure)) {}

// Received is always 0: no other node exists.
func (m *Memory) Received() uint64 { return 0 }

// Ready is always true.
func (m *Memory) Ready() bool { return true }

// Clustered is false: the process is the whole cluster.
func (m *Memory) Clustered() bool { return false }

// Close does nothing.
func (m *Memory) Close() error { return nil }
