package hub

import (
	"iter"
	"slices"
)

// fewMembers is how many members a memberSet keeps in a slice before it
// takes a map: most rooms and users on a node have a few connections, and
// a map costs about 200 bytes even for one.
const fewMembers = 8

// memberSet is the connections in one room, or of one user, on this node.
// A nil set is empty.
type memberSet struct {
	few  []*member
	many map[*member]struct{}
}

func (s *memberSet) len() int {
	if s == nil {
		return 0
	}
	if s.many != nil {
		return len(s.many)
	}
	return len(s.few)
}

// all yields every member once, in no particular order.
func (s *memberSet) all() iter.Seq[*member] {
	return func(yield func(*member) bool) {
		switch {
		case s == nil:
		case s.many != nil:
			for m := range s.many {
				if !yield(m) {
					return
				}
			}
		default:
			for _, m := range s.few {
				if !yield(m) {
					return
				}
			}
		}
	}
}

func (s *memberSet) add(m *member) {
	switch {
	case s.many != nil:
		s.many[m] = struct{}{}
	case slices.Contains(s.few, m):
	case len(s.few) < fewMembers:
		s.few = append(s.few, m)
	default:
		s.many = make(map[*member]struct{}, 2*fewMembers)
		for _, had := range s.few {
			s.many[had] = struct{}{}
		}
		s.many[m] = struct{}{}
		s.few = nil
	}
}

func (s *memberSet) remove(m *member) {
	if s.many != nil {
		delete(s.many, m)
		return
	}
	if i := slices.Index(s.few, m); i >= 0 {
		last := len(s.few) - 1
		s.few[i], s.few[last] = s.few[last], nil
		s.few = s.few[:last]
	}
}

// addTo adds m to the set of key in index, making the set when needed.
func addTo(index map[string]*memberSet, key string, m *member) {
	set := index[key]
	if set == nil {
		set = &memberSet{}
		index[key] = set
	}
	set.add(m)
}

// removeFrom takes m out of the set of key in index, and the set out of
// index once it is empty.
func removeFrom(index map[string]*memberSet, key string, m *member) {
	set := index[key]
	if set == nil {
		return
	}
	if set.remove(m); set.len() == 0 {
		delete(index, key)
	}
}
