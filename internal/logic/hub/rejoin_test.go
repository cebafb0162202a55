package hub_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A room.join of a room the connection is in already answers with the
// offset of the last stream message sent to it before the reply: a client
// that takes the reply's offset for its own then neither drops messages
// still on their way (the stream's head can be ahead of them, in a large
// room's lane or between nodes) nor skips any. Here the room is large
// enough for a lane, and four members keep sending while one member joins
// again and again.
func TestARepeatJoinAnswersWhatTheMemberHasBeenSent(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0, "rooms.presenceEventsLimit": 0})
	const fillers, publishers, rejoins = 60, 4, 40
	var senders []*wstest.Client
	for i := range fillers + publishers {
		c := dialAs(t, node, fmt.Sprint("member", i))
		c.JoinSince("big", nil)
		if i >= fillers {
			senders = append(senders, c)
			continue
		}
		go func() { // keep reading, so that no filler is a slow consumer
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	watcher := dialAs(t, node, "watcher")
	joined, _ := watcher.JoinSince("big", nil)
	stop := wstest.Publish(t, "big", senders...)
	defer stop()
	last := joined.Offset // the offset the watcher holds
	for k := range rejoins {
		id := fmt.Sprint("again-", k)
		watcher.Send(map[string]any{"id": id, "event": "room.join", "data": map[string]string{"room": "big"}})
		for replied := false; !replied; {
			m := watcher.Read()
			switch {
			case string(m.ID) == fmt.Sprintf("%q", id):
				var again wstest.Joined
				if err := json.Unmarshal(m.Data, &again); err != nil {
					t.Fatalf("reply %s: %v", m.Data, err)
				}
				if again.Offset != last || again.Epoch != joined.Epoch {
					t.Fatalf("join %d again answered offset %d, after offset %d was the last sent before it", k, again.Offset, last)
				}
				replied = true
			case m.Room == "big" && m.Offset > 0:
				if m.Offset != last+1 {
					t.Fatalf("after join %d again: offset %d, want %d", k, m.Offset, last+1)
				}
				last = m.Offset
			}
		}
	}
}
