package broker

import (
	"context"
	"sync"
	"time"
)

// memoryStreams keeps the room streams of a single process. Appending
// takes the stream's lock, so a room's messages reach the handler, and so
// every connection, in offset order; a join's Recover takes the same lock,
// so it sees exactly the messages delivered before it.
type memoryStreams struct {
	history History
	handler Handler
	// occupied reports whether a room has users. Their offsets must stay
	// valid, so such a room's stream outlives its TTL; only the messages
	// it kept expire.
	occupied func(room string) bool

	mu        sync.Mutex
	rooms     map[string]*memoryStream
	lastSweep time.Time
}

type memoryStream struct {
	mu     sync.Mutex
	epoch  string
	offset uint64
	kept   []Message // the last history.Size messages, oldest first
	last   time.Time // the last message, or the stream's start
	gone   bool      // swept: look the room up again
}

// stream returns room's stream, locked, starting a new one when it has
// none.
func (s *memoryStreams) stream(room string, now time.Time) *memoryStream {
	for {
		s.mu.Lock()
		if now.Sub(s.lastSweep) > s.history.TTL/2 {
			s.sweepLocked(now)
		}
		st := s.rooms[room]
		if st == nil {
			st = &memoryStream{epoch: newEpoch(), last: now}
			s.rooms[room] = st
		}
		s.mu.Unlock()
		st.mu.Lock()
		if !st.gone {
			return st
		}
		st.mu.Unlock()
	}
}

// sweepLocked forgets the streams whose TTL has passed, so that a room
// used once does not hold memory for the life of the process.
func (s *memoryStreams) sweepLocked(now time.Time) {
	s.lastSweep = now
	for room, st := range s.rooms {
		st.mu.Lock()
		if now.Sub(st.last) > s.history.TTL {
			if s.occupied(room) {
				st.kept, st.last = nil, now
			} else {
				st.gone = true
				delete(s.rooms, room)
			}
		}
		st.mu.Unlock()
	}
}

// endIfExpired forgets room's stream if its TTL has passed. Called when
// the room gets its first user: restartIfExpired keeps a stream going
// while its room has users, the new one included.
func (s *memoryStreams) endIfExpired(room string) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.rooms[room]
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if now.Sub(st.last) > s.history.TTL {
		st.gone = true
		delete(s.rooms, room)
	}
}

// restartIfExpired begins a new life of a stream whose TTL has passed
// but which no sweep has removed yet, or, while its room has users, only
// forgets what it kept: restarting the offsets under a new epoch would
// have every member take the next messages for ones it has had.
func (s *memoryStreams) restartIfExpired(room string, st *memoryStream, now time.Time) {
	switch {
	case now.Sub(st.last) <= s.history.TTL:
	case s.occupied(room):
		st.kept, st.last = nil, now
	default:
		st.epoch, st.offset, st.kept, st.last = newEpoch(), 0, nil, now
	}
}

func (s *memoryStreams) append(m Message) uint64 {
	now := time.Now()
	st := s.stream(m.Target, now)
	defer st.mu.Unlock()
	s.restartIfExpired(m.Target, st, now)
	st.offset++
	st.last = now
	m.Offset = st.offset
	if s.history.Size > 0 {
		if len(st.kept) == s.history.Size {
			st.kept = append(st.kept[:0], st.kept[1:]...)
		}
		st.kept = append(st.kept, m)
	}
	if s.handler != nil {
		s.handler(m)
	}
	return m.Offset
}

func (s *memoryStreams) recover(room string, since *Position) (Recovery, error) {
	now := time.Now()
	st := s.stream(room, now)
	defer st.mu.Unlock()
	s.restartIfExpired(room, st, now)
	rec := Recovery{Position: Position{Offset: st.offset, Epoch: st.epoch}}
	if since == nil || since.Epoch != st.epoch {
		return rec, nil
	}
	if since.Offset > st.offset {
		return rec, ErrSinceBeyond
	}
	missed := int(st.offset - since.Offset)
	if s.history.Size == 0 || missed > len(st.kept) {
		return rec, nil
	}
	rec.Recovered = true
	rec.Missed = append([]Message(nil), st.kept[len(st.kept)-missed:]...)
	return rec, nil
}

// Append gives m the next offset of its room's stream, keeps it, and
// hands it to this node's handler: there is no other node.
func (m *Memory) Append(_ context.Context, msg Message) (uint64, error) {
	return m.streams.append(msg), nil
}

// Recover returns room's stream position and what a join with since
// missed.
func (m *Memory) Recover(_ context.Context, room string, since *Position) (Recovery, error) {
	return m.streams.recover(room, since)
}
