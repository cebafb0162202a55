package broker

import (
	"strconv"

	"github.com/gogf/gf/v2/os/glog"
	"github.com/google/btree"
	goredis "github.com/redis/go-redis/v9"
)

// renewalsPerWrite bounds the script calls, and restoredPerWrite the
// users, of one heartbeat pipeline, so that one pipeline's replies stay
// small and the writer serves other work between them.
const renewalsPerWrite, restoredPerWrite = 1000, 2000

// heartbeat renews this node's presence: one script call per room it has
// users in, however many. A room whose renewal finds the node's score
// lapsed or gone, or its entries not matching its users, is restored
// whole, as are the rooms an Apply left unsure.
func (r *Redis) heartbeat() {
	type renewal struct {
		room  string
		users int
		cmd   *goredis.Cmd
	}
	var renewals []*renewal
	// A stream's position outlives the heartbeats, and rooms.history.ttl.
	keep := strconv.FormatInt(max(r.history.TTL, 2*r.ttl).Milliseconds(), 10)
	r.local.mu.Lock()
	for room, tree := range r.local.rooms {
		renewals = append(renewals, &renewal{room: room, users: tree.Len()})
	}
	// Queued under the lock, after every Apply the counts include.
	var writes []write
	for start := 0; start < len(renewals); start += renewalsPerWrite {
		chunk := renewals[start:min(start+renewalsPerWrite, len(renewals))]
		w := write{done: make(chan struct{}), commands: func(p goredis.Pipeliner) {
			for _, rn := range chunk {
				rn.cmd = presenceScript.EvalSha(r.ctx, p, r.renewKeys(rn.room), "renew", r.ttl.Milliseconds(), r.node, rn.users, keep)
			}
		}}
		if r.queue(r.ctx, w) != nil {
			r.local.mu.Unlock()
			return
		}
		writes = append(writes, w)
	}
	r.local.mu.Unlock()
	for _, w := range writes {
		if r.awaitDone(w) != nil {
			return
		}
	}
	// Read outside the lock: departures are told as they are read.
	var lapsed []string
	for _, rn := range renewals {
		if renewed, err := r.presenceResult(rn.room, rn.cmd); err != nil || renewed == 0 {
			lapsed = append(lapsed, rn.room)
		}
	}
	r.local.mu.Lock()
	for _, room := range lapsed {
		r.unsure[room] = struct{}{}
	}
	r.local.mu.Unlock()
	if len(lapsed) > 0 {
		// An operator's sign of heartbeats later than the TTL (a paused
		// process, an overloaded Redis) or of keys Redis lost or evicted.
		glog.Warningf(r.ctx, "redis broker: node %s's presence in %d rooms had lapsed or no longer matched its users; restoring it", r.node, len(lapsed))
	}
	r.restoreUnsure()
}

// restoreLater marks rooms whose presence in Redis may have lost this
// node's changes, and has the heartbeat restore them now.
func (r *Redis) restoreLater(rooms ...string) {
	r.local.mu.Lock()
	for _, room := range rooms {
		r.unsure[room] = struct{}{}
	}
	r.local.mu.Unlock()
	signal(r.repair)
}

// restoreUnsure restores the rooms marked unsure.
func (r *Redis) restoreUnsure() {
	r.local.mu.Lock()
	rooms := make([]string, 0, len(r.unsure))
	for room := range r.unsure {
		rooms = append(rooms, room)
	}
	clear(r.unsure)
	r.local.mu.Unlock()
	r.restore(rooms)
}

// restoreAll restores every room this node has users in, and those
// marked unsure: after an outage, which may have lost its changes or Redis
// its keys.
func (r *Redis) restoreAll() {
	r.local.mu.Lock()
	for room := range r.local.rooms {
		r.unsure[room] = struct{}{}
	}
	r.local.mu.Unlock()
	r.restoreUnsure()
}

// restore makes this node's entries in each room its users there, a page
// of users per script call, every page queued while no change of this
// node can come between them: users that went missing count again, and
// entries of users it no longer has leave. A room whose call fails stays
// unsure until the next heartbeat; one that left more behind than a call
// drops is restored again at once.
func (r *Redis) restore(rooms []string) {
	type restoral struct {
		room string
		args []any // "restore", the TTL, the node, the user before the page, "1" on the last page, its users
		cmd  *goredis.Cmd
	}
	var all []*restoral
	var writes []write
	r.local.mu.Lock()
	for start := 0; start < len(rooms); {
		first, queued := len(all), 0
		for ; start < len(rooms) && queued < restoredPerWrite; start++ {
			pages := restorePages(r.local.rooms[rooms[start]])
			for i, page := range pages {
				args := []any{"restore", r.ttl.Milliseconds(), r.node, page.after, "0"}
				if i == len(pages)-1 {
					args[4] = "1"
				}
				for _, user := range page.users {
					args = append(args, user)
				}
				all = append(all, &restoral{room: rooms[start], args: args})
				queued += len(args)
			}
		}
		chunk := all[first:]
		w := write{done: make(chan struct{}), commands: func(p goredis.Pipeliner) {
			for _, rs := range chunk {
				rs.cmd = presenceScript.EvalSha(r.ctx, p, r.roomKeys(rs.room), rs.args...)
			}
		}}
		if r.queue(r.ctx, w) != nil {
			break
		}
		writes = append(writes, w)
	}
	r.local.mu.Unlock()
	for _, w := range writes {
		if r.awaitDone(w) != nil {
			return // the receiver notices the outage; its end restores all
		}
	}
	unfinished := false
	var again []string
	for _, rs := range all {
		if rs.cmd == nil {
			again = append(again, rs.room)
		} else if done, err := r.presenceResult(rs.room, rs.cmd); err != nil {
			again = append(again, rs.room)
		} else if done == 0 {
			again = append(again, rs.room)
			unfinished = true
		}
	}
	r.local.mu.Lock()
	for _, room := range again {
		r.unsure[room] = struct{}{}
	}
	r.local.mu.Unlock()
	if unfinished {
		signal(r.repair)
	}
}

// restorePage is one script call's share of a room's restore: users in
// byte order, the first after the user named by after ("" on the first
// page).
type restorePage struct {
	after string
	users []string
}

// usersPerRestore bounds the users of one restore call, so that a
// restore's calls each take Redis about as long however large the room.
const usersPerRestore = 1000

// restorePages splits the node's users in a room into pages; a room the
// node has nobody in is one empty page, which drops whatever it left.
func restorePages(users *btree.BTreeG[string]) []restorePage {
	pages := []restorePage{{}}
	if users == nil {
		return pages
	}
	users.Ascend(func(user string) bool {
		last := &pages[len(pages)-1]
		if len(last.users) == usersPerRestore {
			pages = append(pages, restorePage{after: last.users[usersPerRestore-1]})
			last = &pages[len(pages)-1]
		}
		last.users = append(last.users, user)
		return true
	})
	return pages
}
