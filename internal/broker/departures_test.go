package broker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/wstest"
)

// departures collects what a broker's Departed function is told.
type departures struct {
	mu   sync.Mutex
	told map[string][]broker.Departure // by room
}

func listen(b broker.Broker) *departures {
	d := &departures{told: make(map[string][]broker.Departure)}
	b.Departed(func(room string, left []broker.Departure) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.told[room] = append(d.told[room], left...)
	})
	return d
}

func (d *departures) of(room string) []broker.Departure {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]broker.Departure(nil), d.told[room]...)
}

// The users of a node that died leave its rooms on every node, and the
// live nodes are told: each user who leaves the room is told once in the
// cluster, to whichever node's call swept it, with the room's users after
// it and a version above that of every count that still included it. A
// user still in the room on a live node does not leave.
func TestRedisTellsTheDeparturesOfADeadNodesUsers(t *testing.T) {
	redis := wstest.StartRedis(t)
	const ttl = 300 * time.Millisecond
	a := newRedisBrokerTTL(t, redis, testPrefix, "a", ttl, nil)
	b := newRedisBrokerTTL(t, redis, testPrefix, "b", ttl, nil)
	dying := newRedisBrokerTTL(t, redis, testPrefix, "dying", ttl, nil)
	toldA, toldB := listen(a), listen(b)
	join(t, a, "r", "ann")
	join(t, b, "r", "dan")
	join(t, dying, "r", "bob")
	join(t, dying, "r", "carol")
	join(t, dying, "r", "ann")
	ctx := context.Background()
	before, err := a.Count(ctx, "r")
	if err != nil || before.Users != 4 {
		t.Fatalf("count with every node alive: %+v (%v), want 4 users", before, err)
	}
	if err := dying.Close(); err != nil {
		t.Fatal(err)
	}
	// Its score lapses a TTL after its last heartbeat; the live nodes'
	// heartbeats sweep it. Ten TTLs leave a loaded machine room.
	wstest.WaitWithin(t, 10*ttl, "the dead node's users to be told gone", func() bool {
		return len(toldA.of("r"))+len(toldB.of("r")) >= 2
	})
	after, err := a.Count(ctx, "r")
	if err != nil || after.Users != 2 {
		t.Fatalf("count once the dead node is swept: %+v (%v), want 2 users", after, err)
	}
	left := append(toldA.of("r"), toldB.of("r")...)
	if len(left) != 2 {
		t.Fatalf("departures told: %+v, want bob's and carol's once each", left)
	}
	if len(toldA.of("r")) > 0 && len(toldB.of("r")) > 0 {
		t.Fatalf("one sweep told to two nodes: %+v and %+v", toldA.of("r"), toldB.of("r"))
	}
	want := []broker.Departure{{User: "bob", Users: 3}, {User: "carol", Users: 2}}
	for i, d := range left {
		if d.User != want[i].User || d.Users != want[i].Users {
			t.Errorf("departure %d: %+v, want %s leaving %d users", i, d, want[i].User, want[i].Users)
		}
		if d.Version <= before.Version || d.Version > after.Version {
			t.Errorf("departure %d numbered %d: want above %d, the count that included it, and at most %d, the count after",
				i, d.Version, before.Version, after.Version)
		}
		if i > 0 && d.Version <= left[i-1].Version {
			t.Errorf("departures numbered out of order: %+v", left)
		}
	}
}
