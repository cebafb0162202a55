package broker_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// linkedBroker is a subscribed broker that reaches redis through a link
// the test can cut, handing what it receives to a channel.
func linkedBroker(t *testing.T, redis *wstest.Redis, node string) (*broker.Redis, *link, chan broker.Message) {
	t.Helper()
	l := startLink(t, redis.Addr())
	handle, got := collect()
	b := newBrokerThrough(t, l.addr(), node, handle)
	return b, l, got
}

// streamOf reads got until each room of want has had its count of stream
// messages, and returns each room's as offset@epoch, in the order received.
func streamOf(t *testing.T, got <-chan broker.Message, want map[string]int) map[string][]string {
	t.Helper()
	seen := map[string][]string{}
	for behind := len(want); behind > 0; {
		m := receive(t, got, "the node")
		n, ok := want[m.Target]
		if !ok || m.Offset == 0 {
			continue
		}
		if seen[m.Target] = append(seen[m.Target], fmt.Sprintf("%d@%s", m.Offset, m.Epoch)); len(seen[m.Target]) == n {
			behind--
		}
	}
	return seen
}

// offsets are epoch's offsets from..through as streamOf gives them.
func offsets(epoch string, from, through uint64) []string {
	var s []string
	for o := from; o <= through; o++ {
		s = append(s, fmt.Sprintf("%d@%s", o, epoch))
	}
	return s
}

// A node whose subscription lapses while its room's stream starts again
// (Redis lost the keys, or the stream expired) still hands on what the new
// stream published meanwhile, from its first offset, once it is back: the
// catch-up follows the stream into its new epoch instead of giving up on
// it, whether the room stays quiet or publishes again.
func TestCatchUpFollowsANewEpoch(t *testing.T) {
	redis := wstest.StartRedis(t)
	a := newRedisBroker(t, redis, testPrefix, "a", nil)
	b, l, got := linkedBroker(t, redis, "b")
	ctx := context.Background()
	appendTo := func(room string, n int) string {
		t.Helper()
		for range n {
			if _, err := a.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
		head, err := a.Recover(ctx, room, nil)
		if err != nil {
			t.Fatal(err)
		}
		return head.Epoch
	}
	rooms := []string{"quiet", "busy"}
	old := map[string]string{}
	for _, room := range rooms {
		join(t, b, room, "bob")
		old[room] = appendTo(room, 3)
		if seen := streamOf(t, got, map[string]int{room: 3})[room]; !slices.Equal(seen, offsets(old[room], 1, 3)) {
			t.Fatalf("room %s before the lapse: %v", room, seen)
		}
	}

	l.cut()
	wstest.WaitFor(t, "b to lose its subscription", func() bool { return !b.Ready() })
	renewed := map[string]string{}
	for _, room := range rooms {
		// The stream is lost: the next message starts it again.
		redis.Do(t, "DEL", testPrefix+":stream:"+room, testPrefix+":history:"+room)
		renewed[room] = appendTo(room, 2)
		if renewed[room] == old[room] {
			t.Fatalf("room %s kept its epoch", room)
		}
	}
	l.mend()
	wstest.WaitFor(t, "b to be back", b.Ready)
	// The quiet room publishes nothing more; the busy one does, and its
	// catch-up may come with that message. Either way nothing of the new
	// streams is skipped.
	appendTo("busy", 1)
	seen := streamOf(t, got, map[string]int{"quiet": 2, "busy": 3})
	if !slices.Equal(seen["quiet"], offsets(renewed["quiet"], 1, 2)) || !slices.Equal(seen["busy"], offsets(renewed["busy"], 1, 3)) {
		t.Fatalf("after the lapse: quiet %v, busy %v; want the new epochs from offset 1", seen["quiet"], seen["busy"])
	}
	select {
	case m := <-got:
		t.Fatalf("an extra message: %s %d %q", m.Target, m.Offset, m.Epoch)
	case <-time.After(100 * time.Millisecond):
	}
}

// A node forgets the streams of the rooms it left while its subscription
// was down, as it does those it leaves while it is up: Redis never
// confirms leaving them, and each outage left the memory of every room
// left meanwhile behind for the life of the process.
func TestRoomsLeftDuringAnOutageAreForgotten(t *testing.T) {
	const rooms = 100
	redis := wstest.StartRedis(t)
	b, l, _ := linkedBroker(t, redis, "b")
	for i := range rooms {
		<-b.WatchRoom(fmt.Sprint("room-", i))
	}
	<-b.WatchRoom("kept")
	l.cut()
	wstest.WaitFor(t, "b to lose its subscription", func() bool { return !b.Ready() })
	for i := range rooms {
		b.UnwatchRoom(fmt.Sprint("room-", i))
	}
	l.mend()
	wstest.WaitFor(t, "b to be back", b.Ready)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if known := b.StreamsKnown(); known != 1 {
		t.Fatalf("b remembers the streams of %d rooms, after it left all but one", known)
	}
}
