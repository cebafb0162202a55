package ws

import "time"

// SetMessageDeadline shortens messageDeadline for a test; the returned
// function puts it back.
func SetMessageDeadline(d time.Duration) (restore func()) {
	was := messageDeadline
	messageDeadline = d
	return func() { messageDeadline = was }
}
