package hub

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Callers that count a room while a count of it is under way share the
// next one, and every caller gets a count that started after it asked.
func TestCallersOfOneRoomShareACount(t *testing.T) {
	var (
		counts   sharedCounts
		started  atomic.Int64
		first    = make(chan struct{})
		firstRun = make(chan struct{})
	)
	count := func() roomCount {
		n := started.Add(1)
		if n == 1 {
			close(firstRun)
			<-first
		}
		return roomCount{users: int(n)}
	}
	leader := make(chan roomCount, 1)
	go func() { leader <- counts.take("lobby", count) }()
	<-firstRun

	const callers = 64
	type answer struct{ asked, got int }
	answers := make(chan answer, callers)
	var asking sync.WaitGroup
	asking.Add(callers)
	for range callers {
		go func() {
			asked := int(started.Load())
			asking.Done()
			answers <- answer{asked, counts.take("lobby", count).users}
		}()
	}
	asking.Wait()
	waitFor(t, func() bool {
		counts.mu.Lock()
		defer counts.mu.Unlock()
		return counts.next["lobby"] != nil
	})
	close(first)
	if got := <-leader; got.users != 1 {
		t.Fatalf("the first caller got count %d, want its own, 1", got.users)
	}
	for range callers {
		a := <-answers
		if a.got <= a.asked {
			t.Fatalf("a caller that asked after %d counts had started got count %d, which started before it asked", a.asked, a.got)
		}
	}
	if calls := started.Load(); calls > callers/4 {
		t.Fatalf("%d callers made %d counts: they did not share them", callers+1, calls)
	}
	if len(counts.running)+len(counts.next) != 0 {
		t.Fatalf("rounds left behind: running %v, next %v", counts.running, counts.next)
	}
}

// A caller alone counts at once, and rooms do not wait on each other.
func TestCountsOfOtherRoomsDoNotWait(t *testing.T) {
	var counts sharedCounts
	held := make(chan struct{})
	go counts.take("slow", func() roomCount { <-held; return roomCount{} })
	defer close(held)
	waitFor(t, func() bool {
		counts.mu.Lock()
		defer counts.mu.Unlock()
		return counts.running["slow"] != nil
	})
	done := make(chan roomCount, 1)
	go func() { done <- counts.take("lobby", func() roomCount { return roomCount{users: 7} }) }()
	select {
	case got := <-done:
		if got.users != 7 {
			t.Fatalf("got %d users, want 7", got.users)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a count of lobby waited on one of another room")
	}
}

// waitFor waits up to five seconds for cond.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
