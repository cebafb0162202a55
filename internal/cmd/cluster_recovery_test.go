package cmd_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
)

// A node drained for a deploy closes its clients with 1001; one that
// comes back on another node with since gets every message it missed and
// then the live ones, none twice, while others keep publishing there.
func TestClusterRecoversOnAnotherNode(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	a := launchClusterNode(t, redis, map[string]any{"ws.shutdownTimeout": "5s"})
	b := launchClusterNode(t, redis, nil)
	var publishers []*wstest.Client
	for i := range 2 {
		p := b.dialAs(t, fmt.Sprint("pub", i))
		p.JoinSince("busy", nil)
		publishers = append(publishers, p)
	}
	alice := a.dialAs(t, "alice")
	joined, _ := alice.JoinSince("busy", nil)
	stop := wstest.Publish(t, "busy", publishers...)
	defer stop()
	alice.ExpectStream("busy", joined.Offset, joined.Offset+30)
	last := joined.Offset + 30

	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// What alice reads until the close is hers too: she keeps count.
	for {
		m, err := alice.ReadOrClose(websocket.CloseGoingAway)
		if err != nil {
			break
		}
		if m.Room == "busy" && m.Offset > 0 {
			if m.Offset != last+1 {
				t.Fatalf("before the drain: offset %d after %d", m.Offset, last)
			}
			last = m.Offset
		}
	}

	back := b.dialAs(t, "alice")
	rejoined, replayed := back.JoinSince("busy", &wstest.Since{Offset: last, Epoch: joined.Epoch})
	if rejoined.Recovered == nil || !*rejoined.Recovered || rejoined.Epoch != joined.Epoch {
		t.Fatalf("rejoin on the other node: %+v", rejoined)
	}
	wstest.CheckReplay(t, replayed, last, rejoined.Offset)
	back.ExpectStream("busy", rejoined.Offset, rejoined.Offset+200)
	if got := wstest.Metric(t, b.base, `ws_room_history_recovered_total{result="recovered"}`); got != 1 {
		t.Fatalf("node B counted %v recoveries", got)
	}
}

// A memory node keeps its history in the process: after a restart the
// stream has a new epoch, and a client that comes back reloads.
func TestMemoryNodeRestartStartsANewEpoch(t *testing.T) {
	t.Parallel()
	first := launch(t, map[string]any{"ws.auth.jwtSecret": clusterSecret})
	wstest.WaitFor(t, "the node to be ready", func() bool { return first.status("/readyz") == 200 })
	alice := first.dialAs(t, "alice")
	joined, _ := alice.JoinSince("r", nil)
	alice.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "r", "text": "before"}})
	alice.ExpectStream("r", 0, 1)
	_ = first.cmd.Process.Kill()
	<-first.exited
	first.exited <- nil

	second := launch(t, map[string]any{"ws.auth.jwtSecret": clusterSecret})
	wstest.WaitFor(t, "the new node to be ready", func() bool { return second.status("/readyz") == 200 })
	got, replayed := second.dialAs(t, "alice").JoinSince("r", &wstest.Since{Offset: 1, Epoch: joined.Epoch})
	if got.Recovered == nil || *got.Recovered || got.Epoch == joined.Epoch || got.Offset != 0 || len(replayed) != 0 {
		t.Fatalf("join with the old epoch after a restart: %+v, %d replayed", got, len(replayed))
	}
}

// Through Redis a room keeps exactly rooms.history.size messages: a
// client on another node that missed that many recovers them all, one
// that missed one more recovers nothing and is told so.
func TestClusterHistoryKeepsItsSize(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	history := map[string]any{"rooms.history.size": 3}
	a := launchClusterNode(t, redis, history)
	b := launchClusterNode(t, redis, history)
	bob := a.dialAs(t, "bob")
	joined, _ := bob.JoinSince("h", nil)
	for i := range 5 {
		bob.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "h", "text": fmt.Sprint(i)}})
	}
	bob.ExpectStream("h", joined.Offset, joined.Offset+5)
	last := joined.Offset + 5
	for _, tc := range []struct {
		missed    uint64
		recovered bool
	}{{3, true}, {4, false}} {
		since := last - tc.missed
		got, replayed := b.dialAs(t, fmt.Sprint("u", since)).JoinSince("h", &wstest.Since{Offset: since, Epoch: joined.Epoch})
		if got.Recovered == nil || *got.Recovered != tc.recovered {
			t.Fatalf("%d missed with 3 kept: %+v", tc.missed, got)
		}
		if tc.recovered {
			wstest.CheckReplay(t, replayed, since, last)
		} else if len(replayed) != 0 {
			t.Fatalf("%d missed: %d replayed without recovering", tc.missed, len(replayed))
		}
	}
}
