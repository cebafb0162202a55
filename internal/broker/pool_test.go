package broker_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// A burst of calls leaves its connections in the pool for the next one:
// the pool does not dial and close them again burst after burst.
func TestBurstsOfCallsReuseTheirConnections(t *testing.T) {
	redis := wstest.StartRedis(t)
	b := newRedisBroker(t, redis, testPrefix, "a", nil)
	const calls = 40
	burst := func() {
		// Paused, Redis holds every call in flight, each on a connection
		// of its own, until the pause ends.
		redis.Do(t, "CLIENT", "PAUSE", "300", "ALL")
		var done sync.WaitGroup
		done.Add(calls)
		for range calls {
			go func() {
				defer done.Done()
				if _, _, err := b.Page(context.Background(), "lobby", "", 10); err != nil {
					t.Error(err)
				}
			}()
		}
		done.Wait()
	}
	dialled := func() int {
		n, _ := strconv.Atoi(redis.Info(t, "stats")["total_connections_received"])
		return n
	}
	burst()
	before := dialled()
	burst()
	// The test's own INFO and CLIENT PAUSE connections, and a spare.
	if got := dialled() - before; got > 3 {
		t.Fatalf("the second burst of %d calls dialled %d connections: the first one's were closed", calls, got)
	}
}
