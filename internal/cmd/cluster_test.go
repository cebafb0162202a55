package cmd_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// Cluster tests run each node as its own process, as in production: the
// hub is a process-wide service.

const clusterSecret = "cluster-secret"

func launchClusterNode(t *testing.T, redis *wstest.Redis, extra map[string]any) *server {
	t.Helper()
	s := launchUnready(t, redis, extra)
	wstest.WaitFor(t, "the node to be ready", func() bool { return s.status("/readyz") == 200 })
	return s
}

// launchClusterNodeAt is launchClusterNode on a port of the test's
// choosing, so that a node can come back where its clients knew it.
func launchClusterNodeAt(t *testing.T, redis *wstest.Redis, port int, extra map[string]any) *server {
	t.Helper()
	s := launchOn(t, port, clusterSettings(redis, extra))
	wstest.WaitFor(t, "the node to be ready", func() bool { return s.status("/readyz") == 200 })
	return s
}

// launchUnready starts a cluster node without waiting for it to reach
// Redis.
func launchUnready(t *testing.T, redis *wstest.Redis, extra map[string]any) *server {
	t.Helper()
	return launch(t, clusterSettings(redis, extra))
}

// clusterSettings are a cluster node's settings on redis, with extra.
func clusterSettings(redis *wstest.Redis, extra map[string]any) map[string]any {
	return wstest.Merge(map[string]any{
		"broker.type":           "redis",
		"broker.presenceTTL":    "2s",
		"redis.default.address": redis.Addr(),
		"ws.auth.jwtSecret":     clusterSecret,
		"ws.rateLimit.rate":     0,
	}, extra)
}

func (s *server) wsURL() string { return "ws" + strings.TrimPrefix(s.base, "http") + "/ws" }

func (s *server) dialAs(t *testing.T, user string) *wstest.Client {
	t.Helper()
	c, _ := wstest.DialAs(t, s.wsURL(), clusterSecret, user)
	return c
}

// admin calls the node's admin API from loopback, which needs no token.
func (s *server) admin(t *testing.T, method, path, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, s.base+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := wstest.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

// joinAcross joins room and returns the reply. A member on another node
// who joined just before announces it through Redis asynchronously, so
// that room.joined may arrive after this join and before its reply.
func joinAcross(t *testing.T, c *wstest.Client, room string) wstest.Msg {
	t.Helper()
	c.Send(map[string]any{"id": "join", "event": "room.join", "data": map[string]string{"room": room}})
	for {
		if m := c.Read(); m.Event != "room.joined" {
			return m
		}
	}
}

func expectEvent(t *testing.T, c *wstest.Client, event string, contains ...string) {
	t.Helper()
	m := c.Read()
	if m.Event != event {
		t.Fatalf("got %+v (data %s), want %s", m, m.Data, event)
	}
	for _, want := range contains {
		if !strings.Contains(string(m.Data), want) {
			t.Fatalf("%s data %s lacks %s", event, m.Data, want)
		}
	}
}

func TestClusterDeliversAcrossNodes(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	a, b := launchClusterNode(t, redis, map[string]any{"broker.nodeId": "node-a"}), launchClusterNode(t, redis, nil)
	ann, bob, annOnB := a.dialAs(t, "ann"), b.dialAs(t, "bob"), b.dialAs(t, "ann")
	// Node ids: the configured one, and a generated one unique per process.
	_, welcomeA := wstest.DialWelcome(t, a.wsURL(), nil)
	_, welcomeB := wstest.DialWelcome(t, b.wsURL(), nil)
	if idA, idB := welcomeNode(t, welcomeA), welcomeNode(t, welcomeB); idA != "node-a" || idB == "" || idB == idA {
		t.Fatalf("node ids %q and %q", idA, idB)
	}

	// Presence and joins cross nodes.
	if r := ann.Call("1", "room.join", map[string]string{"room": "x"}); wstest.WithoutEpoch(r.Data) != `{"room":"x","members":1,"offset":0,"epoch":"E"}` {
		t.Fatalf("join on A: %+v %s", r, r.Data)
	}
	if r := joinAcross(t, bob, "x"); wstest.WithoutEpoch(r.Data) != `{"room":"x","members":2,"offset":0,"epoch":"E"}` {
		t.Fatalf("join on B: %+v %s", r, r.Data)
	}
	expectEvent(t, ann, "room.joined", `"userId":"bob"`)
	if r := ann.Call("3", "room.members", map[string]string{"room": "x"}); string(r.Data) != `{"room":"x","count":2,"users":["ann","bob"]}` {
		t.Fatalf("members from A: %s", r.Data)
	}
	if got := b.admin(t, "GET", "/rooms/x", ""); !strings.Contains(got, `"users":["ann","bob"]`) {
		t.Fatalf("admin room on B: %s", got)
	}

	// One sender's room messages arrive in order on the other node.
	const messages = 100
	for i := range messages {
		ann.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "x", "text": fmt.Sprint(i)}})
	}
	for i := range messages {
		expectEvent(t, bob, "room.message", fmt.Sprintf(`"text":"%d"`, i), `"from":"ann"`)
		expectEvent(t, ann, "room.message", fmt.Sprintf(`"text":"%d"`, i))
	}

	// user.send reaches every device of the user, on both nodes.
	if r := bob.Call("4", "user.send", map[string]string{"to": "ann", "text": "hey"}); r.CodeOf(t) != 0 {
		t.Fatalf("user.send: %+v", r)
	}
	expectEvent(t, ann, "user.message", `"from":"bob"`, `"text":"hey"`)
	expectEvent(t, annOnB, "user.message", `"from":"bob"`, `"text":"hey"`)

	// An admin push on A reaches a user who is only on B.
	if got := a.admin(t, "POST", "/push", `{"user":"bob","event":"notice","data":"from A"}`); !strings.Contains(got, `"delivered":0`) {
		t.Fatalf("push on A: %s", got)
	}
	expectEvent(t, bob, "notice", `"from A"`)

	// A kick by user on A closes the user's connections on both nodes.
	if got := a.admin(t, "DELETE", "/users/ann/connections", ""); !strings.Contains(got, `"closed":1`) {
		t.Fatalf("kick ann on A: %s", got)
	}
	for _, c := range []*wstest.Client{ann, annOnB} {
		if reason := c.ExpectClose(ws.CloseKicked); reason != "kicked" {
			t.Fatalf("kicked with %q", reason)
		}
	}
	// The kicked connections leave their rooms once their close completes.
	wstest.WaitFor(t, "ann to leave room x", func() bool {
		return string(bob.Call("5", "room.members", map[string]string{"room": "x"}).Data) == `{"room":"x","count":1,"users":["bob"]}`
	})
}

