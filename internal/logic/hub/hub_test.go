package hub_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/service"
	"github.com/gfws/template-ws/internal/wstest"
)

// The hub is the process's service, so these tests run one node at a
// time, never in parallel.

const secret = "hub-test-secret"

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, wstest.FrameworkGoroutines()...)
}

func startNode(t *testing.T, overrides map[string]any) *wstest.Node {
	t.Helper()
	return wstest.Start(t, wstest.Merge(map[string]any{"ws.auth.jwtSecret": secret}, overrides))
}

func dialAs(t *testing.T, node *wstest.Node, user string) *wstest.Client {
	t.Helper()
	c, _ := wstest.DialAs(t, node.WSURL, secret, user)
	return c
}

func dataOf(t *testing.T, m wstest.Msg) map[string]any {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal(m.Data, &data); err != nil {
		t.Fatalf("data of %+v: %v", m, err)
	}
	return data
}

// expectPush reads the next message and checks it is the push event with
// the given string fields.
func expectPush(t *testing.T, c *wstest.Client, event string, fields map[string]string) map[string]any {
	t.Helper()
	m := c.Read()
	if m.Event != event || m.Code != nil {
		t.Fatalf("got %+v (data %s), want push %s", m, m.Data, event)
	}
	data := dataOf(t, m)
	for k, v := range fields {
		if data[k] != v {
			t.Fatalf("%s %s = %v, want %q (data %s)", event, k, data[k], v, m.Data)
		}
	}
	return data
}

func expectReply(t *testing.T, m wstest.Msg, code int, data string) {
	t.Helper()
	if m.CodeOf(t) != code || (data != "" && wstest.WithoutEpoch(m.Data) != data) {
		t.Fatalf("reply %+v data %s, want code %d data %s", m, m.Data, code, data)
	}
}

func TestRoomEvents(t *testing.T) {
	node := startNode(t, nil)
	ann, bob, cid := dialAs(t, node, "ann"), dialAs(t, node, "bob"), dialAs(t, node, "cid")

	expectReply(t, ann.Call("1", "room.join", map[string]string{"room": "lobby"}), 0, `{"room":"lobby","members":1,"offset":0,"epoch":"E"}`)
	expectReply(t, bob.Call("2", "room.join", map[string]string{"room": "lobby"}), 0, `{"room":"lobby","members":2,"offset":0,"epoch":"E"}`)
	expectPush(t, ann, "room.joined", map[string]string{"room": "lobby", "userId": "bob"})
	// Joining twice changes nothing and tells nobody.
	expectReply(t, bob.Call("2b", "room.join", map[string]string{"room": "lobby"}), 0, `{"room":"lobby","members":2,"offset":0,"epoch":"E"}`)

	expectReply(t, cid.Call("3", "room.members", map[string]string{"room": "lobby"}), 0, `{"room":"lobby","count":2,"users":["ann","bob"]}`)

	before := time.Now().UnixMilli()
	// The sender's own copy is queued while the handler runs, so it comes
	// before the reply.
	ann.Send(map[string]any{"id": "4", "event": "room.send", "data": map[string]string{"room": "lobby", "text": "hi all"}})
	for _, member := range []*wstest.Client{ann, bob} {
		msg := expectPush(t, member, "room.message", map[string]string{"room": "lobby", "from": "ann", "text": "hi all"})
		if ts, _ := msg["ts"].(float64); int64(ts) < before || int64(ts) > time.Now().UnixMilli() {
			t.Fatalf("room.message ts %v outside the send", msg["ts"])
		}
	}
	expectReply(t, ann.Read(), 0, `{"room":"lobby","offset":1}`)

	got := cid.Call("5", "room.send", map[string]string{"room": "lobby", "text": "let me in"})
	if got.CodeOf(t) != 61 || !got.HasText("not a member", "lobby") {
		t.Fatalf("non-member send: %+v", got)
	}
	for _, bad := range []struct {
		event string
		data  any
		want  string
	}{
		{"room.join", map[string]string{"room": "bad room!"}, "1 to 64 characters"},
		{"room.join", map[string]string{"room": strings.Repeat("r", 65)}, "1 to 64 characters"},
		{"room.join", map[string]string{"room": "a/b"}, "1 to 64 characters"},
		{"room.join", map[string]string{}, "room is required"},
		{"room.send", map[string]string{"room": "lobby", "text": strings.Repeat("é", 4097)}, "1 to 4096 characters"},
		{"room.send", map[string]string{"room": "lobby", "text": ""}, "text is required"},
		{"user.send", map[string]string{"text": "x"}, "to is required"},
	} {
		if r := cid.Call("v", bad.event, bad.data); r.CodeOf(t) != 51 || !r.HasText(bad.want) {
			t.Errorf("%s %v: %+v, want 51 with %q", bad.event, bad.data, r, bad.want)
		}
	}
	// A room name of 64 characters, of every kind the rule allows.
	widest := strings.Repeat("Az09._:-", 8)
	if r := cid.Call("w", "room.join", map[string]string{"room": widest}); r.CodeOf(t) != 0 {
		t.Errorf("joining %q: %+v", widest, r)
	}
	// Exactly 4096 characters of any script is allowed.
	bob.Send(map[string]any{"id": "6", "event": "room.send", "data": map[string]string{"room": "lobby", "text": strings.Repeat("é", 4096)}})
	expectPush(t, bob, "room.message", map[string]string{"from": "bob"})
	expectReply(t, bob.Read(), 0, `{"room":"lobby","offset":2}`)

	expectReply(t, bob.Call("7", "room.leave", map[string]string{"room": "lobby"}), 0, `{"room":"lobby"}`)
	expectPush(t, ann, "room.message", map[string]string{"from": "bob"})
	expectPush(t, ann, "room.left", map[string]string{"room": "lobby", "userId": "bob"})
	expectReply(t, cid.Call("8", "room.members", map[string]string{"room": "lobby"}), 0, `{"room":"lobby","count":1,"users":["ann"]}`)
	// Leaving a room one is not in is harmless.
	expectReply(t, cid.Call("9", "room.leave", map[string]string{"room": "lobby"}), 0, `{"room":"lobby"}`)
	// A room nobody is in has an empty list of users, not null.
	expectReply(t, cid.Call("10", "room.members", map[string]string{"room": "nobody"}), 0, `{"room":"nobody","count":0,"users":[]}`)
}

