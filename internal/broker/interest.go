package broker

import "sync"

// interest is the set of channels this node wants from Redis: one per
// room it has a member of and per user it has a connection of, and the
// channel of deliveries to everyone. Callers change it without waiting;
// one goroutine brings the subscription in line with it, so that a node
// receives only the traffic it can deliver.
//
// A caller that adds a channel can wait until Redis has confirmed the
// subscription: only then does a delivery published elsewhere reach this
// node. Confirmations come back in the order of the commands, so a channel
// is confirmed when as many confirmations as subscribe commands sent for
// it have arrived, and a stale one cannot wake a newer waiter.
type interest struct {
	mu          sync.Mutex
	wanted      map[string]int  // channel -> how many callers want it
	subscribed  map[string]bool // channels the subscription has been told to have
	unconfirmed map[string]int  // subscribe commands sent and not yet confirmed
	waiters     map[string][]chan struct{}
	// dirty holds the channels changed since the last plan, so that a plan
	// costs what changed, not every channel of the node.
	dirty   map[string]struct{}
	changed chan struct{} // wakes the reconciler; holds at most one signal
}

func newInterest() *interest {
	return &interest{
		wanted:      make(map[string]int),
		subscribed:  make(map[string]bool),
		unconfirmed: make(map[string]int),
		waiters:     make(map[string][]chan struct{}),
		dirty:       make(map[string]struct{}),
		changed:     make(chan struct{}, 1),
	}
}

// add wants channel once more. The returned channel is closed once the
// subscription to it is confirmed.
func (in *interest) add(channel string) <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.wanted[channel]++
	if in.subscribed[channel] && in.unconfirmed[channel] == 0 {
		return closedChan
	}
	wait := make(chan struct{})
	in.waiters[channel] = append(in.waiters[channel], wait)
	in.dirty[channel] = struct{}{}
	signal(in.changed)
	return wait
}

// remove undoes one add.
func (in *interest) remove(channel string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.wanted[channel]--; in.wanted[channel] <= 0 {
		delete(in.wanted, channel)
		in.dirty[channel] = struct{}{}
		signal(in.changed)
	}
}

// plan returns the channels to subscribe to and to leave so that the
// subscription matches what is wanted, and records them as done.
func (in *interest) plan() (subscribe, unsubscribe []string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for channel := range in.dirty {
		switch wanted, subscribed := in.wanted[channel] > 0, in.subscribed[channel]; {
		case wanted && !subscribed:
			in.subscribed[channel] = true
			in.unconfirmed[channel]++
			subscribe = append(subscribe, channel)
		case !wanted && subscribed:
			delete(in.subscribed, channel)
			unsubscribe = append(unsubscribe, channel)
		}
	}
	clear(in.dirty)
	return subscribe, unsubscribe
}

// confirmed takes Redis's confirmation of a subscription to channel, and
// reports whether a subscribe command of the node's asked for it: false
// for a resubscription after a reconnect.
func (in *interest) confirmed(channel string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.unconfirmed[channel] == 0 {
		return false // a resubscription after a reconnect: nobody waits for it
	}
	if in.unconfirmed[channel]--; in.unconfirmed[channel] > 0 {
		return true
	}
	delete(in.unconfirmed, channel)
	for _, wait := range in.waiters[channel] {
		close(wait)
	}
	delete(in.waiters, channel)
	return true
}

// releasing reports whether the next confirmation of channel lets go
// those waiting for it.
func (in *interest) releasing(channel string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.unconfirmed[channel] == 1
}

// lost releases every waiter when the subscription fails: no confirmation
// will come, and the node serves only its own connections until Redis is
// back.
func (in *interest) lost() {
	in.mu.Lock()
	defer in.mu.Unlock()
	clear(in.unconfirmed)
	for channel, waits := range in.waiters {
		for _, wait := range waits {
			close(wait)
		}
		delete(in.waiters, channel)
	}
}

// subscribes reports whether the subscription has been told to have
// channel (see plan), whether or not Redis has confirmed it.
func (in *interest) subscribes(channel string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.subscribed[channel]
}
