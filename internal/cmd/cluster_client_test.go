package cmd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/wstest"
	"github.com/gfws/template-ws/pkg/wsclient"
)

// stream is what a client's room.message handler saw: offsets in the
// order they arrived.
type stream struct {
	mu       sync.Mutex
	offsets  []uint64
	rejoined []wsclient.Rejoined
}

func (s *stream) message(_ *wsv1.RoomMessagePush, m wsclient.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offsets = append(s.offsets, m.Offset)
}

func (s *stream) rejoin(r wsclient.Rejoined) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejoined = append(s.rejoined, r)
}

// reached reports whether the stream got offset, and fails the test on a
// gap or a repeat before it.
func (s *stream) reached(t *testing.T, offset uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 1; i < len(s.offsets); i++ {
		if s.offsets[i] != s.offsets[i-1]+1 {
			t.Fatalf("offset %d after %d: a gap or a repeat", s.offsets[i], s.offsets[i-1])
		}
	}
	return len(s.offsets) > 0 && s.offsets[len(s.offsets)-1] >= offset
}

// The Go client behind the shipped nginx file with two nodes: when its
// node drains for a deploy, it reconnects by itself through nginx to the
// other node, rejoins with since, and its handlers see every message of
// the room once, in order, while others keep publishing.
func TestGoClientRecoversThroughNginxOnAnotherNode(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	// Two publishers send about 2,000 messages a second: the history must
	// outlast the drain and the reconnect on a loaded machine.
	settings := map[string]any{"ws.shutdownTimeout": "5s", "ws.sendQueueSize": 4096, "rooms.history.size": 4000}
	nodes := []*server{
		launchClusterNode(t, redis, wstest.Merge(settings, map[string]any{"broker.nodeId": "node-a"})),
		launchClusterNode(t, redis, wstest.Merge(settings, map[string]any{"broker.nodeId": "node-b"})),
	}
	port := wstest.FreePort(t)
	upstreams := ""
	for _, n := range nodes {
		upstreams += "server " + strings.TrimPrefix(n.base, "http://") + " max_fails=0; "
	}
	wstest.StartNginx(t, wstest.ShippedNginxConf(t, "template-ws.conf",
		"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port),
		"server 127.0.0.1:8000 max_fails=0;", upstreams,
		"/var/log/nginx/access.log", filepath.Join(t.TempDir(), "access.log")), port)

	var got stream
	alice, err := wsclient.Dial(context.Background(), fmt.Sprintf("ws://127.0.0.1:%d/ws", port), &wsclient.Options{
		Token: wstest.Token(t, clusterSecret, "alice", time.Time{}), MinDelay: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	alice.OnRoomMessage(got.message)
	alice.OnRejoined(got.rejoin)
	ctx, cancel := context.WithTimeout(context.Background(), wstest.Timeout)
	defer cancel()
	joined, err := alice.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "busy"})
	if err != nil {
		t.Fatal(err)
	}
	var welcome wsv1.WelcomePush
	_ = json.Unmarshal(alice.Welcome(), &welcome)
	drained, other := nodes[0], nodes[1]
	if welcome.Node == "node-b" {
		drained, other = other, drained
	}

	var publishers []*wstest.Client
	for i := range 2 {
		p := other.dialAs(t, fmt.Sprint("pub", i))
		p.JoinSince("busy", nil)
		publishers = append(publishers, p)
	}
	stop := wstest.Publish(t, "busy", publishers...)
	defer stop()
	wstest.WaitFor(t, "30 messages before the drain", func() bool { return got.reached(t, joined.Offset+30) })

	if err := drained.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wstest.WaitFor(t, "alice to rejoin on the other node", func() bool {
		got.mu.Lock()
		defer got.mu.Unlock()
		return len(got.rejoined) > 0
	})
	got.mu.Lock()
	rejoined := got.rejoined[0]
	got.mu.Unlock()
	if !rejoined.Recovered || rejoined.Err != nil || rejoined.Epoch != joined.Epoch {
		t.Fatalf("rejoin: %+v", rejoined)
	}
	wstest.WaitFor(t, "200 live messages after the rejoin", func() bool { return got.reached(t, rejoined.Offset+200) })
	_ = json.Unmarshal(alice.Welcome(), &welcome)
	want := "node-a"
	if drained == nodes[0] {
		want = "node-b"
	}
	if welcome.Node != want {
		t.Fatalf("alice came back on %s, want %s", welcome.Node, want)
	}
}
