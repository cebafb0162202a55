package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
)

// The kept messages of all rooms together stay within MaxBytes: over it,
// the rooms with no users lose theirs first, those quiet longest first,
// while a room with users keeps its own.
func TestMemoryHistoryKeepsToItsBytes(t *testing.T) {
	ctx := context.Background()
	m := broker.NewMemoryWithHistory(broker.History{Size: 100, TTL: time.Minute, MaxBytes: 20_000})
	send := func(room string, n int) {
		t.Helper()
		for range n {
			if _, err := m.Append(ctx, broker.Message{Kind: broker.ToRoom, Target: room, Frame: bytes.Repeat([]byte("x"), 1000)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	recovers := func(room string) bool {
		t.Helper()
		head, err := m.Recover(ctx, room, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := m.Recover(ctx, room, &broker.Position{Epoch: head.Epoch, Offset: 0})
		if err != nil {
			t.Fatal(err)
		}
		return rec.Recovered
	}
	join(t, m, "busy", "ann")
	send("busy", 5)
	// Twenty empty rooms of 1,000 bytes each: 25,000 bytes in all, over
	// the bound, so the first of them lose theirs.
	for i := range 20 {
		send(fmt.Sprintf("empty-%02d", i), 1)
	}
	if !recovers("busy") {
		t.Error("the room with a user lost its history to rooms without users")
	}
	if recovers("empty-00") {
		t.Error("the room quiet longest kept its history over the bound")
	}
	if !recovers("empty-19") {
		t.Error("the last room to speak lost its history")
	}
}

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
