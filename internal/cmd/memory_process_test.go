package cmd_test

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/wstest"
)

// rssBytes reads a process's resident set size from /proc.
func rssBytes(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc to read memory from: %v", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// Clients that never read cannot make the server hold more than their
// queues' byte bound: eight of them, each flooding 300 requests of 60 KB
// whose replies would be large, grow the shipped configuration's RSS by
// well under 100 MB, and each is closed as a slow consumer.
func TestNonReadingFloodersStayBoundedInMemory(t *testing.T) {
	t.Parallel()
	s := launch(t, nil)
	wstest.WaitFor(t, "the server to answer /healthz", func() bool { return s.status("/healthz") == 200 })
	wsURL := "ws" + strings.TrimPrefix(s.base, "http") + "/ws"
	before := rssBytes(t, s.cmd.Process.Pid)

	const clients, requests = 8, 300
	echo := []byte(`{"id":1,"event":"echo","data":"` + strings.Repeat("x", 60<<10-64) + `"}`)
	unknown := []byte(`{"id":2,"event":"` + strings.Repeat("<", 60<<10-64) + `"}`)
	var flood bytes.Buffer
	for i := range requests {
		frame := echo
		if i%2 == 1 {
			frame = unknown
		}
		flood.Write(maskedFrame(frame))
	}
	var wg sync.WaitGroup
	for range clients {
		c, _ := wstest.DialWelcome(t, wsURL, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The server may drop the connection before the flood is all
			// written; that is the point.
			_ = c.UnderlyingConn().SetWriteDeadline(time.Now().Add(wstest.Timeout))
			_, _ = c.UnderlyingConn().Write(flood.Bytes())
		}()
	}
	wg.Wait()
	wstest.WaitFor(t, "every flooder to be closed as a slow consumer", func() bool {
		return wstest.Metric(t, s.base, "ws_slow_consumer_closed_total") == clients
	})
	grown := rssBytes(t, s.cmd.Process.Pid) - before
	t.Logf("RSS grew by %.1f MB", float64(grown)/(1<<20))
	if grown > 100<<20 {
		t.Fatalf("the server's RSS grew by %d MB", grown>>20)
	}
}

// maskedFrame frames a client text message with a zero mask key, so the
// payload goes out as it is.
func maskedFrame(payload []byte) []byte {
	header := []byte{0x81, 0x80 | 126, byte(len(payload) >> 8), byte(len(payload)), 0, 0, 0, 0}
	if len(payload) > 0xffff {
		panic("maskedFrame frames payloads up to 64 KB")
	}
	return append(header, payload...)
}
