// Package wsclient is a Go client of this app's WebSocket envelope, for
// services, tools and tests: requests matched to their replies by id,
// pushes as callbacks, one writer per connection, and the reconnects and
// room recovery that PROTOCOL 3a and 4 ask of a client.
//
//	c, err := wsclient.Dial(ctx, "ws://localhost:8000/ws", &wsclient.Options{Token: jwt})
//	defer c.Close()
//	c.OnRoomMessage(func(m *v1.RoomMessagePush, _ wsclient.Message) { ... })
//	joined, err := c.RoomJoin(ctx, &v1.RoomJoinReq{Room: "lobby"})
//
// The typed methods (RoomJoin, OnRoomMessage, ...) are generated from the
// event contract into events.go by make gen-client; Request and On take
// any event by name.
package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Options tune a Client; the zero value of each field has a default.
type Options struct {
	// Token is sent as Authorization: Bearer.
	Token string
	// TokenFunc is asked for a new token after close code 4401 (token
	// expired); without it, or when it gives no token, the client stops
	// there rather than come back as another (anonymous) user.
	TokenFunc func(ctx context.Context) (string, error)
	// Header is sent with every handshake, beside the token.
	Header http.Header
	// Dialer dials the connections; websocket.DefaultDialer by default.
	Dialer *websocket.Dialer
	// MinDelay and MaxDelay bound the reconnect backoff (500ms, 15s). It
	// starts over at MinDelay once a connection has lasted MaxDelay.
	MinDelay, MaxDelay time.Duration
	// WriteTimeout is each write's deadline (10s).
	WriteTimeout time.Duration
	// NoReconnect makes the first close final.
	NoReconnect bool
	// OnState is told of every change of the connection. It runs on the
	// client's own goroutine: it must not block.
	OnState func(State)
}

// State is a change of the connection: "connected", "reconnecting" (with
// the close that caused it and the delay before the next dial) or
// "closed" (for good, with Err saying why).
type State struct {
	State   string
	Code    int // the close code, when a close caused the change
	Reason  string
	Attempt int // counts the dials since a connection last lasted MaxDelay
	Delay   time.Duration
	Err     error
}

// Message is a frame as the server sent it: a reply has an id, a refusal a
// non-zero Code, a room stream's push its Room, Offset and Epoch.
type Message struct {
	ID      json.RawMessage `json:"id,omitempty"`
	Event   string          `json:"event"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Room    string          `json:"room"`
	Offset  uint64          `json:"offset"`
	Epoch   string          `json:"epoch"`
	Data    json.RawMessage `json:"data"`
}

// Error is a request the server refused, with the reply's code and
// message, or a request that got no reply (Code -1).
type Error struct {
	Event   string
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: code %d: %s", e.Event, e.Code, e.Message)
}

// NoReply is the Code of an Error for a request that got no reply: the
// connection closed first, or the context ended.
const NoReply = -1

// Client is a connection to a node that reconnects, and rejoins its rooms,
// by itself. Its methods are safe for concurrent use.
type Client struct {
	url  string
	opts Options

	nextID   atomic.Uint64
	handlers handlers
	rooms    rooms

	// ctx ends with Close: it stops the dials, waits and token requests
	// of reconnects.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	conn    *websocket.Conn // nil between connections
	pending map[string]func(Message)
	welcome json.RawMessage
	writeMu sync.Mutex // gorilla allows one writer at a time

	done    chan struct{} // closed when the client has stopped for good
	stopErr error
	reader  atomic.Uint64 // the goroutine that runs the handlers
}

// Dial connects to url, reads the welcome push and returns the client. A
// refused handshake is a *HandshakeError with the server's status, code
// and message.
func Dial(ctx context.Context, url string, opts *Options) (*Client, error) {
	c := &Client{url: url, pending: map[string]func(Message){}, done: make(chan struct{})}
	if opts != nil {
		c.opts = *opts
	}
	c.opts.defaults()
	conn, welcome, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.reader.Store(goroutineID()) // OnState("connected") runs here first
	c.attach(conn, welcome)
	c.reader.Store(0) // until run takes over
	go c.run(conn)
	return c, nil
}

func (o *Options) defaults() {
	if o.Dialer == nil {
		o.Dialer = websocket.DefaultDialer
	}
	if o.MinDelay <= 0 {
		o.MinDelay = 500 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 15 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
}

// Welcome is the data of the current connection's welcome push.
func (c *Client) Welcome() json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.welcome
}

// Request sends event with data and decodes the reply's data into reply
// (nil to drop it). A refusal is an *Error with the server's code.
func (c *Client) Request(ctx context.Context, event string, data, reply any) error {
	payload, err := encodeRequest(data)
	if err != nil {
		return fmt.Errorf("%s: %w", event, err)
	}
	// A request its caller no longer waits for is not sent: the caller
	// would take it for failed, and a retry would send it twice.
	if err := ctx.Err(); err != nil {
		return &Error{Event: event, Code: NoReply, Message: err.Error()}
	}
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	replies := make(chan Message, 1)
	if err := c.transmit(id, event, payload, func(m Message) { replies <- m }); err != nil {
		return err
	}
	select {
	case m := <-replies:
		if m.Code != 0 {
			return &Error{Event: event, Code: m.Code, Message: m.Message}
		}
		if m.Event == "" { // the connection closed before the reply
			return &Error{Event: event, Code: NoReply, Message: m.Message}
		}
		if reply == nil {
			return nil
		}
		return json.Unmarshal(m.Data, reply)
	case <-ctx.Done():
		c.forget(id)
		return &Error{Event: event, Code: NoReply, Message: ctx.Err().Error()}
	}
}

// Send sends event without asking for a reply. A refusal still arrives, as
// a Message with a Code, to the handlers of On("error", ...).
func (c *Client) Send(event string, data any) error {
	payload, err := encodeRequest(data)
	if err != nil {
		return fmt.Errorf("%s: %w", event, err)
	}
	return c.transmit("", event, payload, nil)
}

// transmit writes one request; with an id, onReply gets its reply.
func (c *Client) transmit(id, event string, payload json.RawMessage, onReply func(Message)) error {
	frame, err := json.Marshal(struct {
		ID    string          `json:"id,omitempty"`
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data,omitempty"`
	}{id, event, payload})
	if err != nil {
		return fmt.Errorf("%s: %w", event, err)
	}
	c.mu.Lock()
	conn := c.conn
	if conn != nil && id != "" {
		c.pending[id] = onReply
	}
	c.mu.Unlock()
	if conn == nil {
		return &Error{Event: event, Code: NoReply, Message: "not connected"}
	}
	if err := c.write(conn, websocket.TextMessage, frame); err != nil {
		c.forget(id)
		return &Error{Event: event, Code: NoReply, Message: err.Error()}
	}
	return nil
}

