package broker

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// What the streams count against History.MaxBytes is what they cost the
// process, not only their frames' bytes: a kept message also holds its
// Message and its room's name, and a stream kept for a room with no users
// holds its record, epoch and map entry. Rooms used once and left hold no
// frame worth counting, but thousands of them hold megabytes.
const (
	keptMessageBytes  = int64(unsafe.Sizeof(Message{}))
	idleStreamBytes   = 256 // a stream's record, epoch and map entry
	recordedRoomTimes = 2   // its name, as the map's key and the record's
)

// messageCost is what kept message m holds: its frame's whole array, which
// the encoder may have grown past the frame, its own copy of the room's
// name and the Message itself.
func messageCost(m Message) int64 {
	return int64(cap(m.Frame)) + int64(len(m.Target)) + keptMessageBytes
}

// idleCost is what the stream of room holds while the room has no users.
func idleCost(room string) int64 {
	return idleStreamBytes + recordedRoomTimes*int64(len(room))
}

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
	keptBytes atomic.Int64 // what every stream's kept messages and idle records cost
}

type memoryStream struct {
	mu        sync.Mutex
	epoch     string
	offset    uint64
	kept      []Message // the last history.Size messages, oldest first
	keptBytes int64     // what they cost (messageCost)
	idleBytes int64     // idleCost while the room has no users, else 0
	last      time.Time // the last message, or the stream's start
	gone      bool      // swept: look the room up again
}

// expired reports whether st's TTL had passed at now. Called with st.mu
// held.
func (s *memoryStreams) expired(st *memoryStream, now time.Time) bool {
	return now.Sub(st.last) > s.history.TTL
}

// forgetKeptLocked drops what st kept. Called with st.mu held.
func (s *memoryStreams) forgetKeptLocked(st *memoryStream) {
	s.keptBytes.Add(-st.keptBytes)
	st.kept, st.keptBytes = nil, 0
}

// dropLocked forgets st, the stream of room, and all it holds. Called
// with s.mu and st.mu held.
func (s *memoryStreams) dropLocked(room string, st *memoryStream) {
	s.forgetKeptLocked(st)
	s.forgetIdleLocked(st)
	st.gone = true
	delete(s.rooms, room)
}

// forgetIdleLocked stops counting st's record against History.MaxBytes:
// its room has users again, whose stream it is to keep, or the stream
// goes. Called with st.mu held.
func (s *memoryStreams) forgetIdleLocked(st *memoryStream) {
	s.keptBytes.Add(-st.idleBytes)
	st.idleBytes = 0
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
		if s.expired(st, now) {
			if s.occupied(room) {
				s.forgetKeptLocked(st)
				s.forgetIdleLocked(st)
				st.last = now
			} else {
				s.dropLocked(room, st)
			}
		}
		st.mu.Unlock()
	}
}

// endIfExpired forgets room's stream if its TTL has passed, and
// otherwise stops counting its record. Called when the room gets its first
// user: restartIfExpired keeps a stream going while its room has users,
// the new one included.
func (s *memoryStreams) endIfExpired(room string) {
	now := time.Now()
	s.endIf(room, func(st *memoryStream) bool {
		if s.expired(st, now) {
			return true
		}
		s.forgetIdleLocked(st)
		return false
	})
}

// forgetUnused forgets room's stream if no message was ever given an
// offset in it: called when the room loses its last user, so that joins
// of rooms used for nothing leave nothing behind for a TTL. A stream that
// was used is kept for its members' return, and its record counts against
// History.MaxBytes until they do.
func (s *memoryStreams) forgetUnused(room string) {
	s.endIf(room, func(st *memoryStream) bool {
		if st.offset == 0 {
			return true
		}
		if st.idleBytes == 0 && !s.occupied(room) {
			st.idleBytes = idleCost(room)
			s.keptBytes.Add(st.idleBytes)
		}
		return false
	})
}

// endIf forgets room's stream, what it kept included, if ends says so
// with both locks held.
func (s *memoryStreams) endIf(room string, ends func(*memoryStream) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.rooms[room]
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if ends(st) {
		s.dropLocked(room, st)
	}
}

// restartIfExpired begins a new life of a stream whose TTL has passed
// but which no sweep has removed yet, or, while its room has users, only
// forgets what it kept: restarting the offsets under a new epoch would
// have every member take the next messages for ones it has had.
func (s *memoryStreams) restartIfExpired(room string, st *memoryStream, now time.Time) {
	if !s.expired(st, now) {
		return
	}
	s.forgetKeptLocked(st)
	st.last = now
	if !s.occupied(room) {
		st.epoch, st.offset = newEpoch(), 0
	}
}

func (s *memoryStreams) append(m Message) uint64 {
	offset := s.appendLocked(m)
	if limit := s.history.MaxBytes; limit > 0 && s.keptBytes.Load() > limit {
		s.trim(limit * 3 / 4)
	}
	return offset
}

func (s *memoryStreams) appendLocked(m Message) uint64 {
	now := time.Now()
	st := s.stream(m.Target, now)
	defer st.mu.Unlock()
	s.restartIfExpired(m.Target, st, now)
	st.offset++
	st.last = now
	m.Offset, m.Epoch = st.offset, st.epoch
	if s.history.Size > 0 {
		size := messageCost(m)
		if len(st.kept) == s.history.Size {
			size -= messageCost(st.kept[0])
			st.kept = append(st.kept[:0], st.kept[1:]...)
		}
		st.kept = append(st.kept, m)
		st.keptBytes += size
		s.keptBytes.Add(size)
	}
	if s.handler != nil {
		s.handler(m)
	}
	return m.Offset
}

// trim forgets the kept messages of whole rooms until the streams keep at
// most target bytes: the rooms with no users first, which no member
// returns to soon, then those quiet longest. A room with no users loses
// its stream with its messages; a join with since in any of them is told
// recovered false, as after its TTL.
func (s *memoryStreams) trim(target int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type candidate struct {
		room     string
		st       *memoryStream
		occupied bool
		last     time.Time
	}
	var candidates []candidate
	for room, st := range s.rooms {
		st.mu.Lock()
		last, cost := st.last, st.keptBytes+st.idleBytes
		st.mu.Unlock()
		if cost > 0 {
			candidates = append(candidates, candidate{room, st, s.occupied(room), last})
		}
	}
	slices.SortFunc(candidates, func(a, b candidate) int {
		if a.occupied != b.occupied {
			if a.occupied {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.last.UnixNano(), b.last.UnixNano())
	})
	for _, c := range candidates {
		if s.keptBytes.Load() <= target {
			return
		}
		c.st.mu.Lock()
		if c.occupied || s.occupied(c.room) {
			s.forgetKeptLocked(c.st)
		} else {
			s.dropLocked(c.room, c.st)
		}
		c.st.mu.Unlock()
	}
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

// position is room's stream position as Recover would give it, read
// without starting a stream.
func (s *memoryStreams) position(room string) Position {
	s.mu.Lock()
	st := s.rooms[room]
	s.mu.Unlock()
	if st == nil {
		return Position{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone || s.expired(st, time.Now()) && !s.occupied(room) {
		return Position{}
	}
	return Position{Offset: st.offset, Epoch: st.epoch}
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

// Position returns room's stream position without starting a stream.
func (m *Memory) Position(_ context.Context, room string) (Position, error) {
	return m.streams.position(room), nil
}
