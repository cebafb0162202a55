package hub

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

// These tests drive one hub through fake peers, without sockets, so they
// run in parallel; hub_test.go drives real nodes.

// fakePeer records what the hub sends it.
type fakePeer struct {
	id, user string

	mu      sync.Mutex
	pushes  []push
	runs    []int         // how many frames each SendFrames call queued
	gate    chan struct{} // when set, SendFrames waits for it to close
	entered chan struct{} // when set, closed as SendFrames first waits
	closed  int           // the close code, 0 while open
}

type push struct {
	Event  string         `json:"event"`
	Offset uint64         `json:"offset"`
	Data   map[string]any `json:"data"`
}

func (p *fakePeer) ID() string         { return p.id }
func (p *fakePeer) UserID() string     { return p.user }
func (p *fakePeer) RemoteAddr() string { return "127.0.0.1" }
func (p *fakePeer) Since() time.Time   { return time.Time{} }

func (p *fakePeer) SendReplay(frames ...*ws.Frame) bool { return p.SendFrames(frames...) }

func (p *fakePeer) SendFrames(frames ...*ws.Frame) bool {
	p.mu.Lock()
	gate, entered := p.gate, p.entered
	p.entered = nil
	p.mu.Unlock()
	if entered != nil {
		close(entered)
	}
	if gate != nil {
		<-gate
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runs = append(p.runs, len(frames))
	for _, f := range frames {
		var m push
		if err := json.Unmarshal(f.Text(), &m); err != nil {
			panic(err)
		}
		p.pushes = append(p.pushes, m)
	}
	return p.closed == 0
}

func (p *fakePeer) Close(code int, _ string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = code
}

// events returns the events received so far and forgets them.
func (p *fakePeer) events() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var events []string
	for _, m := range p.pushes {
		events = append(events, m.Event)
	}
	p.pushes = nil
	return events
}

type peerKey struct{}

// newTestHub returns a hub alone on a memory broker whose handlers' caller
// is the peer in ctx, and registered peers.
func newTestHub(t testing.TB, peers ...*fakePeer) *sHub {
	t.Helper()
	return newTestHubOn(t, broker.NewMemory(), peers...)
}

func newTestHubOn(t testing.TB, b broker.Broker, peers ...*fakePeer) *sHub {
	t.Helper()
	h := New("test-node", b, Config{MaxRoomsPerConnection: 3, PresenceEventsLimit: 2})
	h.callerOf = func(ctx context.Context) model.Peer {
		p, _ := ctx.Value(peerKey{}).(*fakePeer)
		if p == nil {
			return nil
		}
		return p
	}
	for _, p := range peers {
		h.Register(p)
	}
	return h
}

func as(p *fakePeer) context.Context { return context.WithValue(context.Background(), peerKey{}, p) }

func TestJoinTellsTheOthersAndCountsUsers(t *testing.T) {
	t.Parallel()
	ann, annPhone, bob := &fakePeer{id: "1", user: "ann"}, &fakePeer{id: "2", user: "ann"}, &fakePeer{id: "3", user: "bob"}
	h := newTestHub(t, ann, annPhone, bob)
	if n, err := h.JoinRoom(as(ann), model.RoomJoinInput{Room: "lobby"}); err != nil || n.Members != 1 {
		t.Fatalf("first join: %+v %v", n, err)
	}
	if n, err := h.JoinRoom(as(bob), model.RoomJoinInput{Room: "lobby"}); err != nil || n.Members != 2 {
		t.Fatalf("second join: %+v %v", n, err)
	}
	if got := ann.events(); !slices.Equal(got, []string{EventRoomJoined}) {
		t.Fatalf("ann heard %v", got)
	}
	if got := bob.events(); len(got) != 0 {
		t.Fatalf("the joining connection heard %v", got)
	}
	// A second device of a user already in the room changes no presence.
	if n, err := h.JoinRoom(as(annPhone), model.RoomJoinInput{Room: "lobby"}); err != nil || n.Members != 2 {
		t.Fatalf("second device: %+v %v", n, err)
	}
	if got := bob.events(); len(got) != 0 {
		t.Fatalf("a second device was announced: %v", got)
	}
	h.Unregister(ann)
	if got := bob.events(); len(got) != 0 {
		t.Fatalf("one of ann's devices leaving was announced: %v", got)
	}
	h.Unregister(annPhone)
	waitEvents(t, bob, EventRoomLeft)
	if c := h.Counts(); c != (model.HubCounts{Connections: 1, Users: 1, Rooms: 1}) {
		t.Fatalf("counts %+v", c)
	}
}