func TestUserOnTwoDevices(t *testing.T) {
	node := startNode(t, nil)
	phone, laptop, friend := dialAs(t, node, "dee"), dialAs(t, node, "dee"), dialAs(t, node, "eve")

	expectReply(t, friend.Call("1", "user.send", map[string]string{"to": "dee", "text": "ping?"}), 0, `{"to":"dee"}`)
	for _, device := range []*wstest.Client{phone, laptop} {
		expectPush(t, device, "user.message", map[string]string{"from": "eve", "text": "ping?"})
	}

	// Presence counts the user once, and only the last device leaving
	// tells the room.
	expectReply(t, friend.Call("2", "room.join", map[string]string{"room": "den"}), 0, "")
	expectReply(t, phone.Call("3", "room.join", map[string]string{"room": "den"}), 0, `{"room":"den","members":2,"offset":0,"epoch":"E"}`)
	expectPush(t, friend, "room.joined", map[string]string{"userId": "dee"})
	expectReply(t, laptop.Call("4", "room.join", map[string]string{"room": "den"}), 0, `{"room":"den","members":2,"offset":0,"epoch":"E"}`)
	expectReply(t, phone.Call("5", "room.leave", map[string]string{"room": "den"}), 0, "")
	expectReply(t, friend.Call("6", "room.members", map[string]string{"room": "den"}), 0, `{"room":"den","count":2,"users":["dee","eve"]}`)
	laptop.Close() // the last device goes without a word
	expectPush(t, friend, "room.left", map[string]string{"room": "den", "userId": "dee"})
}

func TestRoomMessagesArriveInOrder(t *testing.T) {
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0})
	const messages = 200
	members := make([]*wstest.Client, 4)
	for i := range members {
		members[i] = dialAs(t, node, fmt.Sprintf("m%d", i))
		expectReply(t, members[i].Call("j", "room.join", map[string]string{"room": "ordered"}), 0, "")
	}
	for i := range members {
		for j := i + 1; j < len(members); j++ {
			expectPush(t, members[i], "room.joined", nil)
		}
	}
	sender := members[0]
	for i := range messages {
		sender.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "ordered", "text": fmt.Sprint(i)}})
	}
	for _, m := range members {
		for i := range messages {
			expectPush(t, m, "room.message", map[string]string{"text": fmt.Sprint(i), "from": "m0"})
		}
	}
}

