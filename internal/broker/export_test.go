package broker

// ModulePrefix exposes modulePrefix, so that tests can give it the build
// information of a program built without module information.
var ModulePrefix = modulePrefix

// Heartbeat renews r's presence now.
func (r *Redis) Heartbeat() { r.heartbeat() }

// EvictionWarning exposes evictionWarning.
var EvictionWarning = evictionWarning

// KeptCost is what the count of rooms.history.maxBytes adds for room's
// list, beside its messages, and for its position while it has no users,
// when the room had no users as its stream started.
func KeptCost(prefix, room string) (list, idle int) {
	book := bookBytes + 2*len(room)
	return listBytes + len(prefix+":history:"+room) + book, idleBytes + len(prefix+":stream:"+room) + book
}

// StreamsKnown counts the rooms whose stream r's receiver remembers; call
// it after Close.
func (r *Redis) StreamsKnown() int { return len(r.streams) }

// Queued counts the writes waiting for r's writer.
func (r *Redis) Queued() int { return len(r.writes) }
