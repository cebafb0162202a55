// ================================================================================
// Code generated and maintained by GoFrame CLI tool. DO NOT EDIT.
// You can delete these comments if you wish manually maintain this interface file.
// ================================================================================

package service

import (
	"context"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/model"
	"github.com/gfws/template-ws/internal/ws"
)

type (
	IHub interface {
		// Start connects the hub to the cluster as node through b. Until it is
		// called the hub runs alone on an in-memory broker.
		Start(node string, b broker.Broker)
		// Broker returns the broker the hub publishes through.
		Broker() broker.Broker
		// Register adds a new connection.
		Register(c *ws.Conn)
		// Unregister removes a closed connection from its user and its rooms; the
		// rooms it was the user's last connection in hear room.left.
		Unregister(c *ws.Conn)
		// Counts returns the size of the registry.
		Counts() model.HubCounts
		// Connections lists this node's connections, all or those of user.
		Connections(user string) []model.Connection
		// JoinRoom adds the calling connection to room and returns how many users
		// the room has on every node. The room's other members hear room.joined
		// when this is the user's first connection in it.
		JoinRoom(ctx context.Context, room string) (members int, err error)
		// LeaveRoom takes the calling connection out of room. Leaving a room one
		// is not in succeeds and changes nothing.
		LeaveRoom(ctx context.Context, room string) error
		// SendToRoom sends text to every connection in room on every node, the
		// sender's included. Only a member may send.
		SendToRoom(ctx context.Context, room string, text string) error
		// RoomMembers returns the users in room on every node.
		RoomMembers(ctx context.Context, room string) ([]string, error)
		// SendToUser sends text to every connection of user to, on every node.
		SendToUser(ctx context.Context, to string, text string) error
		// Push sends event with data to a user, a room or everyone (kind
		// ToUser, ToRoom or ToAll) on every node, and returns how many of this
		// node's connections took it.
		Push(ctx context.Context, kind broker.Kind, target string, event string, data any) (delivered int, err error)
		// Kick closes a connection (KickConn) or every connection of a user
		// (KickUser) with 4403 and reason, on every node. It returns how many of
		// this node's connections it closed.
		Kick(ctx context.Context, kind broker.Kind, target string, reason string) (int, error)
	}
)

var (
	localHub IHub
)

func Hub() IHub {
	if localHub == nil {
		panic("implement not found for interface IHub, forgot register?")
	}
	return localHub
}

func RegisterHub(i IHub) {
	localHub = i
}
