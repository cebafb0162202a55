package hub_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gfws/template-ws/internal/logic/hub"
	"github.com/gfws/template-ws/internal/wstest"
)

// rooms.history.maxBytes bounds what the streams of a memory node hold in
// bytes of the process's memory, not only the bytes of their frames:
// clients that join a room, say one word and leave, room after room, leave
// behind streams that stay for rooms.history.ttl. Three thousand of them,
// under a bound of 128 KiB, grew the heap by 1.4 MB (about 470 bytes a
// room that the bound did not count); now by about 200 KB, what the
// streams keep and what the node's own use of memory moves.
func TestRoomStreamsStayWithinHistoryMaxBytes(t *testing.T) {
	const maxBytes = 128 << 10
	node := startNode(t, map[string]any{"rooms.history.maxBytes": maxBytes})
	// Sixty rooms a client, three requests each: within the rate limit's
	// burst of 200.
	const conns, rooms = 50, 60
	clients := make([]*wstest.Client, conns)
	for i := range clients {
		clients[i], _ = wstest.DialWelcome(t, node.WSURL, nil)
	}
	before := hub.LiveHeap()
	useRoomsOnce(t, clients, "once", rooms, true)
	grown := hub.LiveHeap() - before
	t.Logf("%d rooms used once: the heap grew by %d bytes, %d a room", conns*rooms, grown, grown/(conns*rooms))
	if limit := int64(3 * maxBytes); grown > limit {
		t.Fatalf("the heap grew by %d bytes, over three times rooms.history.maxBytes (%d)", grown, maxBytes)
	}
}

// useRoomsOnce has each client join rooms of its own one after another,
// send one message in each when send is set, and leave it. Each request's
// data is over 256 bytes, which the router's validation memo (bounded on
// its own) does not keep, so that a node's heap shows the streams alone.
func useRoomsOnce(t *testing.T, clients []*wstest.Client, tag string, rooms int, send bool) {
	t.Helper()
	pad, memoPad := strings.Repeat("x", 48), strings.Repeat("-", 256)
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rooms {
				room := fmt.Sprintf("%s-c%03d-r%03d-%s", tag, i, r, pad)
				c.Send(map[string]any{"event": "room.join", "data": map[string]any{"room": room, "pad": memoPad}})
				if send {
					c.Send(map[string]any{"event": "room.send", "data": map[string]any{"room": room, "text": "hi", "pad": memoPad}})
				}
				// The leave's reply marks the end of each room.
				c.Send(map[string]any{"id": "left", "event": "room.leave", "data": map[string]any{"room": room, "pad": memoPad}})
				for {
					m := c.Read()
					if m.Code != nil && *m.Code != 0 {
						errs <- fmt.Errorf("room %s: %+v", room, m)
						return
					}
					if string(m.ID) == `"left"` {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
