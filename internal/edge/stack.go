package edge

import "net/http"

// requestStack is about what a WebSocket handshake takes on the stack
// below this wrapper: ghttp's middleware chain, the route's handler and
// the upgrade's checks.
const requestStack = 8 << 10

// GrowStack wraps the server's handler so that each request grows its
// goroutine's stack once, from the shallowest frame, before it runs.
// Left to grow where it runs out, the stack of a handshake was copied
// twice, deep inside ghttp's middleware and again in the upgrade's
// checks, the runtime adjusting every frame on the way: about a tenth
// of a handshake's CPU, against under 2% for this one growth.
func GrowStack(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reserveRequestStack(len(r.RemoteAddr))
		next(w, r)
	}
}

// reserveRequestStack takes a frame of requestStack bytes; n only keeps
// the frame from being optimized away.
//
//go:noinline
func reserveRequestStack(n int) byte {
	var frame [requestStack]byte
	frame[n%requestStack] = 1
	return frame[(n+1)%requestStack]
}
