package hub

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/gfws/template-ws/internal/model"
)

// A join and a leave by one of a user's connections, while the user has
// n other connections that are not in the room: a load test that runs
// every connection as one user, or a user with many devices or tabs.
func BenchmarkJoinLeaveOfAUserWithManyConnections(b *testing.B) {
	for _, n := range []int{1, 1000, 10000, 50000} {
		b.Run(fmt.Sprint("others=", n), func(b *testing.B) {
			peers := make([]*fakePeer, n+1)
			for i := range peers {
				peers[i] = &fakePeer{id: fmt.Sprint(i), user: "loadtest"}
			}
			h := newTestHub(b, peers...)
			h.cfg.PresenceEventsLimit = 0
			ctx := as(peers[0])
			b.ResetTimer()
			for range b.N {
				if _, err := h.JoinRoom(ctx, model.RoomJoinInput{Room: "r"}); err != nil {
					b.Fatal(err)
				}
				if err := h.LeaveRoom(ctx, "r"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// What one connection's place in a room costs the node, hub and memory
// broker together, in live heap after a collection: in rooms of its own
// (what a connection joining rooms.maxPerConnection rooms nobody else is
// in costs) and in rooms shared with the other connections.
func BenchmarkMembershipBytes(b *testing.B) {
	const conns, rooms = 100, 128
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprint("shared=", shared), func(b *testing.B) {
			for range b.N {
				peers := make([]*fakePeer, conns)
				for i := range peers {
					peers[i] = &fakePeer{id: fmt.Sprint(i), user: fmt.Sprint("user", i)}
				}
				h := newTestHub(b, peers...)
				h.cfg.MaxRoomsPerConnection, h.cfg.PresenceEventsLimit = 0, 0
				before := LiveHeap()
				for i, p := range peers {
					for r := range rooms {
						room := fmt.Sprintf("room-%03d-%03d", i, r)
						if shared {
							room = fmt.Sprintf("room-%03d", r)
						}
						if _, err := h.JoinRoom(as(p), model.RoomJoinInput{Room: room}); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(LiveHeap()-before)/(conns*rooms), "bytes/membership")
				runtime.KeepAlive(h)
			}
		})
	}
}

// LiveHeap is the bytes of the heap that survive two collections; the
// package's external tests use it too.
func LiveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
