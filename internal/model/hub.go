// Package model holds the data structures shared between the service
// layer and its callers.
package model

import "time"

// Connection describes one live connection of this node.
type Connection struct {
	ConnID     string    `json:"connId"     dc:"connection id, unique across nodes"`
	UserID     string    `json:"userId"     dc:"user id, or anon-<connId>"`
	RemoteAddr string    `json:"remoteAddr" dc:"client address, resolved through trusted proxies"`
	Since      time.Time `json:"since"      dc:"when the connection was accepted"`
	Rooms      []string  `json:"rooms"      dc:"rooms the connection has joined"`
}

// HubCounts is the size of a node's registry.
type HubCounts struct {
	Connections int
	Users       int
	Rooms       int
}
