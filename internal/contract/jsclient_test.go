package contract_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The JS client follows a room's stream as the Go client does: a message
// it had is dropped, one of a new epoch is new whatever its offset and is
// told to the app first as a restart, and the reply to a join of a room
// it follows already does not move its position past messages on their
// way. testdata/client-streams.mjs drives it with a node's frames.
func TestJSClientFollowsRoomStreams(t *testing.T) {
	want := `["1 E","restarted true at 1 F","1 F","2 F","3 F"]`
	if got := driveJSClient(t, "testdata/client-streams.mjs"); got != want {
		t.Fatalf("the app saw %s, want %s", got, want)
	}
}

// The JS client over connections that end: a room joined while the
// cluster was out of reach (no epoch) is joined again, without since; an
// exception in the app's "rejoined" handler does not make it forget the
// room; 1008 stops it; a connection whose ping gets no reply is given up.
// testdata/client-lifecycle.mjs drives it with fake sockets.
func TestJSClientOverConnectionsThatEnd(t *testing.T) {
	want := `{"joins":[["{\"room\":\"a\"}"],["{\"room\":\"a\",\"since\":{\"offset\":4,\"epoch\":\"E\"}}"]],` +
		`"states":["connecting","connected","reconnecting 1011","reconnecting","connected","reconnecting 1011","reconnecting","connected","closed 1008"],` +
		`"connections":5}`
	if got := driveJSClient(t, "testdata/client-lifecycle.mjs"); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// driveJSClient runs script under node with the path of ws-client.js and
// returns what it printed.
func driveJSClient(t *testing.T, script string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: install Node.js, then run hack/test-deps.sh")
	}
	out, err := exec.Command("node", script, "../../resource/public/ws-client.js").CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, out)
	}
	return strings.TrimSpace(string(out))
}

// The JS client at the edges of its reconnects: pushes that come in the
// same read as a join's reply, before its promise's callbacks run, count
// for the next rejoin's since; a getToken that gives no token after 4401
// stops the client rather than have it come back anonymous; close() while
// a rejoin waits tells the app nothing more; and a "rejoined" handler
// that throws at a restarted stream loses no message.
// testdata/client-edges.mjs drives it with fake sockets.
func TestJSClientAtTheEdgesOfItsReconnects(t *testing.T) {
	want := `{"rejoinSince":{"offset":5,"epoch":"E"},"emptyToken":{"last":"closed 4401","newConnections":0},` +
		`"rejoinedAfterClose":0,"afterAThrowingHandler":{"messages":["t1","t2"],"thrown":["a bug in the app's handler"]}}`
	if got := driveJSClient(t, "testdata/client-edges.mjs"); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