func TestPublishToRoomIsForMembers(t *testing.T) {
	t.Parallel()
	ann, bob, eve := &fakePeer{id: "1", user: "ann"}, &fakePeer{id: "2", user: "bob"}, &fakePeer{id: "3", user: "eve"}
	h := newTestHub(t, ann, bob, eve)
	for _, p := range []*fakePeer{ann, bob} {
		if _, err := h.JoinRoom(as(p), model.RoomJoinInput{Room: "lobby"}); err != nil {
			t.Fatal(err)
		}
	}
	ann.events()
	typing := model.RoomEventInput{Room: "lobby", Event: "chat.typing", Data: map[string]string{"userId": "ann"}}
	if err := h.PublishToRoom(as(ann), typing); err != nil {
		t.Fatal(err)
	}
	if got := ann.events(); len(got) != 0 {
		t.Fatalf("the sender heard its own typing: %v", got)
	}
	if got := bob.events(); !slices.Equal(got, []string{"chat.typing"}) {
		t.Fatalf("bob heard %v", got)
	}
	if _, err := h.SendToRoom(as(ann), "lobby", "hi"); err != nil {
		t.Fatal(err)
	}
	if got := ann.events(); !slices.Equal(got, []string{EventRoomMessage}) {
		t.Fatalf("a room.message does reach its sender: %v", got)
	}
	err := h.PublishToRoom(as(eve), typing)
	if gerror.Code(err) != gcode.CodeNotAuthorized {
		t.Fatalf("a non-member published: %v", err)
	}
	if got := bob.events(); !slices.Equal(got, []string{EventRoomMessage}) {
		t.Fatalf("bob heard %v after a non-member's attempt", got)
	}
	if err := h.PublishToRoom(context.Background(), typing); gerror.Code(err) != gcode.CodeInvalidOperation {
		t.Fatalf("published without a connection: %v", err)
	}
}

func TestPushesAndKicksByTarget(t *testing.T) {
	t.Parallel()
	ann, annPhone, bob := &fakePeer{id: "1", user: "ann"}, &fakePeer{id: "2", user: "ann"}, &fakePeer{id: "3", user: "bob"}
	h := newTestHub(t, ann, annPhone, bob)
	ctx := context.Background()
	if n, err := h.PushToUser(ctx, "ann", "notice", nil); err != nil || n != 2 {
		t.Fatalf("push to ann's devices: %d %v", n, err)
	}
	if n, err := h.PushToAll(ctx, "bell", nil); err != nil || n != 3 {
		t.Fatalf("push to all: %d %v", n, err)
	}
	if n, err := h.PushToRoom(ctx, "empty", "x", nil); err != nil || n != 0 {
		t.Fatalf("push to an empty room: %d %v", n, err)
	}
	if got := bob.events(); !slices.Equal(got, []string{"bell"}) {
		t.Fatalf("bob heard %v", got)
	}
	if err := h.KickConn(ctx, "3", "kicked"); err != nil || bob.closed != ws.CloseKicked {
		t.Fatalf("kick bob's connection: %v, closed %d", err, bob.closed)
	}
	if err := h.KickConn(ctx, "nobody", "kicked"); gerror.Code(err) != gcode.CodeNotFound {
		t.Fatalf("kick of a connection nobody holds, alone: %v", err)
	}
	if n, err := h.KickUser(ctx, "ann", "kicked"); err != nil || n != 2 || ann.closed != ws.CloseKicked || annPhone.closed != ws.CloseKicked {
		t.Fatalf("kick ann: %d %v", n, err)
	}
}

func TestRoomsPerConnectionAreCapped(t *testing.T) {
	t.Parallel()
	ann := &fakePeer{id: "1", user: "ann"}
	h := newTestHub(t, ann)
	for _, room := range []string{"a", "b", "c", "c"} {
		if _, err := h.JoinRoom(as(ann), model.RoomJoinInput{Room: room}); err != nil {
			t.Fatalf("join %s: %v", room, err)
		}
	}
	_, err := h.JoinRoom(as(ann), model.RoomJoinInput{Room: "d"})
	if gerror.Code(err) != gcode.CodeServerBusy || !strings.Contains(err.Error(), "rooms.maxPerConnection") {
		t.Fatalf("a fourth room: %v", err)
	}
	if err := h.LeaveRoom(as(ann), "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.JoinRoom(as(ann), model.RoomJoinInput{Room: "d"}); err != nil {
		t.Fatalf("a room after leaving one: %v", err)
	}
}

// cutOff is a broker whose other nodes are out of reach.
type cutOff struct{ *broker.Memory }

