// Package wstest starts real nodes on free ports and talks to them over
// real sockets, for the project's tests. Nothing in the product imports it.
package wstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gogf/gf/v2/encoding/gjson"
	"github.com/gogf/gf/v2/os/gcfg"
	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// Timeout bounds every wait in a test: long enough for a loaded CI machine
// running with -race, short enough that a hang fails fast.
const Timeout = 10 * time.Second

// RepoRoot returns the module root, found by walking up to go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// ConfigJSON returns the shipped manifest/config/config.yaml with overrides
// applied (keys are dotted paths such as "ws.pingInterval"), bound to a
// free loopback port and without the route table dump.
func ConfigJSON(t testing.TB, overrides map[string]any) string {
	t.Helper()
	j, err := gjson.LoadPath(filepath.Join(RepoRoot(t), "manifest", "config", "config.yaml"), gjson.Options{})
	if err != nil {
		t.Fatal(err)
	}
	settings := Merge(map[string]any{
		"server.address":         "127.0.0.1:0",
		"server.dumpRouterMap":   false,
		"server.openapiPath":     "",
		"server.swaggerPath":     "",
		"server.graceful":        false,
		"server.gracefulTimeout": 2,
	}, overrides)
	for k, v := range settings {
		if err := j.Set(k, v); err != nil {
			t.Fatalf("config override %s: %v", k, err)
		}
	}
	return j.MustToJsonString()
}

// Config returns ConfigJSON as a GoFrame config object.
func Config(t testing.TB, overrides map[string]any) *gcfg.Config {
	t.Helper()
	adapter, err := gcfg.NewAdapterContent(ConfigJSON(t, overrides))
	if err != nil {
		t.Fatal(err)
	}
	return gcfg.NewWithAdapter(adapter)
}

// WaitFor polls cond until it holds or Timeout passes.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitWithin(t, Timeout, what, cond)
}

