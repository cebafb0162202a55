package hub

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

// In a large room, the messages published while a batch goes out gather
// in the room's lane and reach each member in one run, in offset order.
func TestLargeRoomMessagesGatherWhileABatchGoesOut(t *testing.T) {
	t.Parallel()
	h, peers, gate := stuckLane(t)
	sender := peers[0]
	send := func(text string) {
		t.Helper()
		if _, err := h.SendToRoom(as(sender), "big", text); err != nil {
			t.Fatal(err)
		}
	}
	// The lane is stuck in the first batch, at the slow member: the next
	// nine wait in the lane, and the sender is not held up.
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

// stuckLane returns a hub with a room "big" of laneFrom members and a slow
// one, whose lane is stuck delivering message m1 to the slow member until
// gate closes.
func stuckLane(t *testing.T) (h *sHub, peers []*fakePeer, gate chan struct{}) {
	t.Helper()
	for i := range laneFrom {
		peers = append(peers, &fakePeer{id: fmt.Sprint(i), user: fmt.Sprint("u", i)})
	}
	// The slow member joins last, past the presence limit: it hears
	// nothing before the first message.
	slow := &fakePeer{id: "slow", user: "slow"}
	peers = append(peers, slow)
	h = newTestHub(t, peers...)
	for _, p := range peers {
		if _, err := h.JoinRoom(as(p), model.RoomJoinInput{Room: "big"}); err != nil {
			t.Fatal(err)
		}
	}
	gate, entered := make(chan struct{}), make(chan struct{})
	slow.mu.Lock()
	slow.gate, slow.entered = gate, entered
	slow.mu.Unlock()
	if _, err := h.SendToRoom(as(peers[0]), "big", "m1"); err != nil {
		t.Fatal(err)
	}
	<-entered
	return h, peers, gate
}

// A push waiting in a large room's lane when a connection joins is not
// the joiner's: a room.joined counted in its reply does not come again.
func TestAJoinDoesNotTakeWhatTheLaneHeldBeforeIt(t *testing.T) {
	t.Parallel()
	h, peers, gate := stuckLane(t)
	// A push from another node reaches the lane while it is stuck.
	frame, err := ws.EncodePush(EventRoomJoined, map[string]string{"room": "big", "userId": "remote"})
	if err != nil {
		t.Fatal(err)
	}
	h.deliver(broker.Message{Kind: broker.ToRoom, Target: "big", Frame: frame}, nil)
	// The lane finishes its first batch and waits to take the push while
	// late joins.
	h.lanes.mu.Lock()
	close(gate)
	late := &fakePeer{id: "late", user: "late"}
	h.Register(late)
	if _, err := h.JoinRoom(as(late), model.RoomJoinInput{Room: "big"}); err != nil {
		h.lanes.mu.Unlock()
		t.Fatal(err)
	}
	h.lanes.mu.Unlock()
	waitUntil(t, "the lane to finish delivering", func() bool {
		h.lanes.mu.Lock()
		defer h.lanes.mu.Unlock()
		return len(h.lanes.rooms) == 0
	})
	if got := peers[1].events(); !slices.Equal(got, []string{EventRoomMessage, EventRoomJoined}) {
		t.Fatalf("a member before the push got %v, want the message and the push", got)
	}
	if got := late.events(); len(got) != 0 {
		t.Fatalf("the late joiner got %v, pushed before it joined", got)
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

// A sender that finds a large room's lane full waits for it to drain and
// then goes on: the lane holds at most laneLimit pushes, and no message is
// lost for the wait.
func TestAFullLaneHoldsItsSenderUntilItDrains(t *testing.T) {
	t.Parallel()
	h, peers, gate := stuckLane(t)
	sent := make(chan error, 1)
	go func() {
		// m1 is in the stuck batch; these fill the lane and one more.
		for i := 2; i <= laneLimit+2; i++ {
			if _, err := h.SendToRoom(as(peers[0]), "big", fmt.Sprint("m", i)); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	waitUntil(t, "the lane to fill", func() bool {
		h.lanes.mu.Lock()
		held := len(h.lanes.rooms["big"].pending)
		h.lanes.mu.Unlock()
		if held > laneLimit {
			t.Fatalf("the lane holds %d pushes, over laneLimit %d", held, laneLimit)
		}
		return held == laneLimit
	})
	close(gate)
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sender was still waiting 5s after the lane drained")
	}
	last := peers[len(peers)-1]
	waitUntil(t, fmt.Sprintf("the slow member to get all %d messages", laneLimit+2), func() bool {
		last.mu.Lock()
		defer last.mu.Unlock()
		return len(last.pushes) == laneLimit+2
	})
}
