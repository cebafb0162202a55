package admin

import (
	"github.com/gogf/gf/v2/util/gmeta"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
)

// serverEvents are the event names a client takes for the server's own,
// each with its shape: the pushes the contract declares (welcome,
// room.message, ...), "error", the envelope of every refusal, and
// "rejoined", which the bundled clients raise themselves. An admin push
// under one of them would reach the clients' typed handlers with data of
// any shape, and pass for the server's word.
var serverEvents = func() map[string]bool {
	events := map[string]bool{"error": true, "rejoined": true}
	for _, push := range wsv1.Pushes() {
		events[gmeta.Get(push, "push").String()] = true
	}
	return events
}()