func TestClusterForgetsTheUsersOfADeadNode(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	a, b := launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil)
	watcher := a.dialAs(t, "watcher")
	ghost := b.dialAs(t, "ghost")
	if r := ghost.Call("1", "room.join", map[string]string{"room": "haunt"}); r.CodeOf(t) != 0 {
		t.Fatalf("join: %+v", r)
	}
	members := func() string {
		return string(watcher.Call("m", "room.members", map[string]string{"room": "haunt"}).Data)
	}
	if got := members(); got != `{"room":"haunt","count":1,"users":["ghost"]}` {
		t.Fatalf("members before the crash: %s", got)
	}
	// No drain, no cleanup: the node just dies.
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wstest.WaitFor(t, "the dead node's user to expire", func() bool {
		return members() == `{"room":"haunt","count":0,"users":[]}`
	})
}

func TestClusterSurvivesARedisOutage(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	a, b := launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil)
	onA, onB := a.dialAs(t, "ada"), b.dialAs(t, "ben")
	for _, c := range []*wstest.Client{onA, onB} {
		if r := joinAcross(t, c, "o"); r.CodeOf(t) != 0 {
			t.Fatalf("join: %+v", r)
		}
	}
	expectEvent(t, onA, "room.joined", `"userId":"ben"`)
	goroutines := func() float64 { return wstest.Metric(t, a.base, "go_goroutines") }

	redis.Kill()
	wstest.WaitFor(t, "/readyz to report the outage", func() bool { return a.status("/readyz") == 503 })
	// Local traffic keeps flowing.
	if r := onA.Call("e", "echo", "still here"); r.CodeOf(t) != 0 || string(r.Data) != `"still here"` {
		t.Fatalf("echo during the outage: %+v", r)
	}
	onA.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "o", "text": "local only"}})
	expectEvent(t, onA, "room.message", `"text":"local only"`)
	// A join works here too, counting this node's users and saying so.
	if r := onA.Call("j", "room.join", map[string]string{"room": "outage"}); r.CodeOf(t) != 0 ||
		string(r.Data) != `{"room":"outage","members":1,"offset":0,"epoch":"","local":true}` {
		t.Fatalf("join during the outage: %+v %s", r, r.Data)
	}
	// A long outage costs nothing that grows: the node retries with a
	// capped backoff and logs the outage once.
	during := goroutines()
	time.Sleep(3 * time.Second)
	if now := goroutines(); now > during+2 {
		t.Fatalf("goroutines grew during the outage: %v -> %v", during, now)
	}
	if n := strings.Count(a.output.String(), "lost Redis"); n != 1 {
		t.Fatalf("the outage was logged %d times:\n%s", n, a.output)
	}

	redis.Start()
	for _, n := range []*server{a, b} {
		wstest.WaitFor(t, "/readyz to recover", func() bool { return n.status("/readyz") == 200 })
	}
	onA.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "o", "text": "across again"}})
	expectEvent(t, onA, "room.message", `"text":"across again"`)
	expectEvent(t, onB, "room.message", `"text":"across again"`, `"from":"ada"`)
	// Redis came back empty. Each node puts its presence back once it
	// reaches Redis again, right after it reports ready, not before.
	members := wstest.ModulePath(t) + ":members:o"
	wstest.WaitFor(t, "both nodes to put their users back", func() bool {
		return redis.Do(t, "ZCARD", members).Int() == 2
	})
	var got struct{ Users []string }
	r := onB.Call("m", "room.members", map[string]string{"room": "o"})
	if err := json.Unmarshal(r.Data, &got); err != nil || strings.Join(got.Users, ",") != "ada,ben" {
		t.Fatalf("members after recovery: %s", r.Data)
	}
}

