// Command refserver is the hand-written net/http + gorilla/websocket hub a
// team would write instead of using the template: the chat-example
// pattern, speaking the welcome/echo/room.join/room.send subset of the
// protocol. It exists only to be measured beside the template by
// `make bench`; it is not part of the product.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait      = 10 * time.Second
	pongWait       = 60 * time.Second
	pingPeriod     = pongWait * 9 / 10
	maxMessageSize = 65536
)

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}

type envelope struct {
	ID    json.RawMessage `json:"id,omitempty"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data,omitempty"`
}

type reply struct {
	ID      json.RawMessage `json:"id,omitempty"`
	Event   string          `json:"event"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    any             `json:"data"`
}

type push struct {
	Event string `json:"event"`
	Data  any    `json:"data"`
}

type client struct {
	hub  *hub
	conn *websocket.Conn
	send chan []byte
	id   string
	gone bool // send is closed; guarded by hub.mu
}

// hub is the mutex-guarded room map of the pattern.
type hub struct {
	mu    sync.Mutex
	rooms map[string]map[*client]bool
}

func (h *hub) join(room string, c *client) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[room] == nil {
		h.rooms[room] = make(map[*client]bool)
	}
	h.rooms[room][c] = true
	return len(h.rooms[room])
}

// leaveAll unregisters a client whose reader ended. Closing its queue
// ends its writer, as the chat example's unregister does; otherwise the
// writer would wait for its next ping, up to pingPeriod, holding the
// connection.
func (h *hub) leaveAll(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for room, members := range h.rooms {
		delete(members, c)
		if len(members) == 0 {
			delete(h.rooms, room)
		}
	}
	h.closeSend(c)
}

func (h *hub) closeSend(c *client) {
	if !c.gone {
		c.gone = true
		close(c.send)
	}
}

// broadcast hands one marshalled message to every member; a full queue
// drops the member, as the chat example does.
func (h *hub) broadcast(room string, msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.rooms[room] {
		select {
		case c.send <- msg:
		default:
			h.closeSend(c)
			delete(h.rooms[room], c)
		}
	}
}

func (c *client) readPump() {
	defer func() {
		c.hub.leaveAll(c)
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessageSize)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, message, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var env envelope
		if json.Unmarshal(message, &env) != nil {
			continue
		}
		switch env.Event {
		case "echo":
			c.reply(env, env.Data)
		case "room.join":
			var data struct{ Room string }
			_ = json.Unmarshal(env.Data, &data)
			members := c.hub.join(data.Room, c)
			c.reply(env, map[string]any{"room": data.Room, "members": members})
		case "room.send":
			var data struct{ Room, Text string }
			_ = json.Unmarshal(env.Data, &data)
			msg, _ := json.Marshal(push{Event: "room.message", Data: map[string]any{
				"room": data.Room, "from": c.id, "text": data.Text, "ts": time.Now().UnixMilli(),
			}})
			c.hub.broadcast(data.Room, msg)
			c.reply(env, map[string]string{"room": data.Room})
		}
	}
}

func (c *client) reply(env envelope, data any) {
	if env.ID == nil {
		return
	}
	msg, _ := json.Marshal(reply{ID: env.ID, Event: env.Event, Data: data})
	defer func() { _ = recover() }() // send on a queue the hub closed
	select {
	case c.send <- msg:
	default:
	}
}

func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case message, ok := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				_ = c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, message); err != nil {
				return
			}
		case <-ticker.C:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8100", "listen address")
	flag.Parse()
	h := &hub{rooms: make(map[string]map[*client]bool)}
	var ids atomic.Int64
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		id := "u" + strconv.FormatInt(ids.Add(1), 10)
		c := &client{hub: h, conn: conn, send: make(chan []byte, 256), id: id}
		welcome, _ := json.Marshal(push{Event: "welcome", Data: map[string]string{"connId": id, "userId": id}})
		c.send <- welcome
		go c.writePump()
		go c.readPump()
	})
	log.Printf("reference hub on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
