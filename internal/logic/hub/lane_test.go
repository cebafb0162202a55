package hub

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/model"
)

// In a large room, the messages published while a batch goes out gather
// in the room's lane and reach each member in one run, in offset order.
func TestLargeRoomMessagesGatherWhileABatchGoesOut(t *testing.T) {
	t.Parallel()
	var peers []*fakePeer
	for i := range laneFrom {
		peers = append(peers, &fakePeer{id: fmt.Sprint(i), user: fmt.Sprint("u", i)})
	}
	// The slow member joins last, past the presence limit: it hears
	// nothing before the first message.
	slow := &fakePeer{id: "slow", user: "slow"}
	peers = append(peers, slow)
	h := newTestHub(t, peers...)
	for _, p := range peers {
		if _, err := h.JoinRoom(as(p), model.RoomJoinInput{Room: "big"}); err != nil {
			t.Fatal(err)
		}
	}
	gate, entered := make(chan struct{}), make(chan struct{})
	slow.mu.Lock()
	slow.gate, slow.entered = gate, entered
	slow.mu.Unlock()
	sender := peers[0]
	send := func(text string) {
		t.Helper()
		if _, err := h.SendToRoom(as(sender), "big", text); err != nil {
			t.Fatal(err)
		}
	}
	send("m1")
	// The lane is now stuck in the first batch, at the slow member: the
	// next nine wait in the lane, and the sender is not held up.
	<-entered
	for i := 2; i <= 10; i++ {
		send(fmt.Sprint("m", i))
	}
	close(gate)

	want := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, p := range peers {
		var offsets []uint64
		var runs []int
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && len(offsets) < len(want); time.Sleep(time.Millisecond) {
			p.mu.Lock()
			offsets, runs = offsets[:0], slices.Clone(p.runs)
			for _, m := range p.pushes {
				if m.Event == EventRoomMessage {
					offsets = append(offsets, m.Offset)
				}
			}
			p.mu.Unlock()
		}
		if !slices.Equal(offsets, want) {
			t.Fatalf("%s got offsets %v, want %v", p.user, offsets, want)
		}
		if !slices.Equal(runs[len(runs)-2:], []int{1, 9}) {
			t.Fatalf("%s took the messages in runs %v, want the last two 1 and 9", p.user, runs)
		}
	}
}

// A small room's pushes go out from the publishing goroutine, so the
// sender has its own copy when the call returns.
func TestSmallRoomMessagesGoOutAtOnce(t *testing.T) {
	t.Parallel()
	ann, bob := &fakePeer{id: "1", user: "ann"}, &fakePeer{id: "2", user: "bob"}
	h := newTestHub(t, ann, bob)
	for _, p := range []*fakePeer{ann, bob} {
		if _, err := h.JoinRoom(as(p), model.RoomJoinInput{Room: "small"}); err != nil {
			t.Fatal(err)
		}
	}
	ann.events()
	if _, err := h.SendToRoom(as(ann), "small", "hi"); err != nil {
		t.Fatal(err)
	}
	if got := ann.events(); !slices.Equal(got, []string{EventRoomMessage}) {
		t.Fatalf("the sender had %v when the send returned", got)
	}
	h.lanes.mu.Lock()
	defer h.lanes.mu.Unlock()
	if len(h.lanes.rooms) != 0 {
		t.Fatalf("a small room started a lane: %v", h.lanes.rooms)
	}
}
