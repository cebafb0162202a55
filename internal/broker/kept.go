package broker

import "fmt"

// keptCosts starts the scripts that count what the room streams hold in
// Redis against rooms.history.maxBytes (see appendScript): beside each
// kept message's bytes, what Redis holds for the room around them,
// measured on Redis 7 (64-bit, jemalloc) as INFO memory's used_memory
// grows with each key:
//
//   - bookCost: the room's field in <prefix>:kept:bytes and member of
//     <prefix>:kept:used;
//   - listCost: a history list's key, record and expiry, with the room's
//     bookCost;
//   - idleCost: a stream position's hash, key and expiry, counted while
//     its room has no users. The hash records what it added to the count
//     in its field idle, so that a join, or the eviction, takes back just
//     that.
//
// A room whose users all left keeps its position for rooms.history.ttl
// after its last message, so that they can come back to it; thousands of
// rooms used once and left hold megabytes, so the bound counts them, and
// over it such a room loses its whole stream (see forget), as on a memory
// node. A stream no message was given in is kept for nobody: the leave
// that empties its room deletes it.
var keptCosts = fmt.Sprintf(`
local function bookCost(room)
  return %d + 2 * #room
end
local function listCost(listKey, room)
  return %d + #listKey + bookCost(room)
end
local function idleCost(streamKey)
  return %d + #streamKey
end
`, bookBytes, listBytes, idleBytes)

// The parts of keptCosts that do not grow with the names.
const bookBytes, listBytes, idleBytes = 170, 290, 200

// keptKeys are the keys that count what all rooms keep, in the order the
// scripts take them: <prefix>:kept:bytes, :kept:total and :kept:used.
func (r *Redis) keptKeys() []string { return r.shared[:3:3] }
