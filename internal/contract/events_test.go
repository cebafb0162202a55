package contract_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/wstest"
	"github.com/gfws/template-ws/pkg/wsclient"
)

// message returns the payload schema of a component message.
func message(t *testing.T, doc map[string]any, key string) map[string]any {
	t.Helper()
	messages, _ := doc["components"].(map[string]any)["messages"].(map[string]any)
	m, _ := messages[key].(map[string]any)
	payload, _ := m["payload"].(map[string]any)
	if payload == nil {
		t.Fatalf("the document has no message %s", key)
	}
	return payload
}

// property returns one property schema of an object schema.
func property(schema map[string]any, name string) map[string]any {
	p, _ := schema["properties"].(map[string]any)[name].(map[string]any)
	return p
}

// read returns the next frame of c as JSON values, as a schema sees them.
func read(t *testing.T, c *wstest.Client) map[string]any {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wstest.Timeout))
	_, frame, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(frame, &m); err != nil {
		t.Fatalf("server sent %q, not a JSON object: %v", frame, err)
	}
	return m
}

// call sends a request and returns its reply, checking each push that
// comes before it against the contract.
func call(t *testing.T, doc map[string]any, c *wstest.Client, id, event string, data any) map[string]any {
	t.Helper()
	req := map[string]any{"id": id, "event": event}
	if data != nil {
		req["data"] = data
	}
	c.Send(req)
	for {
		m := read(t, c)
		if _, reply := m["code"]; reply && m["id"] == id {
			return m
		}
		checkPush(t, doc, m)
	}
}

// checkPush checks a push against its message, undeclared fields
// included.
func checkPush(t *testing.T, doc map[string]any, m map[string]any) {
	t.Helper()
	event, _ := m["event"].(string)
	if problems := violations(message(t, doc, event+".push"), m, event, true); len(problems) > 0 {
		t.Errorf("push %v does not fit the contract: %s", m, strings.Join(problems, "; "))
	}
}

// TestServerAgreesWithEventSchemas sends each event one request its
// schema accepts, which the server must not refuse as invalid, and one
// request per rule the schema states, which the server must refuse with
// code 51. Each successful reply must fit the reply schema.
func TestServerAgreesWithEventSchemas(t *testing.T) {
	node := wstest.Start(t, nil)
	doc := document(t, node)
	c, _ := wstest.DialWelcome(t, node.WSURL, nil)
	for _, event := range boundRouter(t).Events() {
		request := message(t, doc, event+".request")
		dataSchema := property(request, "data")
		valid := sample(dataSchema)
		if problems := violations(dataSchema, valid, "data", false); len(problems) > 0 {
			t.Fatalf("%s: the sample %v breaks the schema (%s): teach sample the new rule", event, valid, problems)
		}
		// A member may send to its room: join the sample's room first so
		// that room.send answers with its reply, not code 61.
		call(t, doc, c, "join", "room.join", map[string]any{"room": sample(map[string]any{"type": "string"})})
		reply := call(t, doc, c, "ok", event, valid)
		if reply["code"] != float64(0) {
			t.Errorf("%s with %v, which the schema accepts: reply %v, want code 0", event, valid, reply)
			continue
		}
		if problems := violations(message(t, doc, event+".reply"), reply, "reply", true); len(problems) > 0 {
			t.Errorf("%s: the reply %v does not fit the contract: %s", event, reply, strings.Join(problems, "; "))
		}
		for what, data := range rejected(dataSchema) {
			if len(violations(dataSchema, data, "data", false)) == 0 {
				t.Fatalf("%s %s: the schema accepts %v", event, what, data)
			}
			if reply := call(t, doc, c, "bad", event, data); reply["code"] != float64(51) {
				t.Errorf("%s %s (%v): reply %v, want code 51", event, what, data, reply)
			}
		}
		if slices.Contains(requiredOf(request), "data") {
			if reply := call(t, doc, c, "none", event, nil); reply["code"] != float64(51) {
				t.Errorf("%s without data, which the schema requires: reply %v, want code 51", event, reply)
			}
		}
	}
}

// TestPushesFitTheirSchemas makes the server send every push and checks
// each against its message, undeclared fields included.
func TestPushesFitTheirSchemas(t *testing.T) {
	node := wstest.Start(t, nil)
	doc := document(t, node)
	a := wstest.Dial(t, node.WSURL, nil)
	welcome := read(t, a)
	checkPush(t, doc, welcome)
	me, _ := welcome["data"].(map[string]any)["userId"].(string)
	call(t, doc, a, "1", "room.join", map[string]any{"room": "contract"})
	// b makes a see every push; its frames are not what is checked here.
	ctx, cancel := context.WithTimeout(context.Background(), wstest.Timeout)
	defer cancel()
	b, err := wsclient.Dial(ctx, node.WSURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	steps := []func() error{
		func() error { _, err := b.RoomJoin(ctx, &wsv1.RoomJoinReq{Room: "contract"}); return err },
		func() error { _, err := b.RoomSend(ctx, &wsv1.RoomSendReq{Room: "contract", Text: "hi"}); return err },
		func() error { _, err := b.UserSend(ctx, &wsv1.UserSendReq{To: me, Text: "psst"}); return err },
		func() error { _, err := b.RoomLeave(ctx, &wsv1.RoomLeaveReq{Room: "contract"}); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{"room.joined": true, "room.message": true, "user.message": true, "room.left": true}
	for len(want) > 0 {
		m := read(t, a)
		checkPush(t, doc, m)
		delete(want, m["event"].(string))
	}
}
