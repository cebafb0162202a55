package cmd_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/edge"
	"github.com/gfws/template-ws/internal/wstest"
)

// A request whose header is whole but whose body never comes is a slow
// header all the same: ghttp reads every request's body before it
// routes, so the connection waits for the client. It is bound like a
// slow header, by server.readHeaderTimeout and by the cap on the
// connections one address has waiting; it was bound only by ghttp's
// readTimeout (60s), and not counted at all.
func TestASlowBodyIsBoundLikeASlowHeader(t *testing.T) {
	node := wstest.Start(t, map[string]any{
		"server.readHeaderTimeout": "1s",
		"server.trustedProxies":    []string{"127.0.0.1/32"},
	})
	const conns = edge.MaxHeaderWaitsPerAddress + 8
	type result struct {
		status int
		held   time.Duration
	}
	results := make(chan result, conns)
	for range conns {
		c := dialRaw(t, node, "127.0.0.2")
		start := time.Now()
		// Any route: a GET of the WebSocket path or of /healthz will do.
		if _, err := fmt.Fprintf(c, "POST /healthz HTTP/1.1\r\nHost: node\r\nContent-Length: 100\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(wstest.Timeout))
			resp, err := http.ReadResponse(c.r, nil)
			status := 0
			if err == nil {
				status = resp.StatusCode
				_ = resp.Body.Close()
			}
			_, _ = io.Copy(io.Discard, c.r) // until the node closes
			results <- result{status, time.Since(start)}
		}()
	}
	refused, longest := 0, time.Duration(0)
	for range conns {
		r := <-results
		if r.status == http.StatusTooManyRequests {
			refused++
		}
		longest = max(longest, r.held)
	}
	if refused < conns-edge.MaxHeaderWaitsPerAddress {
		t.Errorf("%d connections of one address waited for their body at once; %d were refused, want at least %d",
			conns, refused, conns-edge.MaxHeaderWaitsPerAddress)
	}
	if limit := time.Second + 2*time.Second; longest > limit {
		t.Errorf("a connection whose body never came was held %s, past server.readHeaderTimeout (1s)", longest)
	}
}
