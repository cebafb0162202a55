// Package broker carries deliveries between the nodes of a cluster and
// keeps room presence. A node delivers to its own connections itself; the
// broker only takes a delivery to the other nodes, so the in-memory broker
// of a single process has nothing to carry.
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
	// own connections.
	Origin string
}

// Handler receives the Messages of other nodes, in the order each node
// published them.
type Handler func(Message)

// Broker connects a node to the others. Its methods are safe for
// concurrent use.
type Broker interface {
	// Publish hands m to every other node. Messages published by one
	// goroutine arrive at each node in that order.
	Publish(ctx context.Context, m Message) error
	// Subscribe sets the handler for other nodes' messages and starts
	// receiving them. It is called once, before the first Publish.
	Subscribe(h Handler)
	// Join records that user is in room on this node.
	Join(ctx context.Context, room, user string) error
	// Leave records that user has no connection left in room on this node.
	Leave(ctx context.Context, room, user string) error
	// Members returns the users in room on every node, sorted.
	Members(ctx context.Context, room string) ([]string, error)
	// Count returns how many users room has on every node.
	Count(ctx context.Context, room string) (int, error)
	// Ready reports whether the broker can reach the other nodes.
	Ready() bool
	// Clustered reports whether other nodes may exist: false for a single
	// process, where what this node does not hold exists nowhere.
	Clustered() bool
	// Close releases the broker's connections and goroutines.
	Close() error
}
