// Code generated from the event contract (the structs of api/ws/v1) by
// make gen-client. DO NOT EDIT.

package wsclient

import (
	"context"
	"encoding/json"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
)

// Echo sends echo (reply with the data that was sent)
// and returns its reply; a refusal is an *Error with the server's code.
func (c *Client) Echo(ctx context.Context, req *wsv1.EchoReq) (*wsv1.EchoRes, error) {
	reply := new(wsv1.EchoRes)
	if err := c.Request(ctx, "echo", req, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// Ping sends ping (application-level heartbeat)
// and returns its reply; a refusal is an *Error with the server's code.
func (c *Client) Ping(ctx context.Context, req *wsv1.PingReq) (*wsv1.PingRes, error) {
	reply := new(wsv1.PingRes)
	if err := c.Request(ctx, "ping", req, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// RoomJoin sends room.join (join a room)
// and returns its reply; a refusal is an *Error with the server's code.
func (c *Client) RoomJoin(ctx context.Context, req *wsv1.RoomJoinReq) (*wsv1.RoomJoinRes, error) {
	reply := new(wsv1.RoomJoinRes)
	if err := c.Request(ctx, "room.join", req, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// RoomLeave sends room.leave (leave a room)
// and returns its reply; a refusal is an *Error with the server's code.
func (c *Client) RoomLeave(ctx context.Context, req *wsv1.RoomLeaveReq) (*wsv1.RoomLeaveRes, error) {
	reply := new(wsv1.RoomLeaveRes)
	if err := c.Request(ctx, "room.leave", req, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// RoomMembers sends room.members (list a room's users, a page at a time)
// and returns its reply; a refusal is an *Error with the server's code.
func (c *Client) RoomMembers(ctx context.Context, req *wsv1.RoomMembersReq) (*wsv1.RoomMembersRes, error) {
	reply := new(wsv1.RoomMembersRes)
	if err := c.Request(ctx, "room.members", req, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// RoomSend sends room.send (send a message to a room)
// and returns its reply; a refusal is an *Error with the server's code.
func (c *Client) RoomSend(ctx context.Context, req *wsv1.RoomSendReq) (*wsv1.RoomSendRes, error) {
	reply := new(wsv1.RoomSendRes)
	if err := c.Request(ctx, "room.send", req, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// UserSend sends user.send (send a message to a user)
// and returns its reply; a refusal is an *Error with the server's code.
func (c *Client) UserSend(ctx context.Context, req *wsv1.UserSendReq) (*wsv1.UserSendRes, error) {
	reply := new(wsv1.UserSendRes)
	if err := c.Request(ctx, "user.send", req, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// OnRoomJoined registers fn for room.joined (a user joined a room you are in)
// and returns a function that removes it.
func (c *Client) OnRoomJoined(fn func(*wsv1.RoomJoinedPush, Message)) (remove func()) {
	return c.On("room.joined", func(m Message) {
		data := new(wsv1.RoomJoinedPush)
		if json.Unmarshal(m.Data, data) == nil {
			fn(data, m)
		}
	})
}

// OnRoomLeft registers fn for room.left (a user left a room you are in)
// and returns a function that removes it.
func (c *Client) OnRoomLeft(fn func(*wsv1.RoomLeftPush, Message)) (remove func()) {
	return c.On("room.left", func(m Message) {
		data := new(wsv1.RoomLeftPush)
		if json.Unmarshal(m.Data, data) == nil {
			fn(data, m)
		}
	})
}

// OnRoomMessage registers fn for room.message (a message sent to a room you are in)
// and returns a function that removes it.
func (c *Client) OnRoomMessage(fn func(*wsv1.RoomMessagePush, Message)) (remove func()) {
	return c.On("room.message", func(m Message) {
		data := new(wsv1.RoomMessagePush)
		if json.Unmarshal(m.Data, data) == nil {
			fn(data, m)
		}
	})
}

// OnUserMessage registers fn for user.message (a message sent to your user)
// and returns a function that removes it.
func (c *Client) OnUserMessage(fn func(*wsv1.UserMessagePush, Message)) (remove func()) {
	return c.On("user.message", func(m Message) {
		data := new(wsv1.UserMessagePush)
		if json.Unmarshal(m.Data, data) == nil {
			fn(data, m)
		}
	})
}

// OnWelcome registers fn for welcome (the first message of every connection)
// and returns a function that removes it.
func (c *Client) OnWelcome(fn func(*wsv1.WelcomePush, Message)) (remove func()) {
	return c.On("welcome", func(m Message) {
		data := new(wsv1.WelcomePush)
		if json.Unmarshal(m.Data, data) == nil {
			fn(data, m)
		}
	})
}
