package hub

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

// A kick waits for a hold under way: the pushes a member's repeat join or
// first members page holds until its reply go out before the 4403.
func TestAKickWaitsForTheHoldOfAJoinUnderWay(t *testing.T) {
	t.Parallel()
	ann := &fakePeer{id: "1", user: "ann"}
	h := newTestHub(t, ann)
	ctx := context.Background()
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
	if closed := closedWith(ann); closed != 0 {
		t.Fatalf("the kick closed ann with %d while her hold kept a push", closed)
	}
	ms.live(ann, at)
	if closed := closedWith(ann); closed != ws.CloseKicked {
		t.Fatalf("ann closed with %d once the hold ended, want %d", closed, ws.CloseKicked)
	}
	if got := ann.events(); !slices.Contains(got, "notice") {
		t.Fatalf("ann got %v before her kick, no notice", got)
	}
}

// A kick that found a member in a join's hold, which the join's refusal
// then took out of the room before the kick waited on it, closes it
// anyway: no hold of a membership taken out ends any more.
func TestAKickOfAMemberWhoseJoinWasRefusedCloses(t *testing.T) {
	t.Parallel()
	ann := &fakePeer{id: "1", user: "ann"}
	h := newTestHub(t, ann)
	// A join under way, registered as JoinRoom registers it.
	h.mu.Lock()
	m := h.conns[ann.id]
	h.enteredLocked(ann.user, "lobby")
	ms := newMembership(h.lanes.numbered.Load())
	m.rooms["lobby"] = ms
	addTo(h.rooms, "lobby", m)
	h.mu.Unlock()
	// The kick gathers its victim's rooms and memberships, the join is
	// refused, then the kick waits on what it gathered.
	h.takeOut(ann, "lobby", true)
	h.closeAfterPushes(ann, map[string]*membership{"lobby": ms}, "kicked")
	if closed := closedWith(ann); closed != ws.CloseKicked {
		t.Fatalf("ann closed with %d, want %d", closed, ws.CloseKicked)
	}
}

// closedWith returns p's close code, 0 while it is open.
func closedWith(p *fakePeer) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// unreachable is a broker that can tell the other nodes nothing.
type unreachable struct{ cutOff }

func (unreachable) Publish(context.Context, broker.Message) error { return broker.ErrUnavailable }

// A kick of a user while the other nodes cannot be reached closes the
// user's connections here and says the others were not told: their
// connections there stay open.
func TestAKickOfAUserDuringAnOutageSaysTheOtherNodesMissedIt(t *testing.T) {
	t.Parallel()
	ann := &fakePeer{id: "1", user: "ann"}
	h := newTestHubOn(t, unreachable{cutOff{broker.NewMemory()}}, ann)
	closed, err := h.KickUser(context.Background(), "ann", "kicked")
	if closed != 1 || closedWith(ann) != ws.CloseKicked {
		t.Fatalf("closed %d here, ann's code %d", closed, closedWith(ann))
	}
	if gerror.Code(err) != gcode.CodeServerBusy || !strings.Contains(err.Error(), "kick again") {
		t.Fatalf("a kick the other nodes missed reported %v", err)
	}
}