// A member that never reads must not hold up the others, and is closed as
// a slow consumer.
func TestStuckMemberIsClosedAndOthersGetEverything(t *testing.T) {
	// A write timeout longer than the test: the stuck member must be dropped
	// when its queue overflows, not when a write times out.
	node := startNode(t, map[string]any{"ws.rateLimit.rate": 0, "ws.writeTimeout": "120s", "ws.pongTimeout": "180s"})
	// 3000 messages of 8 KB: 24 MB for each member, far beyond what the
	// socket buffers and the send queue of the stuck one can hold.
	const messages, window = 3000, 64
	text := strings.Repeat("é", 4000)
	stuck := dialAs(t, node, "stuck")
	expectReply(t, stuck.Call("j", "room.join", map[string]string{"room": "busy"}), 0, "")
	readers := []*wstest.Client{dialAs(t, node, "r1"), dialAs(t, node, "r2")}
	for _, r := range readers {
		expectReply(t, r.Call("j", "room.join", map[string]string{"room": "busy"}), 0, "")
	}
	expectPush(t, readers[0], "room.joined", map[string]string{"userId": "r2"})

	progress := make([]atomic.Int64, len(readers))
	var wg sync.WaitGroup
	failures := make(chan string, len(readers))
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer progress[i].Store(messages) // a failed reader must not hold the sender
			_ = r.SetReadDeadline(time.Now().Add(60 * time.Second))
			for n := 0; n < messages; {
				_, frame, err := r.ReadMessage()
				if err != nil {
					failures <- fmt.Sprintf("reader %d after %d messages: %v", i, n, err)
					return
				}
				var m wstest.Msg
				if json.Unmarshal(frame, &m) == nil && m.Event == "room.left" {
					continue // the stuck member leaving, whenever the server drops it
				}
				if m.Event != "room.message" || !strings.Contains(string(m.Data), fmt.Sprintf(`"text":"%d:`, n)) {
					failures <- fmt.Sprintf("reader %d message %d out of order: %.80s", i, n, frame)
					return
				}
				n++
				progress[i].Store(int64(n))
			}
		}()
	}
	// The sender stays at most a window ahead of the slowest live reader,
	// so only the member that reads nothing can fall a queue behind.
	slowest := func() int64 {
		low := int64(messages)
		for i := range progress {
			low = min(low, progress[i].Load())
		}
		return low
	}
	sender := readers[0]
	deadline := time.Now().Add(60 * time.Second)
	for i := range messages {
		for int64(i)-slowest() > window {
			if time.Now().After(deadline) {
				t.Fatalf("readers stalled at %d of %d", slowest(), messages)
			}
			time.Sleep(100 * time.Microsecond)
		}
		sender.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "busy", "text": fmt.Sprintf("%d:%s", i, text)}})
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	stuck.ExpectEnd()
	if n := wstest.Metric(t, node.HTTPURL, "ws_slow_consumer_closed_total"); n != 1 {
		t.Fatalf("ws_slow_consumer_closed_total = %v, want 1", n)
	}
}

// Connections that come and go, cleanly or by dropping TCP, leave nothing
// behind: not in the registry, not in rooms, not in presence, not as
// goroutines.
func TestChurnLeavesNothingBehind(t *testing.T) {
	node := startNode(t, nil)
	baseline := runtime.NumGoroutine()
	const cycles, workers = 2000, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cycles; i += workers {
				if err := churnOnce(node.WSURL, i); err != nil {
					errs <- fmt.Errorf("cycle %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wstest.WaitFor(t, "the registry to empty", func() bool {
		return service.Hub().Counts() == model.HubCounts{} && node.App.WS.Len() == 0
	})
	// Presence reaches the broker after the registry, in order.
	wstest.WaitFor(t, "the room's presence to empty", func() bool {
		page, err := service.Hub().RoomMembers(t.Context(), model.RoomMembersInput{Room: "churn", Limit: 1})
		return err == nil && page.Count == 0
	})
	if n := wstest.Metric(t, node.HTTPURL, "ws_connections"); n != 0 {
		t.Fatalf("ws_connections = %v after churn", n)
	}
	wstest.WaitFor(t, "goroutines to return to the baseline", func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}

// churnOnce connects, joins a room, and leaves: even cycles close
// properly, odd ones drop the TCP connection.
func churnOnce(url string, i int) error {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(wstest.Timeout))
	if _, _, err := c.ReadMessage(); err != nil {
		return fmt.Errorf("welcome: %w", err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"event":"room.join","data":{"room":"churn"}}`)); err != nil {
		return err
	}
	for {
		_, frame, err := c.ReadMessage()
		if err != nil {
			return fmt.Errorf("join reply: %w", err)
		}
		if strings.HasPrefix(string(frame), `{"id":1`) {
			break // room.joined pushes of others may come first
		}
	}
	if i%2 == 1 {
		return c.UnderlyingConn().Close()
	}
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		return err
	}
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				return nil
			}
			return fmt.Errorf("close: %w", err)
		}
	}
}
