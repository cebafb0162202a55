// Package rules registers the validation rules that the API definitions
// name in their v: tags. The api packages import it, so a rule is
// registered wherever a request that names it can be validated.
package rules

import (
	"context"
	"errors"
	"regexp"

	"github.com/gogf/gf/v2/util/gvalid"
)

// Room is the rule of a room name: 1 to 64 characters of A-Z a-z 0-9 . _
// : -, so that a name is safe in a log line, a Redis key and a URL path.
const Room = "room"

// RoomPattern is the room rule as a regular expression, for the event
// contract's JSON schemas.
const RoomPattern = `^[A-Za-z0-9._:-]{1,64}$`

var roomName = regexp.MustCompile(RoomPattern)

func init() {
	gvalid.RegisterRule(Room, func(_ context.Context, in gvalid.RuleFuncInput) error {
		if in.Value.IsNil() || in.Value.String() == "" {
			return nil // "required" says whether it must be there
		}
		if !roomName.MatchString(in.Value.String()) {
			return errors.New(in.Field + " must be 1 to 64 characters of A-Z a-z 0-9 . _ : -")
		}
		return nil
	})
}
