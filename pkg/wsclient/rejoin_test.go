package wsclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
)

// nodeRequest is the one request a scripted room node reads on each
// connection.
type nodeRequest struct {
	ID, Event string
	Data      json.RawMessage
}

// dialScriptedRoomNode dials a node that welcomes each connection, reads
// its first request and hands it to answer, with whether the connection
// is the node's first, then reads until the client goes.
func dialScriptedRoomNode(t *testing.T, ctx context.Context, answer func(c *websocket.Conn, req nodeRequest, first bool)) *Client {
	t.Helper()
	upgrader := websocket.Upgrader{}
	var connections atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		first := connections.Add(1) == 1
		_ = c.WriteJSON(map[string]any{"event": "welcome", "data": map[string]any{}})
		var req nodeRequest
		if c.ReadJSON(&req) != nil {
			return
		}
		answer(c, req, first)
		for { // until the client goes
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	c, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &Options{MinDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// joinedThenClosed answers a join of room a at offset, then closes with
// 1011 so that the client reconnects.
func joinedThenClosed(c *websocket.Conn, req nodeRequest, offset int) {
	_ = c.WriteJSON(map[string]any{"id": req.ID, "event": req.Event, "code": 0, "data": map[string]any{"room": "a", "offset": offset, "epoch": "E"}})
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, ""), time.Now().Add(time.Second))
}

// A rejoin the node refuses forgets the room: the client is not in it,
// and later reconnects do not try it again.
func TestARefusedRejoinForgetsTheRoom(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialScriptedRoomNode(t, ctx, func(c *websocket.Conn, req nodeRequest, first bool) {
		if first {
			joinedThenClosed(c, req, 0)
			return
		}
		_ = c.WriteJSON(map[string]any{"id": req.ID, "event": req.Event, "code": 63, "message": "this connection is already in 128 rooms, the most rooms.maxPerConnection allows: leave one first"})
	})
	rejoined := make(chan Rejoined, 1)
	c.OnRejoined(func(r Rejoined) { rejoined <- r })
	if _, err := c.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "a"}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-rejoined:
		if r.Err == nil {
			t.Fatalf("the rejoin was not refused: %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("no rejoin")
	}
	if _, kept := c.rooms.snapshot()["a"]; kept {
		t.Fatal("a room whose rejoin was refused is still remembered")
	}
}

// A join whose reply comes after its request gave up is remembered all
// the same: the node joined, and a reconnect rejoins the room.
func TestALateJoinReplyIsRemembered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	arrived, late := make(chan struct{}), make(chan struct{})
	rejoined := make(chan string, 1)
	c := dialScriptedRoomNode(t, ctx, func(c *websocket.Conn, req nodeRequest, first bool) {
		if first {
			close(arrived)
			<-late // the request has given up
			joinedThenClosed(c, req, 4)
			return
		}
		rejoined <- req.Event + " " + string(req.Data)
	})
	// Sent, then given up once the node holds it, before its reply.
	quick, giveUp := context.WithCancel(ctx)
	go func() {
		<-arrived
		giveUp()
	}()
	if _, err := c.RoomJoin(quick, &wsv1.RoomJoinReq{Room: "a"}); err == nil {
		t.Fatal("a join whose context was done did not give up")
	}
	close(late)
	select {
	case got := <-rejoined:
		if got != `room.join {"room":"a","since":{"offset":4,"epoch":"E"}}` {
			t.Fatalf("after the reconnect: %s", got)
		}
	case <-ctx.Done():
		t.Fatal("the room of the late reply was not rejoined")
	}
}

// A join answered while the other nodes are out of reach ("local", no
// epoch) is a join all the same: after a reconnect the room is joined
// again, without a since, which no position backs.
func TestALocalJoinIsRejoined(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rejoined := make(chan string, 1)
	c := dialScriptedRoomNode(t, ctx, func(c *websocket.Conn, req nodeRequest, first bool) {
		if first {
			_ = c.WriteJSON(map[string]any{"id": req.ID, "event": req.Event, "code": 0,
				"data": map[string]any{"room": "a", "members": 1, "offset": 0, "epoch": "", "local": true}})
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, ""), time.Now().Add(time.Second))
			return
		}
		rejoined <- req.Event + " " + string(req.Data)
	})
	if joined, err := c.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "a"}); err != nil || !joined.Local {
		t.Fatalf("join: %+v, %v", joined, err)
	}
	select {
	case got := <-rejoined:
		if got != `room.join {"room":"a"}` {
			t.Fatalf("after the reconnect: %s", got)
		}
	case <-ctx.Done():
		t.Fatal("the room joined while the cluster was out of reach was not joined again")
	}
}

// Only a refusal a later reconnect would meet again forgets the room.
func TestRefusedForGood(t *testing.T) {
	for _, tc := range []struct {
		m    Message
		want bool
	}{
		{Message{Event: "room.join", Code: 51, Message: "since.offset 9 is past the last offset"}, true},
		{Message{Event: "room.join", Code: 63, Message: "this connection is already in 128 rooms, the most rooms.maxPerConnection allows"}, true},
		{Message{Event: "room.join", Code: 63, Message: "rate limit exceeded: at most 100 messages per second"}, false},
		{Message{Event: "room.join", Code: 50, Message: "internal error"}, false},
		{Message{Code: NoReply, Message: "connection closed"}, false},
		{Message{Event: "room.join"}, false},
	} {
		if got := refusedForGood(tc.m); got != tc.want {
			t.Errorf("%d %q: refused for good %v, want %v", tc.m.Code, tc.m.Message, got, tc.want)
		}
	}
}
