package ws

import "time"

// Close codes of the application range (PROTOCOL.md section 4): each tells
// the client whether to come back.
const (
	// CloseSlowConsumer: the send queue overflowed. Reconnect with backoff
	// and recover the rooms.
	CloseSlowConsumer = 4008
	// CloseRateLimited: the client stayed over its rate limit. Reconnect
	// after a backoff.
	CloseRateLimited = 4029
	// CloseTokenExpired: the token expired. Reconnect only with a new one.
	CloseTokenExpired = 4401
	// CloseKicked: closed by the admin API. Do not reconnect.
	CloseKicked = 4403
)

// ShutdownReason goes with 1001 when the node drains.
const ShutdownReason = "server shutting down"

const (
	// maxCloseReason is the most a close frame's reason can hold: 125 bytes
	// of control payload less the code.
	maxCloseReason = 123
	// closeReplyWait is how long the server waits for the peer to answer
	// its close frame before it drops the TCP connection anyway.
	closeReplyWait = 2 * time.Second
	// condemnedWriteWait is how long a slow consumer's write under way may
	// still take: a client that reads, only too slowly, then gets whole
	// messages and its close frame rather than a frame cut off. Its
	// queue is dropped at once.
	condemnedWriteWait = 500 * time.Millisecond
	// condemnedCloseWait is the chance a slow consumer's close frame gets:
	// its socket is full, and it must not hold its memory any longer.
	condemnedCloseWait = 100 * time.Millisecond
)

// closeState is how the connection ends.
type closeState struct {
	code   int
	reason string
	frame  bool // a close frame is owed to the peer
	byPeer bool // the peer closed first: answer it and wait for nothing
	drop   bool // throw the queue away and abort a blocked write
}
