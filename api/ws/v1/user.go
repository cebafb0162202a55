package v1

import "github.com/gogf/gf/v2/frame/g"

// UserSendReq sends text to every connection of a user, on all devices.
type UserSendReq struct {
	g.Meta `event:"user.send" summary:"Send a message to a user"`
	To     string `json:"to"   v:"required|length:1,256#to is required|to must be a user id of at most 256 characters"`
	Text   string `json:"text" v:"required|length:1,4096#text is required|text must be 1 to 4096 characters"`
}

// UserSendRes names the recipient.
type UserSendRes struct {
	To string `json:"to"`
}
