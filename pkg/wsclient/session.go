package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// stopCodes are the close codes after which reconnecting cannot help
// (PROTOCOL 4): a normal close, a bug on one side, a kick.
var stopCodes = map[int]bool{1000: true, 1002: true, 1007: true, 1008: true, 1009: true, 4403: true}

const (
	tokenExpired = 4401
	// welcomeWithin bounds the wait for the welcome after an upgrade.
	welcomeWithin = 10 * time.Second
	// defaultPingInterval stands in for a welcome without pingInterval.
	defaultPingInterval = 25 * time.Second
)

// connect dials the node and reads its welcome.
func (c *Client) connect(ctx context.Context) (*websocket.Conn, json.RawMessage, error) {
	header := http.Header{}
	for name, values := range c.opts.Header {
		header[name] = append([]string(nil), values...)
	}
	if c.opts.Token != "" {
		header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	conn, resp, err := c.opts.Dialer.DialContext(ctx, c.url, header)
	if err != nil {
		if resp != nil {
			return nil, nil, refusal(resp)
		}
		return nil, nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(welcomeWithin))
	// ctx bounds the wait for the welcome too: Dial's caller, and Close
	// during a reconnect, do not wait welcomeWithin for a stalled node.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	var welcome Message
	err = conn.ReadJSON(&welcome)
	if !stop() {
		_ = conn.Close()
		return nil, nil, ctx.Err()
	}
	if err != nil || welcome.Event != "welcome" {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("no welcome push after the upgrade: %v", err)
	}
	return conn, welcome.Data, nil
}

// refusal reads a refused handshake's status and GoFrame body.
func refusal(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var refused struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &refused) != nil {
		refused.Message = http.StatusText(resp.StatusCode)
	}
	return &HandshakeError{Status: resp.StatusCode, Code: refused.Code, Message: refused.Message}
}

// attach makes conn the current connection, unless the client was closed
// meanwhile.
func (c *Client) attach(conn *websocket.Conn, welcome json.RawMessage) bool {
	c.mu.Lock()
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		_ = conn.Close()
		return false
	}
	c.conn, c.welcome = conn, welcome
	c.mu.Unlock()
	c.state(State{State: "connected"})
	return true
}

// run reads each connection until it ends, then reconnects as the close
// code says, until the client stops. The backoff keeps growing over
// connections that end within MaxDelay of their start, so that a node
// that accepts and closes at once is not dialled at MinDelay forever.
func (c *Client) run(conn *websocket.Conn) {
	defer close(c.done)
	c.reader.Store(goroutineID())
	failed := 0 // reconnects since a connection last lasted
	for conn != nil {
		opened := time.Now()
		code, reason := c.read(conn)
		// A connection that went silent or failed still holds its socket,
		// and the node its place in every room, until closed.
		_ = conn.Close()
		c.detach(fmt.Sprintf("connection closed (%d %s)", code, reason))
		if c.ctx.Err() != nil {
			break
		}
		if time.Since(opened) >= c.opts.MaxDelay {
			failed = 0
		}
		conn, failed = c.reconnect(code, reason, failed)
	}
	if c.ctx.Err() != nil && c.stopErr == nil {
		c.state(State{State: "closed"})
	}
	c.cancel()
}

// read dispatches conn's messages until it fails, and returns the close
// code (1006 without a close frame) and reason.
func (c *Client) read(conn *websocket.Conn) (int, string) {
	silence := 2*pingInterval(c.Welcome()) + 5*time.Second
	_ = conn.SetReadDeadline(time.Now().Add(silence))
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(time.Now().Add(silence))
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.opts.WriteTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	for {
		var m Message
		err := conn.ReadJSON(&m)
		var closed *websocket.CloseError
		switch {
		case errors.As(err, &closed):
			return closed.Code, closed.Text
		case err != nil && isSyntaxError(err):
			continue // not the server's envelope: nothing to dispatch
		case err != nil:
			return websocket.CloseAbnormalClosure, err.Error()
		}
		if c.ctx.Err() != nil {
			// Closed by a handler: the frames gorilla had read already
			// reach no handler after the Close.
			return websocket.CloseNormalClosure, "client closed"
		}
		_ = conn.SetReadDeadline(time.Now().Add(silence))
		c.dispatch(m)
	}
}

func isSyntaxError(err error) bool {
	var syntax *json.SyntaxError
	var kind *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &kind)
}

// pingInterval is the welcome's pingInterval.
func pingInterval(welcome json.RawMessage) time.Duration {
	var w struct {
		PingInterval int64 `json:"pingInterval"`
	}
	if json.Unmarshal(welcome, &w) != nil || w.PingInterval <= 0 {
		return defaultPingInterval
	}
	return time.Duration(w.PingInterval) * time.Millisecond
}

