package wsclient

import (
	"encoding/json"
	"strings"
	"sync"
)

// Rejoined reports a room joined again after a reconnect or, with
// Restarted, a room whose stream started again under the client.
type Rejoined struct {
	Room string
	// Recovered is true when every missed message was replayed, to the
	// room's handlers, before this report; false means the app must
	// reload the room another way.
	Recovered bool
	// Restarted is true when the room's stream started again while the
	// client was in it (the server lost it, as Redis does when it restarts
	// empty): messages before Offset, of Epoch, may never have reached
	// the client, and the app must reload the room another way.
	Restarted bool
	// Missed is how many messages were replayed.
	Missed  uint64
	Offset  uint64
	Epoch   string
	Members int
	Local   bool
	// Err is why the join failed, when it did.
	Err error
}

// since is where the client's copy of a room's stream ends.
type since struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// rooms are the rooms joined, with the position of their streams
// (PROTOCOL 3a), so that a reconnect rejoins them where they left off.
type rooms struct {
	mu       sync.Mutex
	position map[string]since
}

// joinReply is what rooms needs of a room.join reply.
type joinReply struct {
	Room      string `json:"room"`
	Offset    uint64 `json:"offset"`
	Epoch     string `json:"epoch"`
	Members   int    `json:"members"`
	Recovered *bool  `json:"recovered"`
	Local     bool   `json:"local"`
}

// follow remembers a room joined and forgets a room left, from the reply
// to event.
func (r *rooms) follow(event string, data json.RawMessage) {
	if event != "room.join" && event != "room.leave" {
		return
	}
	var reply joinReply
	if json.Unmarshal(data, &reply) != nil || reply.Room == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if event == "room.leave" {
		delete(r.position, reply.Room)
		return
	}
	if r.position == nil {
		r.position = map[string]since{}
	}
	known, ok := r.position[reply.Room]
	if reply.Epoch == "" {
		// Joined while the stream was out of reach ("local"): a room to
		// join again all the same, from no known position.
		if !ok {
			r.position[reply.Room] = since{}
		}
		return
	}
	// A join without since of a room followed already: the connection is
	// in it, and the stream's messages move the position; the reply's
	// offset is that of the last one sent before it, had already.
	if ok && reply.Recovered == nil {
		return
	}
	// A rejoin's replayed messages may have moved the offset past the one
	// the reply started from.
	if ok && known.Epoch == reply.Epoch && known.Offset > reply.Offset {
		return
	}
	r.position[reply.Room] = since{Offset: reply.Offset, Epoch: reply.Epoch}
}

// advance moves a remembered room's position to offset and reports
// whether the message at offset is new, and whether it is the first the
// client sees of a stream that started again in a new epoch.
func (r *rooms) advance(room string, offset uint64, epoch string) (fresh, restarted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	position, ok := r.position[room]
	if !ok {
		return true, false
	}
	if epoch != "" && epoch != position.Epoch {
		r.position[room] = since{Offset: offset, Epoch: epoch}
		// A room joined without a position learns its stream here.
		return true, position.Epoch != ""
	}
	if offset <= position.Offset {
		return false, false
	}
	position.Offset = offset
	r.position[room] = position
	return true, false
}

func (r *rooms) forget(room string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.position, room)
}

func (r *rooms) snapshot() map[string]since {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]since, len(r.position))
	for room, position := range r.position {
		out[room] = position
	}
	return out
}

// rejoin joins every remembered room again with since; each reply, read
// after the messages it replays, becomes a Rejoined for OnRejoined.
func (c *Client) rejoin() {
	for room, position := range c.rooms.snapshot() {
		before := position.Offset
		var from *since // none for a room joined without a position
		if position.Epoch != "" {
			from = &position
		}
		data, _ := json.Marshal(struct {
			Room  string `json:"room"`
			Since *since `json:"since,omitempty"`
		}{room, from})
		id := "rejoin-" + room
		err := c.transmit(id, "room.join", data, func(m Message) {
			if c.ctx.Err() != nil {
				return // closed by the app: nothing to tell
			}
			if refusedForGood(m) {
				// The client is not in the room, and no later reconnect
				// tries it again.
				c.rooms.forget(room)
			}
			c.handlers.rejoined(rejoinedFrom(room, before, m))
		})
		if err != nil {
			c.handlers.rejoined(Rejoined{Room: room, Err: err})
		}
	}
}

// refusedForGood reports whether a rejoin's reply refuses it in a way a
// later reconnect would meet again (51, the room cap). A node too busy or
// failing (the rate limit's 63, 50) and no reply leave the room for the
// next reconnect.
func refusedForGood(m Message) bool {
	switch {
	case m.Code == 0 || m.Event == "":
		return false
	case m.Code == codeInternal:
		return false
	case m.Code == codeBusy:
		return strings.Contains(m.Message, "rooms.maxPerConnection")
	}
	return true
}

// The node's codes for a failure of its own and for a limit reached.
const codeInternal, codeBusy = 50, 63

func rejoinedFrom(room string, before uint64, m Message) Rejoined {
	if m.Code != 0 || m.Event == "" {
		code := m.Code
		if m.Event == "" {
			code = NoReply
		}
		return Rejoined{Room: room, Err: &Error{Event: "room.join", Code: code, Message: m.Message}}
	}
	var reply joinReply
	if err := json.Unmarshal(m.Data, &reply); err != nil {
		return Rejoined{Room: room, Err: err}
	}
	r := Rejoined{Room: room, Offset: reply.Offset, Epoch: reply.Epoch, Members: reply.Members, Local: reply.Local}
	if reply.Recovered != nil && *reply.Recovered {
		r.Recovered, r.Missed = true, reply.Offset-before
	}
	return r
}