func (c cutOff) Apply(ctx context.Context, changes []broker.Change) ([]broker.Applied, error) {
	_, _ = c.Memory.Apply(ctx, changes)
	return nil, broker.ErrUnavailable
}

func (cutOff) Page(context.Context, string, string, int) ([]string, broker.Headcount, error) {
	return nil, broker.Headcount{}, broker.ErrUnavailable
}

func (cutOff) Count(context.Context, string) (broker.Headcount, error) {
	return broker.Headcount{}, broker.ErrUnavailable
}

func (cutOff) Append(context.Context, broker.Message) (uint64, error) {
	return 0, broker.ErrUnavailable
}

func (cutOff) Recover(context.Context, string, *broker.Position) (broker.Recovery, error) {
	return broker.Recovery{}, broker.ErrUnavailable
}

func (cutOff) Position(context.Context, string) (broker.Position, error) {
	return broker.Position{}, broker.ErrUnavailable
}

// A join during a broker outage works on this node and says its count is
// this node's only.
func TestJoinDuringAnOutageCountsLocally(t *testing.T) {
	t.Parallel()
	ann, bob := &fakePeer{id: "1", user: "ann"}, &fakePeer{id: "2", user: "bob"}
	h := newTestHubOn(t, cutOff{broker.NewMemory()}, ann, bob)
	if _, err := h.JoinRoom(as(ann), model.RoomJoinInput{Room: "lobby"}); err != nil {
		t.Fatal(err)
	}
	out, err := h.JoinRoom(as(bob), model.RoomJoinInput{Room: "lobby"})
	if err != nil || out != (model.RoomJoinOutput{Members: 2, Local: true}) {
		t.Fatalf("join during an outage: %+v %v", out, err)
	}
	if _, err := h.SendToRoom(as(bob), "lobby", "still here"); err != nil {
		t.Fatalf("send after joining during an outage: %v", err)
	}
}

// waitUntil polls cond every millisecond until it holds, failing the test
// after 5s: wstest's WaitFor is out of reach here, since wstest imports
// the hub.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
	}
}

// waitEvents polls p until it has received want, or fails after a few
// seconds: room.left goes out from the presence queue.
func waitEvents(t *testing.T, p *fakePeer, want ...string) {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if got = append(got, p.events()...); len(got) >= len(want) {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s heard %v, want %v", p.user, got, want)
	}
}

// Presence pushes stop past rooms.presenceEventsLimit (2 here), counted
// after the change: N joins into a large room cost N, not N².
func TestPresencePushesStopPastTheLimit(t *testing.T) {
	t.Parallel()
	ann, bob, cid := &fakePeer{id: "1", user: "ann"}, &fakePeer{id: "2", user: "bob"}, &fakePeer{id: "3", user: "cid"}
	h := newTestHub(t, ann, bob, cid)
	for _, p := range []*fakePeer{ann, bob, cid} {
		if _, err := h.JoinRoom(as(p), model.RoomJoinInput{Room: "big"}); err != nil {
			t.Fatal(err)
		}
	}
	// bob made it two: announced; cid made it three: not.
	waitEvents(t, ann, EventRoomJoined)
	if got := bob.events(); len(got) != 0 {
		t.Fatalf("bob heard %v", got)
	}
	// cid leaving makes it two again: announced.
	if err := h.LeaveRoom(as(cid), "big"); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, ann, EventRoomLeft)
	waitEvents(t, bob, EventRoomLeft)
}

// Pages walk a room in user order with no duplicate and no gap, and each
// says how many users the room has.
func TestRoomMembersAreWalkedInPages(t *testing.T) {
	t.Parallel()
	var peers []*fakePeer
	for i := range 7 {
		peers = append(peers, &fakePeer{id: string(rune('a' + i)), user: "user-" + string(rune('g'-i))})
	}
	h := newTestHub(t, peers...)
	for _, p := range peers {
		if _, err := h.JoinRoom(as(p), model.RoomJoinInput{Room: "paged"}); err != nil {
			t.Fatal(err)
		}
	}
	var walked []string
	after := ""
	for range 10 {
		page, err := h.RoomMembers(context.Background(), model.RoomMembersInput{Room: "paged", Limit: 3, After: after})
		if err != nil || page.Count != 7 || len(page.Users) > 3 {
			t.Fatalf("page after %q: %+v %v", after, page, err)
		}
		walked = append(walked, page.Users...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	want := []string{"user-a", "user-b", "user-c", "user-d", "user-e", "user-f", "user-g"}
	if !slices.Equal(walked, want) {
		t.Fatalf("walked %v, want %v", walked, want)
	}
}
