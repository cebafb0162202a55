package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// roomKeys are room's presence keys, its stream position, then the keys
// every room's calls share, in the order presenceScript takes them.
func (r *Redis) roomKeys(room string) []string {
	return append(r.ownKeys(room, len(r.shared)), r.shared...)
}

// renewKeys are the keys of a renewal, which never empties the room:
// roomKeys without the kept:* ones.
func (r *Redis) renewKeys(room string) []string {
	return append(r.ownKeys(room, 1), r.shared[len(r.shared)-1])
}

// ownKeys are room's presence keys and its stream position, with room
// for more keys after them.
func (r *Redis) ownKeys(room string, more int) []string {
	p := r.names.prefix
	return append(make([]string, 0, 5+more),
		p+":entries:"+room, p+":members:"+room, p+":shared:"+room, p+":nodes:"+room, r.streamKey(room))
}

// Apply records the changes on this node at once, then sends them to
// Redis in one pipeline: one script call per room and up to
// changesPerCall of its changes, in their order, so that joins arriving
// together share a script run. The call also reads the room's stream
// position after its joins. While Redis is out of reach it returns
// ErrUnavailable; the heartbeat restores this node's presence when it
// returns. The rooms' subscriptions follow WatchRoom and UnwatchRoom.
func (r *Redis) Apply(ctx context.Context, changes []Change) ([]Applied, error) {
	const changesPerCall = 500
	var calls []*presenceCall
	open := make(map[string]*presenceCall)
	r.local.mu.Lock()
	for i, c := range changes {
		k := open[c.Room]
		if k == nil || len(k.changes) == changesPerCall {
			// The first call of a room this node had nobody in tells the
			// script that the node's entries there are stale.
			fresh := "0"
			if k == nil && r.local.rooms[c.Room] == nil {
				fresh = "1"
			}
			k = &presenceCall{room: c.Room, fresh: fresh}
			open[c.Room] = k
			calls = append(calls, k)
		}
		k.changes = append(k.changes, i)
		r.local.applyLocked(c)
	}
	if !r.ready.Load() {
		// Redis is told once it is back: the restore that follows an
		// outage covers these rooms too, those the node has left included.
		for room := range open {
			r.unsure[room] = struct{}{}
		}
		r.local.mu.Unlock()
		return nil, ErrUnavailable
	}
	for _, k := range calls {
		k.args = k.scriptArgs(r, changes)
	}
	// Queued under the lock: the heartbeat's counts of this node's users
	// then match what Redis has run when its renewal runs.
	w := write{done: make(chan struct{}), commands: func(p goredis.Pipeliner) {
		for _, k := range calls {
			k.cmd = presenceScript.EvalSha(r.ctx, p, r.roomKeys(k.room), k.args...)
		}
	}}
	err := r.queue(ctx, w)
	r.local.mu.Unlock()
	if err == nil {
		err = r.awaitDone(w)
	}
	if err != nil {
		r.restoreLater(slices.Collect(maps.Keys(open))...)
		return nil, err
	}
	applied := make([]Applied, len(changes))
	for _, k := range calls {
		if err := r.readApplied(k.room, k.cmd, k.changes, changes, applied); err != nil {
			r.restoreLater(slices.Collect(maps.Keys(open))...)
			return nil, err
		}
	}
	return applied, nil
}

// presenceCall is one script call of Apply: a room's changes, up to
// changesPerCall of them, by their places in Apply's changes.
type presenceCall struct {
	room    string
	fresh   string // "1" when the node had nobody in the room before
	changes []int
	args    []any
	cmd     *goredis.Cmd
}

// scriptArgs are the script's: the operation, the TTL, the node and fresh,
// then the changes. The operation is "joins", followed by the users, when
// every change is a join of another user, the script's cheapest case;
// otherwise it is "apply", followed by "+user" or "-user" per change.
func (k *presenceCall) scriptArgs(r *Redis, changes []Change) []any {
	op := "joins"
	if !distinctJoins(k.changes, changes) {
		op = "apply"
	}
	args := append(make([]any, 0, 4+len(k.changes)), op, r.ttl.Milliseconds(), r.node, k.fresh)
	for _, i := range k.changes {
		switch c := changes[i]; {
		case op == "joins":
			args = append(args, c.User)
		case c.Join:
			args = append(args, "+"+c.User)
		default:
			args = append(args, "-"+c.User)
		}
	}
	return args
}

