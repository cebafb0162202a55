package broker

import "testing"

// closedNow reports whether c is closed, without waiting.
func closedNow(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// A caller that wants a channel whose subscription is sent but not yet
// confirmed waits for the confirmation like the first caller: until then
// a delivery published elsewhere may not reach this node.
func TestInterestWaitsForAPendingSubscription(t *testing.T) {
	in := newInterest()
	first := in.add("room")
	if subscribe, _ := in.plan(); len(subscribe) != 1 {
		t.Fatalf("plan after the first add subscribes to %v", subscribe)
	}
	second := in.add("room")
	if closedNow(first) || closedNow(second) {
		t.Fatal("a waiter was released before Redis confirmed the subscription")
	}
	in.confirmed("room")
	if !closedNow(first) || !closedNow(second) {
		t.Fatal("the confirmation did not release both waiters")
	}
	if !closedNow(in.add("room")) {
		t.Fatal("a confirmed subscription keeps a new caller waiting")
	}
}

// A channel left and wanted again before Redis answered has two
// subscribe commands in flight: the first confirmation is the stale one,
// and only the second releases whoever waits for the new subscription.
func TestInterestWaitsForTheLatestSubscription(t *testing.T) {
	in := newInterest()
	in.add("room")
	in.plan()
	in.remove("room")
	if _, unsubscribe := in.plan(); len(unsubscribe) != 1 {
		t.Fatalf("plan after the remove leaves %v", unsubscribe)
	}
	again := in.add("room")
	in.plan()
	in.confirmed("room")
	if closedNow(again) {
		t.Fatal("the first subscription's confirmation released a waiter of the second")
	}
	in.confirmed("room")
	if !closedNow(again) {
		t.Fatal("the second confirmation did not release its waiter")
	}
}