// WaitWithin polls cond until it holds or limit passes, for waits that
// include a build or a process start.
func WaitWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Msg is any server message: a reply has Code, a push does not.
type Msg struct {
	ID      json.RawMessage `json:"id"`
	Event   string          `json:"event"`
	Code    *int            `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	// Room, Offset and Epoch place a room stream's push in its stream.
	Room   string `json:"room"`
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// Client is a test's WebSocket connection. It is not safe for concurrent
// use.
type Client struct {
	*websocket.Conn
	t testing.TB
}

// Dial connects to url and fails the test unless the upgrade succeeds.
func Dial(t testing.TB, url string, header http.Header) *Client {
	t.Helper()
	return DialWith(t, websocket.DefaultDialer, url, header)
}

// DialWith is Dial with a dialer of the test's own, such as one that
// offers compression.
func DialWith(t testing.TB, dialer *websocket.Dialer, url string, header http.Header) *Client {
	t.Helper()
	conn, resp, err := dialer.Dial(url, header)
	if err != nil {
		body := ""
		if resp != nil {
			body = fmt.Sprintf(" (status %d)", resp.StatusCode)
		}
		t.Fatalf("dial %s: %v%s", url, err, body)
	}
	c := &Client{Conn: conn, t: t}
	t.Cleanup(func() { _ = conn.Close() })
	return c
}

// DialWelcome connects and reads the welcome push.
func DialWelcome(t testing.TB, url string, header http.Header) (*Client, Msg) {
	t.Helper()
	c := Dial(t, url, header)
	welcome := c.Read()
	if welcome.Event != "welcome" || welcome.Code != nil {
		t.Fatalf("first message is %+v, want the welcome push", welcome)
	}
	return c, welcome
}

// DialAs connects as user, with a token signed by secret in the
// Authorization header, reads the welcome and returns the client and its
// connection id.
func DialAs(t testing.TB, url, secret, user string) (*Client, string) {
	t.Helper()
	header := http.Header{"Authorization": {"Bearer " + Token(t, secret, user, time.Time{})}}
	c, welcome := DialWelcome(t, url, header)
	var data struct{ ConnID string }
	if err := json.Unmarshal(welcome.Data, &data); err != nil || data.ConnID == "" {
		t.Fatalf("welcome %s has no connId: %v", welcome.Data, err)
	}
	return c, data.ConnID
}

// Merge returns the settings of every map, later ones over earlier ones.
func Merge(settings ...map[string]any) map[string]any {
	merged := map[string]any{}
	for _, m := range settings {
		maps.Copy(merged, m)
	}
	return merged
}

// Send writes one JSON text frame.
func (c *Client) Send(v any) {
	c.t.Helper()
	frame, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.SendRaw(websocket.TextMessage, frame)
}

// SendRaw writes one frame as given.
func (c *Client) SendRaw(kind int, frame []byte) {
	c.t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(Timeout))
	if err := c.WriteMessage(kind, frame); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Read returns the next message, failing the test on a close or timeout.
func (c *Client) Read() Msg {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(Timeout))
	kind, frame, err := c.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if kind != websocket.TextMessage {
		c.t.Fatalf("got frame type %d, want text", kind)
	}
	var m Msg
	if err := json.Unmarshal(frame, &m); err != nil {
		c.t.Fatalf("server sent %q, not an envelope: %v", frame, err)
	}
	return m
}

// Call sends a request with id and returns its reply, which must be the
// next message.
func (c *Client) Call(id any, event string, data any) Msg {
	c.t.Helper()
	c.sendRequest(id, event, data)
	return c.Read()
}

// Request sends a request with id and returns its reply, passing over the
// pushes that come before it.
func (c *Client) Request(id string, event string, data any) Msg {
	c.t.Helper()
	c.sendRequest(id, event, data)
	for {
		if m := c.Read(); string(m.ID) == strconv.Quote(id) {
			return m
		}
	}
}

func (c *Client) sendRequest(id any, event string, data any) {
	c.t.Helper()
	req := map[string]any{"id": id, "event": event}
	if data != nil {
		req["data"] = data
	}
	c.Send(req)
}

// ExpectClose reads until the server's close frame and checks its code.
// It returns the close reason.
func (c *Client) ExpectClose(code int) string {
	c.t.Helper()
	err := c.readToEnd()
	closeErr, ok := err.(*websocket.CloseError)
	if !ok {
		c.t.Fatalf("connection ended with %v, want close code %d", err, code)
	}
	if closeErr.Code != code {
		c.t.Fatalf("close code %d (%q), want %d", closeErr.Code, closeErr.Text, code)
	}
	return closeErr.Text
}

// ReadOrClose returns the next message, or the close frame's error once
// the server closes with code; any other end fails the test.
func (c *Client) ReadOrClose(code int) (Msg, error) {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(Timeout))
	_, frame, err := c.ReadMessage()
	if err != nil {
		closeErr, ok := err.(*websocket.CloseError)
		if !ok || closeErr.Code != code {
			c.t.Fatalf("connection ended with %v, want a message or close code %d", err, code)
		}
		return Msg{}, err
	}
	var m Msg
	if err := json.Unmarshal(frame, &m); err != nil {
		c.t.Fatalf("server sent %q, not an envelope: %v", frame, err)
	}
	return m, nil
}

// ReadsBeforeClose reports whether c reads a message of event whose data
// is the JSON text data before its close with code.
func (c *Client) ReadsBeforeClose(code int, event, data string) bool {
	c.t.Helper()
	for {
		m, err := c.ReadOrClose(code)
		if err != nil {
			return false
		}
		if m.Event == event && string(m.Data) == data {
			return true
		}
	}
}

// ExpectEnd reads until the connection ends, with or without a close
// frame, and fails the test if it does not end within Timeout.
func (c *Client) ExpectEnd() {
	c.t.Helper()
	var netErr interface{ Timeout() bool }
	if err := c.readToEnd(); errors.As(err, &netErr) && netErr.Timeout() {
		c.t.Fatalf("the connection was still open after %s", Timeout)
	}
}

// readToEnd discards messages until a read fails, within Timeout, and
// returns that error.
func (c *Client) readToEnd() error {
	_ = c.SetReadDeadline(time.Now().Add(Timeout))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return err
		}
	}
}

// CodeOf returns a reply's code, failing the test for a push.
func (m Msg) CodeOf(t testing.TB) int {
	t.Helper()
	if m.Code == nil {
		t.Fatalf("message %+v has no code: it is a push, not a reply", m)
	}
	return *m.Code
}

// HasText reports whether the message text contains every fragment.
func (m Msg) HasText(fragments ...string) bool {
	for _, f := range fragments {
		if !strings.Contains(m.Message, f) {
			return false
		}
	}
	return true
}

// ShutdownContext returns a context bounded by Timeout.
func ShutdownContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Token signs an HS256 JWT for sub with secret, expiring at exp (zero for
// no exp claim).
func Token(t testing.TB, secret, sub string, exp time.Time) string {
	t.Helper()
	claims := jwt.MapClaims{"sub": sub}
	if !exp.IsZero() {
		claims["exp"] = exp.Unix()
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

var epochValue = regexp.MustCompile(`"epoch":"[0-9a-f]*"`)

// WithoutEpoch returns a message's data with every epoch replaced by "E":
// an epoch is random, the rest of a reply is not.
func WithoutEpoch(data []byte) string {
	return epochValue.ReplaceAllString(string(data), `"epoch":"E"`)
}
