package hub

import (
	"context"
	"slices"
	"testing"

	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

// A kick waits for a hold under way: the pushes a member's join or first
// members page holds until its reply go out before the 4403, and a join
// refused after its hold lets the kick go on.
func TestAKickWaitsForTheHoldOfAJoinUnderWay(t *testing.T) {
	t.Parallel()
	ann := &fakePeer{id: "1", user: "ann"}
	h := newTestHub(t, ann)
	ctx := context.Background()
	for _, refused := range []bool{false, true} {
		if _, err := h.JoinRoom(as(ann), model.RoomJoinInput{Room: "lobby"}); err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		ms := h.conns[ann.id].rooms["lobby"]
		at := ms.holdAgain()
		h.mu.Unlock()
		if _, err := h.PushToRoom(ctx, "lobby", "notice", nil); err != nil {
			t.Fatal(err)
		}
		if err := h.KickConn(ctx, ann.id, "kicked"); err != nil {
			t.Fatal(err)
		}
		ann.mu.Lock()
		closed := ann.closed
		ann.mu.Unlock()
		if closed != 0 {
			t.Fatalf("refused %v: the kick closed ann with %d while her hold kept a push", refused, closed)
		}
		if refused {
			h.takeOut(ann, "lobby", true)
		} else {
			ms.live(ann, at)
		}
		ann.mu.Lock()
		closed = ann.closed
		ann.closed = 0
		ann.mu.Unlock()
		if closed != ws.CloseKicked {
			t.Fatalf("refused %v: ann closed with %d once the hold ended, want %d", refused, closed, ws.CloseKicked)
		}
		if got := ann.events(); !refused && !slices.Contains(got, "notice") {
			t.Fatalf("ann got %v before her kick, no notice", got)
		}
		h.leave(ann, "lobby")
	}
}
