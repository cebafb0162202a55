package hub

import "sync"

// countRound is one count of a room that callers share.
type countRound struct {
	done  chan struct{}
	count roomCount
}

// sharedCounts lets the callers that count one room at the same time
// share one count: a count that started after a caller asked answers for
// it as well as its own would. The joins of a room whose deliveries are
// still on their way to this node each count it once they arrive; a
// room's first few dozen joins, or the whole room rejoining after a
// restart, would otherwise each make their own call to the broker, at
// once, and through Redis each take a connection from the pool, which
// dials the ones it lacks and closes them again.
type sharedCounts struct {
	mu sync.Mutex
	// running is each room's count under way; next, the one that starts
	// when it ends, which every caller that arrives meanwhile waits on.
	running map[string]*countRound
	next    map[string]*countRound
}

// take returns a count of room, made by count, that started after take
// was called.
func (s *sharedCounts) take(room string, count func() roomCount) roomCount {
	s.mu.Lock()
	if r := s.next[room]; r != nil {
		s.mu.Unlock()
		<-r.done
		return r.count
	}
	r := &countRound{done: make(chan struct{})}
	before := s.running[room]
	if before == nil {
		s.setLocked(&s.running, room, r)
	} else {
		s.setLocked(&s.next, room, r)
	}
	s.mu.Unlock()
	if before != nil {
		<-before.done
		s.mu.Lock()
		delete(s.next, room)
		s.setLocked(&s.running, room, r)
		s.mu.Unlock()
	}
	r.count = count()
	s.mu.Lock()
	if s.running[room] == r {
		delete(s.running, room)
	}
	s.mu.Unlock()
	close(r.done)
	return r.count
}

// setLocked sets (*m)[room], making the map on first use.
func (s *sharedCounts) setLocked(m *map[string]*countRound, room string, r *countRound) {
	if *m == nil {
		*m = make(map[string]*countRound)
	}
	(*m)[room] = r
}
