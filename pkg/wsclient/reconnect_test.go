package wsclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
	"github.com/gfws/template-ws/pkg/wsclient"
)

// answer is how a scripted node meets one handshake: a close code sent
// after the welcome, an HTTP status refusing the upgrade, a welcome
// promising a ping every millisecond and then silence, an upgrade with no
// welcome at all, or, with none, a connection left open until the client
// goes. ended, when set, is closed once the client's side is gone.
type answer struct {
	close, status int
	lasts         time.Duration // before the close
	silent        bool
	noWelcome     bool
	ended         chan struct{}
}

// scriptedNode answers the n-th handshake with answers[n] (later ones
// stay open) and reports how many handshakes it has had.
func scriptedNode(t *testing.T, answers ...answer) (url string, handshakes func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		var a answer
		if n < len(answers) {
			a = answers[n]
		}
		n++
		mu.Unlock()
		if a.status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(a.status)
			_, _ = w.Write([]byte(`{"code":61,"message":"refused by the script"}`))
			return
		}
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if a.ended != nil {
			defer close(a.ended)
		}
		welcome := map[string]any{}
		if a.silent {
			welcome["pingInterval"] = 1
		}
		if !a.noWelcome {
			_ = c.WriteJSON(map[string]any{"event": "welcome", "data": welcome})
		}
		if a.close != 0 {
			time.Sleep(a.lasts)
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(a.close, "scripted"), time.Now().Add(time.Second))
		}
		for { // until the client answers the close or goes
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// stopped waits for c to stop and returns why.
func stopped(t *testing.T, c *wsclient.Client) error {
	t.Helper()
	select {
	case <-c.Done():
		return c.Err()
	case <-time.After(wstest.Timeout):
		t.Fatal("the client did not stop")
		return nil
	}
}

// Close codes a reconnect cannot mend stop the client, each reported as
// its CloseError; the others bring it back.
func TestCloseCodesStopOrReconnect(t *testing.T) {
	for _, code := range []int{1000, 1002, 1007, 1008, 1009, 4403} {
		url, handshakes := scriptedNode(t, answer{close: code})
		c := dial(t, url, &wsclient.Options{MinDelay: time.Millisecond})
		var closed *wsclient.CloseError
		if err := stopped(t, c); !errors.As(err, &closed) || closed.Code != code {
			t.Errorf("close %d: the client stopped with %v, want its CloseError", code, err)
		}
		if n := handshakes(); n != 1 {
			t.Errorf("close %d: %d handshakes, want no reconnect", code, n)
		}
	}
	for _, code := range []int{1001, 1011, 4008, 4029} {
		url, handshakes := scriptedNode(t, answer{close: code})
		dial(t, url, &wsclient.Options{MinDelay: time.Millisecond})
		wstest.WaitFor(t, "a reconnect after close "+strconv.Itoa(code), func() bool { return handshakes() == 2 })
	}
}

// A handshake refused while reconnecting: 403 (an origin the node
// refuses) stops the client, as does 401 without a TokenFunc; with one,
// the token is renewed and the client tries again.
func TestRefusedReconnects(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusUnauthorized} {
		url, handshakes := scriptedNode(t, answer{close: 1001}, answer{status: status})
		c := dial(t, url, &wsclient.Options{MinDelay: time.Millisecond})
		var refused *wsclient.HandshakeError
		if err := stopped(t, c); !errors.As(err, &refused) || refused.Status != status {
			t.Errorf("reconnect refused with %d: the client stopped with %v", status, err)
		}
		if n := handshakes(); n != 2 {
			t.Errorf("reconnect refused with %d: %d handshakes, want 2", status, n)
		}
	}
	url, handshakes := scriptedNode(t, answer{close: 1001}, answer{status: http.StatusUnauthorized})
	renewed := make(chan struct{}, 1)
	dial(t, url, &wsclient.Options{MinDelay: time.Millisecond, TokenFunc: func(context.Context) (string, error) {
		renewed <- struct{}{}
		return "renewed", nil
	}})
	wstest.WaitFor(t, "a third handshake after the token's renewal", func() bool { return handshakes() == 3 })
	<-renewed
}

// A connection that went silent is closed before the client reconnects:
// left open, the node would keep it in every room until its own pong
// timeout. The client gives up on it 5s and two ping intervals after its
// last frame.
func TestASilentConnectionIsClosed(t *testing.T) {
	t.Parallel()
	first := answer{silent: true, ended: make(chan struct{})}
	url, handshakes := scriptedNode(t, first)
	dial(t, url, &wsclient.Options{MinDelay: time.Millisecond})
	select {
	case <-first.ended:
	case <-time.After(5*time.Second + wstest.Timeout):
		t.Fatal("the silent connection's socket is still open")
	}
	wstest.WaitFor(t, "a reconnect after the silence", func() bool { return handshakes() == 2 })
}

// The backoff grows over connections that a node accepts and closes at
// once, and starts over after one that lasted MaxDelay.
func TestBackoffGrowsOverShortConnections(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lasts time.Duration
		want  []int
	}{
		{0, []int{1, 2, 3, 4}},
		{60 * time.Millisecond, []int{1, 1, 1}},
	} {
		closes := make([]answer, len(tc.want))
		for i := range closes {
			closes[i] = answer{close: websocket.CloseInternalServerErr, lasts: tc.lasts}
		}
		url, _ := scriptedNode(t, closes...)
		var mu sync.Mutex
		var attempts []int
		dial(t, url, &wsclient.Options{MinDelay: time.Millisecond, MaxDelay: 50 * time.Millisecond, OnState: func(s wsclient.State) {
			mu.Lock()
			defer mu.Unlock()
			if s.State == "reconnecting" {
				attempts = append(attempts, s.Attempt)
			}
		}})
		wstest.WaitFor(t, "the scripted closes", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(attempts) == len(tc.want)
		})
		mu.Lock()
		if !slices.Equal(attempts, tc.want) {
			t.Errorf("connections lasting %v: reconnect attempts %v, want %v", tc.lasts, attempts, tc.want)
		}
		mu.Unlock()
	}
}
