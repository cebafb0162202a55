package wsclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/wstest"
	"github.com/gfws/template-ws/pkg/wsclient"
)

// TestMain fails the package when a client leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, wstest.FrameworkGoroutines()...)
}

// dial connects a client and closes it when the test ends.
func dial(t *testing.T, url string, opts *wsclient.Options) *wsclient.Client {
	t.Helper()
	c, err := wsclient.Dial(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func within(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// received collects the room messages a client's handlers got.
type received struct {
	mu      sync.Mutex
	offsets []uint64
	texts   []string
}

func (r *received) add(p *wsv1.RoomMessagePush, m wsclient.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offsets = append(r.offsets, m.Offset)
	r.texts = append(r.texts, p.Text)
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.offsets)
}

func TestTypedRequestsRepliesAndPushes(t *testing.T) {
	node := wstest.Start(t, nil)
	ctx := within(t)
	ann, bob := dial(t, node.WSURL, nil), dial(t, node.WSURL, nil)
	var got received
	bob.OnRoomMessage(got.add)
	for _, c := range []*wsclient.Client{ann, bob} {
		if _, err := c.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "lobby"}); err != nil {
			t.Fatal(err)
		}
	}
	sent, err := ann.RoomSend(ctx, &wsv1.RoomSendReq{Room: "lobby", Text: "hello"})
	if err != nil || sent.Offset != 1 {
		t.Fatalf("room.send: %+v, %v", sent, err)
	}
	wstest.WaitFor(t, "bob's room.message", func() bool { return got.count() == 1 })
	if got.offsets[0] != 1 || got.texts[0] != "hello" {
		t.Fatalf("bob got offsets %v texts %q", got.offsets, got.texts)
	}
	// limit carries d:"100": left at zero, the server's default applies.
	page, err := bob.RoomMembers(ctx, &wsv1.RoomMembersReq{Room: "lobby"})
	if err != nil || page.Count != 2 || len(page.Users) != 2 {
		t.Fatalf("room.members: %+v, %v", page, err)
	}
	echoed, err := ann.Echo(ctx, &wsv1.EchoReq{RawMessage: json.RawMessage(`{"a":[1,2]}`)})
	if err != nil || string(echoed.RawMessage) != `{"a":[1,2]}` {
		t.Fatalf("echo: %s, %v", echoed.RawMessage, err)
	}
	var welcome wsv1.WelcomePush
	if err := json.Unmarshal(ann.Welcome(), &welcome); err != nil || welcome.ConnID == "" {
		t.Fatalf("welcome %s: %v", ann.Welcome(), err)
	}
}

func TestRefusalsAreTypedErrors(t *testing.T) {
	node := wstest.Start(t, nil)
	ctx := within(t)
	c := dial(t, node.WSURL, nil)
	_, err := c.RoomSend(ctx, &wsv1.RoomSendReq{Room: "elsewhere", Text: "hi"})
	var refused *wsclient.Error
	if !errors.As(err, &refused) || refused.Code != 61 || refused.Event != "room.send" || refused.Message == "" {
		t.Fatalf("room.send to a room not joined: %v, want code 61", err)
	}
	if _, err := c.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "no spaces"}); !wsclient.IsRefusal(err, 51) {
		t.Fatalf("room.join with a bad name: %v, want code 51", err)
	}
	// A send without id is refused through On("error").
	refusals := make(chan wsclient.Message, 1)
	c.On("error", func(m wsclient.Message) { refusals <- m })
	if err := c.Send("no.such.event", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-refusals:
		if m.Code != 65 {
			t.Fatalf("unknown event: %+v, want code 65", m)
		}
	case <-ctx.Done():
		t.Fatal("no refusal of an unknown event")
	}
}

func TestRefusedHandshake(t *testing.T) {
	node := wstest.Start(t, map[string]any{"ws.auth.required": true, "ws.auth.jwtSecret": "s"})
	_, err := wsclient.Dial(context.Background(), node.WSURL, nil)
	var refused *wsclient.HandshakeError
	if !errors.As(err, &refused) || refused.Status != http.StatusUnauthorized || refused.Code != 61 {
		t.Fatalf("dial without the required token: %v, want status 401 code 61", err)
	}
	c := dial(t, node.WSURL, &wsclient.Options{Token: wstest.Token(t, "s", "ann", time.Time{})})
	var welcome wsv1.WelcomePush
	if err := json.Unmarshal(c.Welcome(), &welcome); err != nil || welcome.UserID != "ann" {
		t.Fatalf("welcome %s: %v", c.Welcome(), err)
	}
}

func TestKickStopsTheClient(t *testing.T) {
	node := wstest.Start(t, nil)
	var states []string
	var mu sync.Mutex
	c := dial(t, node.WSURL, &wsclient.Options{OnState: func(s wsclient.State) {
		mu.Lock()
		defer mu.Unlock()
		states = append(states, s.State)
	}})
	var welcome wsv1.WelcomePush
	_ = json.Unmarshal(c.Welcome(), &welcome)
	req, _ := http.NewRequest(http.MethodDelete, node.HTTPURL+"/api/v1/connections/"+welcome.ConnID, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var closed *wsclient.CloseError
	if err := stopped(t, c); !errors.As(err, &closed) || closed.Code != 4403 {
		t.Fatalf("Err() = %v, want the 4403 close", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := states[len(states)-1]; last != "closed" || len(states) != 2 {
		t.Fatalf("states %v, want connected then closed, no reconnect", states)
	}
}

// An expired token (4401) is renewed through TokenFunc, and the client
// comes back as the same user.
func TestExpiredTokenIsRenewed(t *testing.T) {
	const secret = "renew-secret"
	node := wstest.Start(t, map[string]any{"ws.auth.jwtSecret": secret})
	renewed := make(chan struct{}, 1)
	reconnected := make(chan wsclient.State, 4)
	c := dial(t, node.WSURL, &wsclient.Options{
		// JWT exp has one-second resolution: two seconds ahead is still
		// valid at the handshake.
		Token:    wstest.Token(t, secret, "carol", time.Now().Add(2*time.Second)),
		MinDelay: 10 * time.Millisecond,
		TokenFunc: func(context.Context) (string, error) {
			renewed <- struct{}{}
			return wstest.Token(t, secret, "carol", time.Time{}), nil
		},
		OnState: func(s wsclient.State) {
			if s.State == "reconnecting" {
				reconnected <- s
			}
		},
	})
	select {
	case s := <-reconnected:
		if s.Code != 4401 {
			t.Fatalf("reconnecting after %d, want 4401", s.Code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect after the token expired")
	}
	<-renewed
	wstest.WaitFor(t, "the renewed connection", func() bool {
		_, err := c.Ping(context.Background(), &wsv1.PingReq{})
		return err == nil
	})
}
