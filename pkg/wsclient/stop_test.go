package wsclient_test

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
	"github.com/gfws/template-ws/internal/wstest"
	"github.com/gfws/template-ws/pkg/wsclient"
)

// Close from a handler returns at once; the frames gorilla had already
// read reach no handler after it.
func TestNoHandlerRunsAfterCloseFromAHandler(t *testing.T) {
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteJSON(map[string]any{"event": "welcome", "data": map[string]any{}})
		for i := 1; i <= 20; i++ {
			_ = c.WriteJSON(map[string]any{"event": "room.message", "room": "r", "offset": i, "epoch": "E", "data": map[string]any{"room": "r", "text": "x"}})
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := wsclient.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	c.OnRoomMessage(func(*wsv1.RoomMessagePush, wsclient.Message) {
		if calls.Add(1) == 1 {
			_ = c.Close()
		}
	})
	<-c.Done()
	if n := calls.Load(); n != 1 {
		t.Fatalf("the handler ran %d times; Close was called from its first call", n)
	}
}

// A request whose context has ended is not sent: its caller takes it for
// failed, and a retry would send it twice.
func TestARequestWhoseContextEndedIsNotSent(t *testing.T) {
	node := wstest.Start(t, nil)
	ctx := within(t)
	ann, bob := dial(t, node.WSURL, nil), dial(t, node.WSURL, nil)
	got := make(chan string, 4)
	bob.OnRoomMessage(func(p *wsv1.RoomMessagePush, _ wsclient.Message) { got <- p.Text })
	for _, c := range []*wsclient.Client{ann, bob} {
		if _, err := c.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "ctx"}); err != nil {
			t.Fatal(err)
		}
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ann.RoomSend(ended, &wsv1.RoomSendReq{Room: "ctx", Text: "sent with an ended context"}); !wsclient.IsRefusal(err, wsclient.NoReply) {
		t.Fatalf("RoomSend with an ended context: %v, want code %d", err, wsclient.NoReply)
	}
	// The next message of ann reaches bob first: the one before was not sent.
	if _, err := ann.RoomSend(ctx, &wsv1.RoomSendReq{Room: "ctx", Text: "sent"}); err != nil {
		t.Fatal(err)
	}
	if text := <-got; text != "sent" {
		t.Fatalf("bob got %q first: a request whose context had ended was sent", text)
	}
}

// After 4401, a TokenFunc that gives no token stops the client: with none
// it would come back as an anonymous user, in the rooms joined as this one.
func TestNoRenewedTokenStopsTheClient(t *testing.T) {
	const secret = "renew-secret"
	node := wstest.Start(t, map[string]any{"ws.auth.jwtSecret": secret})
	welcomes := make(chan string, 4)
	c := dial(t, node.WSURL, &wsclient.Options{
		Token:     wstest.Token(t, secret, "carol", time.Now().Add(2*time.Second)),
		MinDelay:  10 * time.Millisecond,
		TokenFunc: func(context.Context) (string, error) { return "", nil },
	})
	c.On("welcome", func(m wsclient.Message) {
		var w struct {
			UserID string `json:"userId"`
		}
		_ = json.Unmarshal(m.Data, &w)
		welcomes <- w.UserID
	})
	if _, err := c.RoomJoin(within(t), &wsv1.RoomJoinReq{Room: "carols"}); err != nil {
		t.Fatal(err)
	}
	select {
	case user := <-welcomes:
		t.Fatalf("after 4401 the client came back as %q (was carol)", user)
	case <-c.Done():
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), "TokenFunc gave no token") {
			t.Fatalf("stopped with %v, want the missing token named", err)
		}
	case <-time.After(wstest.Timeout):
		t.Fatal("the client neither stopped nor came back")
	}
}

// Close while TokenFunc runs after a 4401 stops the client as any Close
// does: Err is nil.
func TestCloseDuringTokenRenewalIsAClose(t *testing.T) {
	url, _ := scriptedNode(t, answer{close: 4401})
	asked := make(chan struct{})
	c, err := wsclient.Dial(context.Background(), url, &wsclient.Options{TokenFunc: func(ctx context.Context) (string, error) {
		close(asked)
		<-ctx.Done()
		return "", ctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	<-asked
	_ = c.Close()
	if err := c.Err(); err != nil {
		t.Fatalf("Err after Close: %v", err)
	}
}
