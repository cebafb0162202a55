package wsclient_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/wstest"
	"github.com/gfws/template-ws/pkg/wsclient"
)

// Close called from a handler returns, and the client then stops: the
// handler runs on the goroutine Close would otherwise wait for.
func TestCloseFromAHandler(t *testing.T) {
	node := wstest.Start(t, nil)
	ctx := within(t)
	c, err := wsclient.Dial(ctx, node.WSURL, nil) // no Close at cleanup: it would hang on a deadlock
	if err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{})
	c.OnRoomMessage(func(*wsv1.RoomMessagePush, wsclient.Message) {
		_ = c.Close()
		close(returned)
	})
	if _, err := c.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "lobby"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Send("room.send", &wsv1.RoomSendReq{Room: "lobby", Text: "bye"}); err != nil {
		t.Fatal(err)
	}
	for what, done := range map[string]<-chan struct{}{"Close to return": returned, "the client to stop": c.Done()} {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatalf("Close called from a handler: waiting for %s: the client is deadlocked", what)
		}
	}
}

// Dial's context bounds the whole dial, the wait for the welcome
// included, and Close bounds a reconnect's.
func TestTheWaitForTheWelcomeEndsWithItsContext(t *testing.T) {
	url, _ := scriptedNode(t, answer{noWelcome: true})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if c, err := wsclient.Dial(ctx, url, nil); err == nil {
		_ = c.Close()
		t.Fatal("a node that sent no welcome was dialled")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Dial with a context of 300ms returned after %v", took.Round(time.Millisecond))
	}

	url, handshakes := scriptedNode(t, answer{close: websocket.CloseInternalServerErr}, answer{noWelcome: true})
	c, err := wsclient.Dial(context.Background(), url, &wsclient.Options{MinDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wstest.WaitFor(t, "the reconnect's handshake", func() bool { return handshakes() == 2 })
	start = time.Now()
	_ = c.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Close while a reconnect waited for its welcome took %v", took.Round(time.Millisecond))
	}
}

// Joining a room the client is in already, while others send to it
// through Redis, loses none of its messages: the reply's offset may be
// ahead of messages still on their way to the connection.
func TestJoiningARoomAgainLosesNoMessage(t *testing.T) {
	redis := wstest.StartRedis(t)
	node := wstest.Start(t, map[string]any{"ws.rateLimit.rate": 0, "broker.type": "redis", "redis.default.address": redis.Addr()})
	ctx := within(t)
	ann, bob := dial(t, node.WSURL, nil), dial(t, node.WSURL, nil)
	var got received
	ann.OnRoomMessage(got.add)
	for _, c := range []*wsclient.Client{ann, bob} {
		if _, err := c.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "again"}); err != nil {
			t.Fatal(err)
		}
	}
	const total = 500
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range total {
			if _, err := bob.RoomSend(ctx, &wsv1.RoomSendReq{Room: "again", Text: strconv.Itoa(i)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	joins := 0
	for joining := true; joining; joins++ {
		select {
		case <-sent:
			joining = false
		default:
		}
		if _, err := ann.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "again"}); err != nil {
			t.Fatal(err)
		}
	}
	last, err := bob.RoomSend(ctx, &wsv1.RoomSendReq{Room: "again", Text: "last"})
	if err != nil {
		t.Fatal(err)
	}
	wstest.WaitFor(t, "ann to get every message", func() bool { return got.count() >= int(last.Offset) })
	if n := got.count(); n != int(last.Offset) {
		t.Fatalf("after %d joins of the room it was in, ann got %d of %d messages", joins, n, last.Offset)
	}
}
