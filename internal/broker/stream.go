package broker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// A room's stream is the pushes that clients may recover after a
// reconnect: each takes the room's next offset, cluster-wide, and the last
// History.Size of them are kept for History.TTL after the room's last
// message. The epoch names one life of a stream; it changes whenever the
// stream's history is lost, so that an offset is only ever compared with
// offsets of the same life.

// History is how much of each room's stream is kept.
type History struct {
	// Size is how many of a room's last messages are kept; 0 keeps none,
	// and a join with since then never recovers.
	Size int
	// TTL is how long a stream outlives its last message.
	TTL time.Duration
	// MaxBytes bounds the kept messages of all rooms together: on a
	// memory node, or in Redis for the whole cluster; 0 sets no bound.
	// Over it, the rooms with no users lose theirs first, those quiet
	// longest first (in Redis, the rooms with no users among the 1,000
	// quiet longest, then the quiet longest).
	MaxBytes int64
}

// DefaultHistory is rooms.history of manifest/config/config.yaml.
func DefaultHistory() History { return History{Size: 100, TTL: 10 * time.Minute, MaxBytes: 64 << 20} }

// Position is a place in a room's stream: the offset of its last message
// (0 for none) and the stream's epoch.
type Position struct {
	Offset uint64
	Epoch  string
}

// Recovery is a stream's position as a join sees it and, for a join with
// since, what the client missed.
type Recovery struct {
	Position
	// Recovered is true when since had the current epoch and every
	// message after it was kept: Missed holds them all, in order.
	Recovered bool
	Missed    []Message
}

// ErrSinceBeyond is Recover's answer to a since offset past the stream's
// last one, in the stream's current epoch.
var ErrSinceBeyond = errors.New("since is past the room's last offset")

// newEpoch names a new life of a stream.
func newEpoch() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