// distinctJoins reports whether the changes at places are all joins, each
// of another user.
func distinctJoins(places []int, changes []Change) bool {
	for _, i := range places {
		if !changes[i].Join {
			return false
		}
	}
	if len(places) == 1 {
		return true
	}
	users := make(map[string]struct{}, len(places))
	for _, i := range places {
		if _, again := users[changes[i].User]; again {
			return false
		}
		users[changes[i].User] = struct{}{}
	}
	return true
}

// readApplied fills applied from a call's reply, and has the room's
// presence restored when the reply says this node's entries there may be
// gone.
func (r *Redis) readApplied(room string, cmd *goredis.Cmd, places []int, changes []Change, applied []Applied) error {
	reply, err := cmd.Slice()
	if err != nil {
		return err
	}
	if len(reply) != 6+len(places) {
		return fmt.Errorf("presence of room %q: %d values for %d changes", room, len(reply), len(places))
	}
	r.tellDeparted(room, reply[0])
	reply = reply[1:]
	last, _ := reply[0].(int64) // the version of the call's last change
	var position *Position      // shared by the call's joins
	if epoch, _ := reply[1].(string); epoch != "" {
		offset, _ := reply[2].(int64)
		position = &Position{Epoch: epoch, Offset: uint64(offset)}
	}
	if current, _ := reply[3].(int64); current == 0 {
		r.restoreLater(room)
	}
	before, _ := reply[4].(int64)
	for j, i := range places {
		users, _ := reply[5+j].(int64)
		applied[i].Users, applied[i].Moved = int(users), users != before
		applied[i].Version = uint64(last) - uint64(len(places)-1-j)
		before = users
		if changes[i].Join {
			applied[i].Position = position
		}
	}
	return nil
}

// Count returns how many users room has on every live node: a Page of
// no users, whose count is one ZCARD.
func (r *Redis) Count(ctx context.Context, room string) (Headcount, error) {
	_, count, err := r.Page(ctx, room, "", 0)
	return count, err
}

// Page returns one page of room's users on every live node; with limit 0
// it counts them only.
func (r *Redis) Page(ctx context.Context, room, after string, limit int) ([]string, Headcount, error) {
	if !r.ready.Load() {
		return nil, Headcount{}, ErrUnavailable
	}
	reply, err := presenceScript.Run(ctx, r.raw, r.roomKeys(room), "page", r.ttl.Milliseconds(), after, strconv.Itoa(limit)).Slice()
	if err != nil {
		return nil, Headcount{}, err
	}
	if len(reply) < 3 {
		return nil, Headcount{}, errors.New("short presence reply")
	}
	r.tellDeparted(room, reply[0])
	reply = reply[1:]
	users, _ := reply[0].(int64)
	version, _ := reply[1].(int64)
	page := make([]string, 0, len(reply)-2)
	for _, u := range reply[2:] {
		s, _ := u.(string)
		page = append(page, s)
	}
	return page, Headcount{Users: int(users), Version: uint64(version)}, nil
}

// Departed sets the function told of the Departures this node's calls
// find.
func (r *Redis) Departed(fn func(room string, left []Departure)) { r.departed.Store(&fn) }

// tellDeparted hands the departures a call's reply lists first, as the
// presence script makes them, to the Departed function: nil or empty for
// none, else the version of the first, then each user and the room's
// users after it.
func (r *Redis) tellDeparted(room string, listed any) {
	values, _ := listed.([]any)
	fn := r.departed.Load()
	if len(values) < 3 || fn == nil {
		return
	}
	first, _ := values[0].(int64)
	left := make([]Departure, 0, len(values)/2)
	for i := 1; i+1 < len(values); i += 2 {
		user, _ := values[i].(string)
		users, _ := values[i+1].(int64)
		left = append(left, Departure{User: user, Users: int(users), Version: uint64(first) + uint64(len(left))})
	}
	(*fn)(room, left)
}

// presenceResult splits the reply of a renew or restore call into the
// departures it lists, told to the Departed function, and its result: 1
// when the node's presence in the room is whole.
func (r *Redis) presenceResult(room string, cmd *goredis.Cmd) (int64, error) {
	reply, err := cmd.Slice()
	if err != nil {
		return 0, err
	}
	if len(reply) != 2 {
		return 0, fmt.Errorf("presence of room %q: %d values, want 2", room, len(reply))
	}
	r.tellDeparted(room, reply[0])
	result, _ := reply[1].(int64)
	return result, nil
}