// A node that starts while Redis is down serves its own connections and
// says so once.
func TestClusterNodeStartsWithRedisDown(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	redis.Kill()
	a := launchUnready(t, redis, nil)
	wstest.WaitFor(t, "the node to log that Redis is out of reach", func() bool {
		return strings.Contains(a.output.String(), "cannot reach Redis at start")
	})
	// The broker logs before the HTTP server listens.
	code := 0
	wstest.WaitFor(t, "the node to answer /readyz", func() bool { code = a.status("/readyz"); return code != 0 })
	if code != 503 {
		t.Fatalf("/readyz with Redis down: %d", code)
	}
	ann := a.dialAs(t, "ann")
	if r := ann.Call("j", "room.join", map[string]string{"room": "r"}); string(r.Data) != `{"room":"r","members":1,"offset":0,"epoch":"","local":true}` {
		t.Fatalf("join with Redis down: %+v %s", r, r.Data)
	}
	if n := strings.Count(a.output.String(), "cannot reach Redis"); n != 1 || strings.Contains(a.output.String(), "lost Redis") {
		t.Fatalf("Redis's absence was logged %d times:\n%s", n, a.output)
	}
}

// A node that reaches a Redis which may evict its keys warns about it.
func TestClusterNodeWarnsOfAnEvictingRedis(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	redis.Do(t, "CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "allkeys-lru")
	a := launchClusterNode(t, redis, nil)
	wstest.WaitFor(t, "the node to warn that Redis evicts keys", func() bool {
		return strings.Contains(a.output.String(), "maxmemory-policy allkeys-lru")
	})
}

// Two applications on one Redis, each of two nodes: app A with its own
// broker.prefix, app B with the default one, the module path.
func TestClusterPrefixSeparatesApplications(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	appA := map[string]any{"broker.prefix": "app-a"}
	a1, a2 := launchClusterNode(t, redis, appA), launchClusterNode(t, redis, appA)
	b1, b2 := launchClusterNode(t, redis, nil), launchClusterNode(t, redis, nil)
	ann, bobOnA := a1.dialAs(t, "ann"), a2.dialAs(t, "bob")
	bobOnB, carl := b1.dialAs(t, "bob"), b2.dialAs(t, "carl")

	// The same room in both applications: each counts and lists only its own.
	if r := ann.Call("1", "room.join", map[string]string{"room": "x"}); !strings.Contains(string(r.Data), `"members":1`) {
		t.Fatalf("join on A1: %+v %s", r, r.Data)
	}
	if r := joinAcross(t, bobOnA, "x"); !strings.Contains(string(r.Data), `"members":2`) {
		t.Fatalf("join on A2: %+v %s", r, r.Data)
	}
	if r := joinAcross(t, bobOnB, "x"); !strings.Contains(string(r.Data), `"members":1`) {
		t.Fatalf("join on B1 counts app A's members: %+v %s", r, r.Data)
	}
	if r := joinAcross(t, carl, "x"); !strings.Contains(string(r.Data), `"members":2`) {
		t.Fatalf("join on B2: %+v %s", r, r.Data)
	}
	expectEvent(t, bobOnB, "room.joined", `"userId":"carl"`)
	if got := a2.admin(t, "GET", "/rooms/x", ""); !strings.Contains(got, `"users":["ann","bob"]`) {
		t.Fatalf("room x of app A: %s", got)
	}
	if got := b1.admin(t, "GET", "/rooms/x", ""); !strings.Contains(got, `"users":["bob","carl"]`) {
		t.Fatalf("room x of app B: %s", got)
	}

	// App A's room and user messages reach app A's other node...
	ann.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "x", "text": "room from A"}})
	expectEvent(t, bobOnA, "room.message", `"text":"room from A"`)
	ann.Send(map[string]any{"event": "user.send", "data": map[string]string{"to": "bob", "text": "user from A"}})
	expectEvent(t, bobOnA, "user.message", `"text":"user from A"`)
	// ...and not app B's bob. Redis had sent them to every subscriber before
	// A2 got them, and sends one subscriber its messages in order, so B1's
	// next delivery is app B's message published after them.
	carl.Send(map[string]any{"event": "room.send", "data": map[string]string{"room": "x", "text": "room from B"}})
	expectEvent(t, bobOnB, "room.message", `"text":"room from B"`, `"from":"carl"`)

	redis.ExpectNamesUnder(t, "app-a", wstest.ModulePath(t))
}

func TestClusterRefusesABadPrefix(t *testing.T) {
	t.Parallel()
	s := launch(t, map[string]any{"broker.type": "redis", "broker.prefix": "my app"})
	if err := s.waitExit(t); err == nil {
		t.Fatal("the server started with a prefix holding a space")
	}
	if want := `config broker.prefix: "my app" has a space`; !strings.Contains(s.output.String(), want) {
		t.Fatalf("output does not say %q:\n%s", want, s.output)
	}
}
