package hub

import (
	"fmt"
	"testing"

	"github.com/gfws/template-ws/internal/model"
)

// A join and a leave by one of a user's connections, while the user has
// n other connections that are not in the room: a load test that runs
// every connection as one user, or a user with many devices or tabs.
func BenchmarkJoinLeaveOfAUserWithManyConnections(b *testing.B) {
	for _, n := range []int{1, 1000, 10000, 50000} {
		b.Run(fmt.Sprint("others=", n), func(b *testing.B) {
			t := &testing.T{}
			peers := make([]*fakePeer, n+1)
			for i := range peers {
				peers[i] = &fakePeer{id: fmt.Sprint(i), user: "loadtest"}
			}
			h := newTestHub(t, peers...)
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
