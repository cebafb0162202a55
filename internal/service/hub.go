// ================================================================================
// Code generated and maintained by GoFrame CLI tool. DO NOT EDIT.
// You can delete these comments if you wish manually maintain this interface file.
// ================================================================================

package service

import (
	"context"

	"github.com/gfws/template-ws/internal/model"
)

type (
	IHub interface {
		// Register adds a new connection. It returns once deliveries to its user
		// reach this node from the others, or after subscribeWait.
		Register(p model.Peer)
		// Unregister removes a closed connection from its user and its rooms; the
		// small rooms it was the user's last connection in hear room.left.
		Unregister(p model.Peer)
		// Counts returns the size of the registry.
		Counts() model.HubCounts
		// Connections lists this node's connections, all or those of user.
		Connections(user string) []model.Connection
		// SendToUser sends text as user.message to every connection of user to,
		// on every node.
		SendToUser(ctx context.Context, to string, text string) error
		// PushToUser sends event with data to every connection of user on every
		// node, and returns how many of this node's connections took it.
		PushToUser(ctx context.Context, user string, event string, data any) (delivered int, err error)
		// PushToRoom sends event with data, in the room's stream, to every
		// connection in room on every node, and returns how many of this node's
		// connections are in the room, once it has handed the push to them
		// (through Redis, its message comes back through the room's channel): a
		// kick after it closes them after the push.
		PushToRoom(ctx context.Context, room string, event string, data any) (delivered int, err error)
		// PushToAll sends event with data to every connection on every node, and
		// returns how many of this node's connections took it.
		PushToAll(ctx context.Context, event string, data any) (delivered int, err error)
		// KickConn closes a connection with 4403 and reason, on whichever node
		// holds it. Alone, a connection this node does not hold is not found.
		KickConn(ctx context.Context, connID string, reason string) error
		// KickUser closes every connection of user with 4403 and reason, on every
		// node, and returns how many of this node's connections it closed. While
		// the other nodes cannot be reached it says so, whatever it closed here:
		// the user's connections there stay open, and the caller must kick again.
		KickUser(ctx context.Context, user string, reason string) (closed int, err error)
		// JoinRoom adds the calling connection to in.Room and counts the room's
		// users on every node, or on this one while the others are out of reach.
		// The room's other members hear room.joined when this is the user's first
		// connection in it and the room has at most rooms.presenceEventsLimit
		// users: the cost of a join does not grow with the room. With in.Since,
		// the stream messages the client missed are replayed before the reply.
		JoinRoom(ctx context.Context, in model.RoomJoinInput) (out model.RoomJoinOutput, err error)
		// LeaveRoom takes the calling connection out of room; a small room hears
		// room.left when this was the user's last connection in it. Leaving a room
		// one is not in succeeds and changes nothing.
		LeaveRoom(ctx context.Context, room string) error
		// SendToRoom sends text as room.message, in the room's stream, to every
		// connection in room on every node, the sender's included. Only a member
		// may send.
		SendToRoom(ctx context.Context, room string, text string) (model.RoomSendOutput, error)
		// PublishToRoom pushes an event to every connection in a room on every
		// node, as the calling connection, which must have joined the room. It is
		// how a new room event (a typing indicator, a reaction) reaches a room
		// without a change to the hub.
		PublishToRoom(ctx context.Context, in model.RoomEventInput) error
		// RoomMembers returns one page of room's users on every node, sorted, and
		// how many there are: a reply never grows with the room.
		RoomMembers(ctx context.Context, in model.RoomMembersInput) (out model.RoomMembersOutput, err error)
		// RoomPosition returns room's stream position, cluster-wide, without
		// starting a stream: a room never used has offset 0 and no epoch.
		RoomPosition(ctx context.Context, room string) (model.StreamPosition, error)
		// Recoveries counts the joins with since that recovered every missed
		// message, and those that could not.
		Recoveries() (recovered uint64, lost uint64)
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
