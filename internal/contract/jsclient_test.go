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
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: install Node.js, then run hack/test-deps.sh")
	}
	out, err := exec.Command("node", "testdata/client-streams.mjs", "../../resource/public/ws-client.js").CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	want := `["1 E","restarted true at 1 F","1 F","2 F","3 F"]`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("the app saw %s, want %s", got, want)
	}
}
