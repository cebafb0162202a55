package wsclient

import (
	"encoding/json"
	"errors"
	"testing"
)

// The rooms a client rejoins, and from where: a reply's position, moved on
// by each new stream message, never back by a rejoin's reply that its
// replayed messages already passed nor by the reply to a join without
// since of a room followed already (messages before it may be on their
// way), reset by a new epoch in a rejoin's reply or in a message, dropped
// by a leave.
func TestRoomsFollowTheirStreams(t *testing.T) {
	var r rooms
	join := func(data string) { r.follow("room.join", json.RawMessage(data)) }
	at := func(step string, want since) {
		t.Helper()
		if got := r.snapshot()["r"]; got != want {
			t.Fatalf("%s: position %+v, want %+v", step, got, want)
		}
	}
	join(`{"room":"r","offset":5,"epoch":"E"}`)
	at("joined", since{5, "E"})
	if fresh, _ := r.advance("r", 5, "E"); fresh {
		t.Fatal("the message at the joined offset counted as new")
	}
	if fresh, restarted := r.advance("r", 6, "E"); !fresh || restarted {
		t.Fatalf("the next message: new %v, restarted %v", fresh, restarted)
	}
	at("after a message", since{6, "E"})
	join(`{"room":"r","offset":4,"epoch":"E","recovered":true}`)
	at("a reply behind the messages replayed before it", since{6, "E"})
	join(`{"room":"r","offset":9,"epoch":"E"}`)
	at("a join without since of a room followed already", since{6, "E"})
	join(`{"room":"r","offset":2,"epoch":"F","recovered":false}`)
	at("a new epoch", since{2, "F"})
	if fresh, restarted := r.advance("r", 1, "G"); !fresh || !restarted {
		t.Fatalf("the first message of a stream started again: new %v, restarted %v", fresh, restarted)
	}
	at("a stream started again", since{1, "G"})
	r.follow("room.leave", json.RawMessage(`{"room":"r"}`))
	if _, kept := r.snapshot()["r"]; kept {
		t.Fatal("a room left is still rejoined")
	}
	if fresh, _ := r.advance("r", 1, "G"); !fresh {
		t.Fatal("a message of a room not followed was dropped")
	}
}

// A rejoin's report: how many messages were replayed, or that the app
// must reload the room, or why the join failed.
func TestRejoinedReports(t *testing.T) {
	recovered := rejoinedFrom("r", 3, Message{Event: "room.join", Data: json.RawMessage(`{"room":"r","offset":7,"epoch":"E","recovered":true}`)})
	if !recovered.Recovered || recovered.Missed != 4 || recovered.Offset != 7 || recovered.Err != nil {
		t.Fatalf("recovered: %+v", recovered)
	}
	lost := rejoinedFrom("r", 3, Message{Event: "room.join", Data: json.RawMessage(`{"room":"r","offset":7,"epoch":"F","recovered":false}`)})
	if lost.Recovered || lost.Missed != 0 || lost.Epoch != "F" {
		t.Fatalf("not recovered: %+v", lost)
	}
	var refused *Error
	if failed := rejoinedFrom("r", 3, Message{Event: "room.join", Code: 51, Message: "since is past"}); !errors.As(failed.Err, &refused) || refused.Code != 51 {
		t.Fatalf("refused: %+v", failed)
	}
}
