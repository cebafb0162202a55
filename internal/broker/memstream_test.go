package broker_test

import (
	"context"
	"testing"

	"github.com/gfws/template-ws/internal/broker"
)

// A room nobody ever sent to leaves no stream behind once it is empty: a
// join of it again gets a stream of its own. One that was sent to keeps
// its stream, for members coming back to recover.
func TestMemoryForgetsTheStreamsOfRoomsUsedForNothing(t *testing.T) {
	ctx := context.Background()
	m := broker.NewMemory()
	epochOf := func(room string) string {
		t.Helper()
		head, err := m.Recover(ctx, room, nil)
		if err != nil {
			t.Fatal(err)
		}
		return head.Epoch
	}
	join(t, m, "unused", "ann")
	before := epochOf("unused")
	leave(t, m, "unused", "ann")
	if epochOf("unused") == before {
		t.Error("an empty room never sent to kept its stream")
	}
	join(t, m, "used", "ann")
	if _, err := m.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: "used", Frame: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	before = epochOf("used")
	leave(t, m, "used", "ann")
	if epochOf("used") != before {
		t.Error("an empty room that was sent to lost its stream")
	}
}
