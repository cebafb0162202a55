// Package broker carries deliveries between the nodes of a cluster and
// keeps room presence. A node delivers to its own connections itself; the
// broker only takes a delivery to the other nodes, so the in-memory broker
// of a single process has nothing to carry.
//
// With Redis, everything of an application is named under its prefix:
//
//	<prefix>:all               channel: deliveries to everyone, connection kicks
//	<prefix>:room:<room>       channel: deliveries to a room
//	<prefix>:user:<user>       channel: deliveries to and kicks of a user
//	<prefix>:entries:<room>    sorted set: "node\x00user", in byte order
//	<prefix>:nodes:<room>      sorted set: node -> until when its heartbeat keeps its entries
//	<prefix>:members:<room>    sorted set: the room's users, in byte order
//	<prefix>:shared:<room>     hash: user -> how many nodes beyond one hold them there
//	<prefix>:stream:<room>     hash: the room's stream position, epoch and offset
//	<prefix>:history:<room>    list: the room's kept messages
//	<prefix>:kept:<what>       what all rooms keep, for rooms.history.maxBytes
//	<prefix>:presence          string: the last number given to a presence change of any room, or to a count
//
// A node subscribes to a room's or a user's channel only while it holds a
// member or a connection of it, so no node carries the whole cluster's
// traffic. The four presence keys change together in one script, so a
// count is ZCARD and a page ZRANGEBYLEX at any room size, and a heartbeat
// costs one call per room whatever its size.
package broker

import "context"

// Kind says who a Message is for.
type Kind uint8

// The kinds of delivery.
const (
	// ToRoom goes to every connection in room Target.
	ToRoom Kind = iota + 1
	// ToUser goes to every connection of user Target.
	ToUser
	// ToAll goes to every connection.
	ToAll
	// KickUser closes every connection of user Target with 4403.
	KickUser
	// KickConn closes connection Target with 4403.
	KickConn
)

// Message is one delivery. Frame is the encoded push, built once by the
// publisher; for the kick kinds it is the close reason.
type Message struct {
	Kind   Kind
	Target string
	Frame  []byte
	// Origin is the node that published; it has already delivered to its
	// own connections, except for a room stream's messages.
	Origin string
	// Offset is the place of a room stream's message in its stream (see
	// Append); 0 for every other delivery.
	Offset uint64
	// Epoch is the life of the stream that Offset counts: a stream that
	// starts again under a room's members (Redis lost it) numbers from 1
	// again, in a new epoch.
	Epoch string
	// Presence is, for a room.joined or room.left, the Version of the
	// change it tells (see Applied); 0 for every other delivery, and when
	// the version is unknown.
	Presence uint64
}

// Handler receives the Messages of other nodes, in the order each node
// published them.
type Handler func(Message)

// Change is one user entering (Join) or leaving a room on this node.
type Change struct {
	Room, User string
	Join       bool
}

// Applied is what one Change left behind.
type Applied struct {
	// Users is how many users the room has after the change, on every
	// node.
	Users int
	// Moved reports whether the change took the user into or out of the
	// room on every node: false for a user who is, or stays, in the room
	// on another node or device.
	Moved bool
	// Position is, for a join, the room's stream position read after the
	// change when the broker reads it along with the change, and nil when
	// it does not (Recover tells it then).
	Position *Position
	// Version numbers the change among every room's presence changes, in
	// the order the broker made them (from 1 in memory; in Redis from its
	// clock, with gaps): a Headcount that includes it has a Version at
	// least as high.
	Version uint64
}

// Headcount is how many users a room has, and the Version (see Applied)
// of the last presence change the count includes, 0 for none: a member
// given the count is not to be told again of the changes up to it.
type Headcount struct {
	Users   int
	Version uint64
}

// Departure is a user who left a room on every node because the node
// they were on stopped renewing its presence there (it died): Users is
// how many users the room has after it, Version numbers it as it would a
// Change (see Applied).
type Departure struct {
	User    string
	Users   int
	Version uint64
}

// Broker connects a node to the others. Its methods are safe for
// concurrent use.
type Broker interface {
	// Publish hands m to the other nodes that have an interest in it: a
	// connection in its room, of its user. Messages published by one
	// goroutine arrive at each node in that order. It may return before
	// the other nodes have m.
	Publish(ctx context.Context, m Message) error
	// Subscribe sets the handler for other nodes' messages and for room
	// stream messages, and starts receiving them. It is called once,
	// before the first Publish.
	Subscribe(h Handler)
	// Append publishes m, a push to room m.Target's stream, to every node,
	// this one included: m takes the room's next offset, cluster-wide,
	// and is kept in the room's history. Each node's handler gets a room's
	// messages in offset order. It returns the offset.
	Append(ctx context.Context, m Message) (offset uint64, err error)
	// Recover returns room's stream position, starting the stream when
	// there is none, and, with since, the messages after it when they are
	// all kept (ErrSinceBeyond for a since past the last offset).
	Recover(ctx context.Context, room string, since *Position) (Recovery, error)
	// Position returns room's stream position without starting a stream:
	// the zero Position for a room that has none (never used, or expired
	// with nobody in it), which the next join would start.
	Position(ctx context.Context, room string) (Position, error)
	// Apply records this node's presence changes, in order, and returns
	// what each left behind.
	Apply(ctx context.Context, changes []Change) ([]Applied, error)
	// WatchRoom makes deliveries to room reach this node; the channel is
	// closed once they do. UnwatchRoom undoes one WatchRoom. Neither
	// blocks: the hub calls them under its lock, once for each connection
	// that enters and leaves the room, so that a join can read the room's
	// stream position as soon as the deliveries after it are sure to come.
	WatchRoom(room string) <-chan struct{}
	UnwatchRoom(room string)
	// WatchUser makes deliveries to user reach this node; the channel is
	// closed once they do. UnwatchUser undoes one WatchUser. Neither
	// blocks: the hub calls them under its lock, in the order of its
	// connections' opening and closing.
	WatchUser(user string) <-chan struct{}
	UnwatchUser(user string)
	// Count returns how many users room has on every node, without
	// listing them.
	Count(ctx context.Context, room string) (Headcount, error)
	// Page returns at most limit users of room on every node, in byte
	// order, starting after the user after (from the first when empty),
	// and how many users the room has.
	Page(ctx context.Context, room, after string, limit int) (users []string, count Headcount, err error)
	// Departed sets fn, which is told of the Departures that this node's
	// calls find, each once in the cluster, in the order they were found
	// in each room; it is called before the first Apply, and fn runs on the
	// broker's goroutines or the caller's of Apply, Count and Page, with no
	// broker lock held. A single process finds none.
	Departed(fn func(room string, left []Departure))
	// Received counts the deliveries this node has taken from the others.
	Received() uint64
	// Ready reports whether the broker can reach the other nodes.
	Ready() bool
	// Clustered reports whether other nodes may exist: false for a single
	// process, where what this node does not hold exists nowhere.
	Clustered() bool
	// Close releases the broker's connections and goroutines.
	Close() error
}
