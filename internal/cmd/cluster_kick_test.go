package cmd_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// On Redis, a push to a room reaches this node's members through the
// room's channel, after its append; a kick of one of them right after
// the push's answer still arrives after the push (the close waits for
// what was queued before it, and the push's answer waits for the push
// to reach this node).
func TestAPushToARoomThenAKickArriveInOrderThroughRedis(t *testing.T) {
	t.Parallel()
	redis := wstest.StartRedis(t)
	node := launchClusterNode(t, redis, nil)
	const victims = 10
	type victim struct {
		c  *wstest.Client
		id string
	}
	var vs []victim
	for i := range victims {
		c, id := wstest.DialAs(t, node.wsURL(), clusterSecret, fmt.Sprint("victim", i))
		joinAcross(t, c, "hall")
		vs = append(vs, victim{c, id})
	}
	for i, v := range vs {
		if got := node.admin(t, "POST", "/push", fmt.Sprintf(`{"room":"hall","event":"notice","data":%d}`, i)); !strings.Contains(got, `"code":0`) {
			t.Fatalf("push %d: %s", i, got)
		}
		if got := node.admin(t, "DELETE", "/connections/"+v.id, ""); !strings.Contains(got, `"code":0`) {
			t.Fatalf("kick %d: %s", i, got)
		}
	}
	for i, v := range vs {
		if !v.c.ReadsBeforeClose(ws.CloseKicked, "notice", fmt.Sprint(i)) {
			t.Errorf("victim %d was kicked without the push that came before its kick", i)
		}
	}
}
