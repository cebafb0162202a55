package broker_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// A node receives a room's traffic only while it has a member there, and
// a user's only while it has a connection of theirs: a third node with
// neither receives none of it.
func TestRedisRoutesByInterest(t *testing.T) {
	redis := wstest.StartRedis(t)
	handleB, gotB := collect()
	handleC, gotC := collect()
	a := newRedisBroker(t, redis, testPrefix, "a", nil)
	b := newRedisBroker(t, redis, testPrefix, "b", handleB)
	c := newRedisBroker(t, redis, testPrefix, "c", handleC)
	ctx := context.Background()
	join(t, b, "busy", "bob")
	<-c.WatchUser("cat")

	publish := func(kind broker.Kind, target, frame string) {
		t.Helper()
		if err := a.Publish(ctx, broker.Message{Kind: kind, Target: target, Frame: []byte(frame), Origin: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		publish(broker.ToRoom, "busy", "room "+strconv.Itoa(i))
	}
	publish(broker.ToUser, "cat", "to cat")
	publish(broker.ToAll, "", "to all")

	for i := range 100 {
		if m := receive(t, gotB, "b"); string(m.Frame) != "room "+strconv.Itoa(i) {
			t.Fatalf("b got %q, want room %d", m.Frame, i)
		}
	}
	if m := receive(t, gotB, "b"); string(m.Frame) != "to all" {
		t.Fatalf("b, with no connection of cat, got %q before the delivery to all", m.Frame)
	}
	// One connection gets its messages in publishing order: had c
	// received any of the room's, they would have come first.
	for _, want := range []string{"to cat", "to all"} {
		if m := receive(t, gotC, "c"); string(m.Frame) != want {
			t.Fatalf("c, with no member in the room, got %q, want %q", m.Frame, want)
		}
	}
	if got := c.Received(); got != 2 {
		t.Fatalf("c counted %d deliveries from other nodes, want 2", got)
	}
	if got := b.Received(); got != 101 {
		t.Fatalf("b counted %d deliveries from other nodes, want 101", got)
	}

	// Once b's last member leaves, b leaves the room's channel.
	leave(t, b, "busy", "bob")
	wstest.WaitFor(t, "b to leave the room's channel", func() bool {
		return redis.Subscribers(t, testPrefix+":room:busy") == 0
	})
	c.UnwatchUser("cat")
	wstest.WaitFor(t, "c to leave cat's channel", func() bool {
		return redis.Subscribers(t, testPrefix+":user:cat") == 0
	})
}

// Publishes are pipelined, yet each sender's messages reach the other
// node in the order it sent them, with none lost, while another sender
// publishes at the same time.
func TestRedisKeepsEachSendersOrderUnderPipelining(t *testing.T) {
	redis := wstest.StartRedis(t)
	handleB, gotB := collect()
	a := newRedisBroker(t, redis, testPrefix, "a", nil)
	b := newRedisBroker(t, redis, testPrefix, "b", handleB)
	join(t, b, "r", "bob")
	<-b.WatchUser("bob")

	const senders, each = 2, 2000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// One sender alternates room and user deliveries: two
				// channels, one order.
				kind, target := broker.ToRoom, "r"
				if i%2 == 1 {
					kind, target = broker.ToUser, "bob"
				}
				frame := fmt.Sprintf("%d:%d", s, i)
				if err := a.Publish(context.Background(), broker.Message{Kind: kind, Target: target, Frame: []byte(frame), Origin: "a"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := make([]int, senders)
	deadline := time.After(wstest.Timeout)
	for received := 0; received < senders*each; received++ {
		select {
		case m := <-gotB:
			var s, i int
			if _, err := fmt.Sscanf(string(m.Frame), "%d:%d", &s, &i); err != nil {
				t.Fatalf("frame %q: %v", m.Frame, err)
			}
			if i != next[s] {
				t.Fatalf("sender %d: got message %d, want %d", s, i, next[s])
			}
			next[s]++
		case <-deadline:
			t.Fatalf("received %d of %d messages", received, senders*each)
		}
	}
	wg.Wait()
}