func (c *Client) write(conn *websocket.Conn, kind int, frame []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	return conn.WriteMessage(kind, frame)
}

func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// On registers fn for the pushes of event (or "error" for refusals of
// sends without id) and returns a function that removes it. Handlers run
// one at a time on the client's reader, in arrival order: one must not
// wait for a reply, which that reader would have to read.
func (c *Client) On(event string, fn func(Message)) (remove func()) {
	return c.handlers.add(event, fn)
}

// OnRejoined registers fn for the rooms joined again after a reconnect,
// each after its replayed messages went to their handlers, and for the
// rooms whose stream started again (Restarted), each before the first
// message of the new stream.
func (c *Client) OnRejoined(fn func(Rejoined)) (remove func()) {
	return c.handlers.addRejoined(fn)
}

// Done is closed when the client stopped for good; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the client stopped: nil after Close, a *CloseError after a
// close a reconnect cannot mend (a kick, a bug), or a refused handshake.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.stopErr
	default:
		return nil
	}
}

// Close closes the connection with 1000 and stops the client; it returns
// once the client's goroutines have ended, or at once when called from a
// handler or OnState, whose return the client's goroutine waits for.
func (c *Client) Close() error {
	c.cancel()
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, "client closed"), time.Now().Add(time.Second))
		_ = conn.Close()
	}
	if goroutineID() == c.reader.Load() {
		return nil // the reader ends once the handler that called Close returns
	}
	<-c.done
	return nil
}

// goroutineID is the runtime's number of the calling goroutine, which
// Close needs to tell a handler's call from any other: the runtime gives
// it nowhere else.
func goroutineID() uint64 {
	var buf [32]byte
	n := runtime.Stack(buf[:], false)
	field := strings.TrimPrefix(string(buf[:n]), "goroutine ")
	if i := strings.IndexByte(field, ' '); i > 0 {
		field = field[:i]
	}
	id, _ := strconv.ParseUint(field, 10, 64)
	return id
}

// encodeRequest marshals a request's data. Fields with a d: default are
// left out while zero, so the server applies the default instead of
// refusing the zero.
func encodeRequest(data any) (json.RawMessage, error) {
	if data == nil {
		return nil, nil
	}
	return json.Marshal(withoutZeroDefaults(data))
}

// CloseError is a close that ended the client: its code and reason.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("connection closed with %d %s", e.Code, e.Reason)
}

// HandshakeError is a handshake the server refused: its HTTP status and
// the code and message of its body.
type HandshakeError struct {
	Status  int
	Code    int
	Message string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("handshake refused: status %d, code %d: %s", e.Status, e.Code, e.Message)
}

// IsRefusal reports whether err is a refused request with code.
func IsRefusal(err error, code int) bool {
	var refused *Error
	return errors.As(err, &refused) && refused.Code == code
}
