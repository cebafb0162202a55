package cmd_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/wstest"
	"github.com/gfws/template-ws/pkg/wsclient"
)

// Redis that restarts empty loses every room's stream, and the next
// message starts a new one at offset 1, in a new epoch, under members
// who had offsets past it. They get the new messages all the same, each
// carrying the new epoch, and the Go client tells the app that the stream
// started again before handing it the first of them.
func TestClusterStreamLostByRedisStartsAgainUnderItsMembers(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	a, b := launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil)
	bob := b.dialAs(t, "bob")
	bob.JoinSince("r", nil)
	send := func(n int) {
		for i := range n {
			bob.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "r", "text": fmt.Sprint(i)}})
		}
	}
	send(3)
	bob.ExpectStream("r", 0, 3)

	// Both join past offset 1: before Redis lost the stream, its offsets
	// up to 3 were ones they had.
	alice := a.dialAs(t, "alice")
	joined, _ := alice.JoinSince("r", nil)
	var mu sync.Mutex
	var carolSaw []string
	carol, err := wsclient.Dial(context.Background(), strings.Replace(a.base, "http", "ws", 1)+"/ws", &wsclient.Options{
		Token: wstest.Token(t, clusterSecret, "carol", time.Time{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	carol.OnRoomMessage(func(_ *wsv1.RoomMessagePush, m wsclient.Message) {
		mu.Lock()
		defer mu.Unlock()
		carolSaw = append(carolSaw, fmt.Sprintf("%d %s", m.Offset, m.Epoch))
	})
	carol.OnRejoined(func(r wsclient.Rejoined) {
		mu.Lock()
		defer mu.Unlock()
		carolSaw = append(carolSaw, fmt.Sprintf("restarted %v at %d %s", r.Restarted, r.Offset, r.Epoch))
	})
	ctx, cancel := context.WithTimeout(context.Background(), wstest.Timeout)
	defer cancel()
	if _, err := carol.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "r"}); err != nil {
		t.Fatal(err)
	}
	send(1)
	alice.ExpectStream("r", joined.Offset, joined.Offset+1)
	bob.ExpectStream("r", 3, 4)

	restartRedisEmpty(t, redis, "r", a, b)
	send(2)
	var epoch string
	for next := uint64(1); next <= 2; {
		m := alice.Read()
		if m.Room != "r" || m.Offset == 0 {
			continue
		}
		if m.Offset != next || m.Epoch == joined.Epoch || (epoch != "" && m.Epoch != epoch) {
			t.Fatalf("after Redis lost the stream: offset %d of epoch %q, want %d of a new epoch (was %q)", m.Offset, m.Epoch, next, joined.Epoch)
		}
		epoch = m.Epoch
		next++
	}
	want := []string{"4 " + joined.Epoch, "restarted true at 1 " + epoch, "1 " + epoch, "2 " + epoch}
	wstest.WaitFor(t, "the Go client to see the new stream", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(carolSaw) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(carolSaw, want) {
		t.Fatalf("the Go client saw %q, want %q", carolSaw, want)
	}
}

// restartRedisEmpty restarts redis with nothing kept and waits until every
// one of nodes receives room again, and knows it: a message sent then
// reaches them all.
func restartRedisEmpty(t *testing.T, redis *wstest.Redis, room string, nodes ...*server) {
	t.Helper()
	redis.Kill()
	redis.Start()
	wstest.WaitFor(t, "the nodes to subscribe to the room again", func() bool {
		channels := redis.Do(t, "PUBSUB", "CHANNELS", "*:room:"+room).Strings()
		return len(channels) == 1 && redis.Subscribers(t, channels[0]) == len(nodes)
	})
	for _, n := range nodes {
		wstest.WaitFor(t, "the node to be ready", func() bool { return n.status("/readyz") == 200 })
	}
}