// dispatch hands a reply to its request and a push to its handlers, after
// dropping a stream push already handled (a replay overlapping a live one).
func (c *Client) dispatch(m Message) {
	if len(m.ID) > 0 {
		if m.Code == 0 {
			// Also when the request gave up waiting: the node joined or
			// left all the same, and a reconnect must know.
			c.rooms.follow(m.Event, m.Data)
		}
		id, _ := strconv.Unquote(string(m.ID))
		c.mu.Lock()
		onReply, ok := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ok {
			onReply(m)
			return
		}
	}
	if m.Room != "" && m.Offset > 0 {
		fresh, restarted := c.rooms.advance(m.Room, m.Offset, m.Epoch)
		if restarted {
			c.handlers.rejoined(Rejoined{Room: m.Room, Restarted: true, Offset: m.Offset, Epoch: m.Epoch})
		}
		if !fresh {
			return
		}
	}
	event := m.Event
	if m.Code != 0 {
		event = "error"
	}
	c.handlers.emit(event, m)
}

// detach forgets the ended connection and fails the requests waiting on
// it.
func (c *Client) detach(reason string) {
	c.mu.Lock()
	c.conn = nil
	pending := c.pending
	c.pending = map[string]func(Message){}
	c.mu.Unlock()
	for _, onReply := range pending {
		onReply(Message{Message: reason})
	}
}

// reconnect dials again with backoff after a close it may mend, renewing
// the token first after 4401, and rejoins the remembered rooms. The first
// attempt is the one after the failed earlier ones. It returns the new
// connection and its attempt's number, or nil once the client stops.
func (c *Client) reconnect(code int, reason string, failed int) (*websocket.Conn, int) {
	ended := &CloseError{Code: code, Reason: reason}
	if c.opts.NoReconnect || stopCodes[code] {
		c.finish(ended)
		return nil, 0
	}
	if code == tokenExpired && !c.renewToken(ended) {
		return nil, 0
	}
	for attempt := failed + 1; ; attempt++ {
		delay := c.backoff(attempt)
		c.state(State{State: "reconnecting", Code: code, Reason: reason, Attempt: attempt, Delay: delay})
		timer := time.NewTimer(delay)
		select {
		case <-c.ctx.Done():
			timer.Stop()
			return nil, 0
		case <-timer.C:
		}
		conn, welcome, err := c.connect(c.ctx)
		var refused *HandshakeError
		switch {
		case c.ctx.Err() != nil:
			return nil, 0
		case errors.As(err, &refused) && refused.Status == http.StatusUnauthorized:
			if !c.renewToken(err) {
				return nil, 0
			}
			continue
		case errors.As(err, &refused) && refused.Status == http.StatusForbidden:
			c.finish(err) // an origin the node refuses: no retry changes it
			return nil, 0
		case err != nil:
			continue
		}
		if !c.attach(conn, welcome) {
			return nil, 0
		}
		if c.ctx.Err() != nil {
			return conn, attempt // closed from OnState: no welcome, no rejoin
		}
		c.emitWelcome(welcome)
		c.rejoin()
		return conn, attempt
	}
}

// renewToken asks TokenFunc for a new token; without one, or when it
// fails or gives none, the client stops with cause. A Close meanwhile
// stops it without one.
func (c *Client) renewToken(cause error) bool {
	if c.opts.TokenFunc == nil {
		c.finish(cause)
		return false
	}
	token, err := c.opts.TokenFunc(c.ctx)
	switch {
	case c.ctx.Err() != nil:
		return false
	case err != nil:
		c.finish(fmt.Errorf("renew the token after %v: %w", cause, err))
		return false
	case token == "":
		// Without a token the node would take the client for an
		// anonymous user and rejoin the rooms as that user.
		c.finish(fmt.Errorf("renew the token after %v: TokenFunc gave no token", cause))
		return false
	}
	c.opts.Token = token
	return true
}

// backoff is the delay before attempt: exponential, capped, with jitter
// between half and all of it so that the clients of a restarted node do
// not come back at once.
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := c.opts.MaxDelay
	if shift := attempt - 1; shift < 16 && c.opts.MinDelay<<shift < ceiling {
		ceiling = c.opts.MinDelay << shift
	}
	return ceiling/2 + rand.N(ceiling/2+1)
}

func (c *Client) finish(err error) {
	c.stopErr = err
	c.state(State{State: "closed", Err: err})
}

func (c *Client) state(s State) {
	if c.opts.OnState != nil {
		c.opts.OnState(s)
	}
}

func (c *Client) emitWelcome(welcome json.RawMessage) {
	c.handlers.emit("welcome", Message{Event: "welcome", Data: welcome})
}
