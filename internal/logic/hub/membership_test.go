package hub

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/ws"
)

// A membership's filters at their edges. While its join recovers it holds
// the stream's messages, and the pushes behind one of them, and passes
// only the pushes numbered after joinedAt; once live it drops the offsets
// up to the floor its reply covered, in the reply's epoch only, and
// passes a lane's shared frames whole only when it takes every one of
// them.
func TestMembershipFiltersAtTheirEdges(t *testing.T) {
	stream := func(offset uint64) roomPush {
		return roomPush{offset: offset, epoch: "E", frame: ws.NewFrame(fmt.Appendf(nil, `{"event":"o%d"}`, offset))}
	}
	// restarted is a message of the stream after Redis lost it.
	restarted := func(offset uint64) roomPush {
		return roomPush{offset: offset, epoch: "F", frame: ws.NewFrame(fmt.Appendf(nil, `{"event":"r%d"}`, offset))}
	}
	numbered := func(number uint64) roomPush {
		return roomPush{number: number, frame: ws.NewFrame(fmt.Appendf(nil, `{"event":"n%d"}`, number))}
	}
	framesOf := func(batch ...roomPush) []*ws.Frame {
		var frames []*ws.Frame
		for _, p := range batch {
			frames = append(frames, p.frame)
		}
		return frames
	}
	peer := &fakePeer{id: "c1", user: "ann"}
	expect := func(step string, want ...string) {
		t.Helper()
		if got := peer.events(); !slices.Equal(got, want) {
			t.Fatalf("%s: got %v, want %v", step, got, want)
		}
	}
	ms := newMembership(10)
	batch := []roomPush{numbered(10), numbered(11)}
	ms.deliver(peer, roomBatch{pushes: batch, shared: framesOf(batch...)})
	expect("while recovering, with nothing held", "n11")
	batch = []roomPush{stream(4), numbered(12), stream(5), stream(6)}
	ms.deliver(peer, roomBatch{pushes: batch, shared: framesOf(batch...)})
	expect("while recovering, a push after a held stream message")
	ms.live(peer, broker.Position{Offset: 5, Epoch: "E"})
	expect("going live at offset 5", "n12", "o6")

	batch = []roomPush{stream(5), stream(7), numbered(13)}
	ms.deliver(peer, roomBatch{pushes: batch, shared: framesOf(batch...)})
	expect("live, a batch with the offset the reply covered", "o7", "n13")
	batch = []roomPush{stream(8), numbered(10), numbered(14)}
	ms.deliver(peer, roomBatch{pushes: batch, shared: framesOf(batch...)})
	expect("live, a batch with a push from before the join", "o8", "n14")
	// The shared frames carry one more than the batch, so that the peer
	// shows which of the two it was sent.
	batch = []roomPush{stream(9), numbered(15)}
	ms.deliver(peer, roomBatch{pushes: batch, shared: framesOf(stream(9), numbered(15), numbered(16))})
	expect("live, a batch it takes whole", "o9", "n15", "n16")
	batch = []roomPush{restarted(1), restarted(2)}
	ms.deliver(peer, roomBatch{pushes: batch, shared: framesOf(batch...)})
	expect("live, the stream started again from offset 1", "r1", "r2")
}

// A member set holds each member once, through the change from a slice
// to a map at fewMembers, back down to empty, and as a slice again.
func TestMemberSetAcrossItsSizes(t *testing.T) {
	index := map[string]*memberSet{}
	members := make([]*member, 2*fewMembers)
	for i := range members {
		members[i] = &member{}
	}
	check := func(step string, want []*member) {
		t.Helper()
		got := slices.Collect(index["r"].all())
		if index["r"].len() != len(want) || len(got) != len(want) {
			t.Fatalf("%s: %d members (len %d), want %d", step, len(got), index["r"].len(), len(want))
		}
		for _, m := range want {
			if !slices.Contains(got, m) {
				t.Fatalf("%s: a member is missing", step)
			}
		}
	}
	for i, m := range members {
		addTo(index, "r", m)
		addTo(index, "r", m) // again: still once
		check(fmt.Sprint("after adding ", i+1), members[:i+1])
	}
	for i, m := range members {
		removeFrom(index, "r", m)
		check(fmt.Sprint("after removing ", i+1), members[i+1:])
	}
	if _, kept := index["r"]; kept {
		t.Fatal("an empty set stays in the index")
	}
	removeFrom(index, "r", members[0]) // from a set that is gone
	for _, m := range members[:3] {
		addTo(index, "r", m)
	}
	removeFrom(index, "r", members[1])
	check("a few, less the middle one", []*member{members[0], members[2]})
}
