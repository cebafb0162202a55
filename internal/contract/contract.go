// Package contract builds the event contract of the WebSocket endpoint, an
// AsyncAPI 3.0 document, from the events bound to the router and the push
// structs of api/ws/v1: what a client may send, what it gets back and what
// the server pushes, with the same rules the server checks.
package contract

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/gogf/gf/v2/util/gmeta"

	"github.com/gfws/template-ws/internal/ws"
)

// Version is the AsyncAPI version of the document.
const Version = "3.0.0"

// channelKey names the one channel: the WebSocket endpoint.
const channelKey = "ws"

// Document is an AsyncAPI document as JSON values.
type Document = map[string]any

// Push describes one push for the document: its event, its summary, its
// data and whether its envelope carries room and offset.
type Push struct {
	Event   string
	Summary string
	Data    reflect.Type
	Stream  bool
}

// PushesOf reads the push metadata of structs such as v1.Pushes(): the
// event of g.Meta's push tag, its summary and stream tags.
func PushesOf(structs []any) ([]Push, error) {
	pushes := make([]Push, 0, len(structs))
	for _, s := range structs {
		event := gmeta.Get(s, "push").String()
		if event == "" {
			return nil, fmt.Errorf("contract: push struct %T has no event; add g.Meta `push:\"...\"`", s)
		}
		pushes = append(pushes, Push{
			Event:   event,
			Summary: gmeta.Get(s, "summary").String(),
			Data:    reflect.TypeOf(s),
			Stream:  gmeta.Get(s, "stream").Bool(),
		})
	}
	sort.Slice(pushes, func(i, j int) bool { return pushes[i].Event < pushes[j].Event })
	return pushes, nil
}

// Build returns the document of the events bound to router and pushes,
// for a WebSocket endpoint at path. Its server's host is a placeholder
// that Serve replaces with the host each request names.
func Build(router *ws.Router, pushes []Push, path string) (Document, error) {
	b := builder{messages: Schema{}, channelMessages: Schema{}, operations: Schema{}}
	for _, event := range router.Contracts() {
		if err := b.addEvent(event); err != nil {
			return nil, err
		}
	}
	b.addMessage("error.reply", "error", "A refused request",
		"The reply to a request that failed: data is null, code and message say why. "+
			"A request without id still gets it; for input that is not a JSON object the event is \"error\".",
		errorReplyPayload())
	for _, push := range pushes {
		if err := b.addPush(push); err != nil {
			return nil, err
		}
	}
	return Document{
		"asyncapi":           Version,
		"info":               info(),
		"defaultContentType": "application/json",
		"servers": Schema{"node": Schema{
			"host":        "localhost:8000",
			"protocol":    "ws",
			"description": "A node of this app; behind a TLS proxy use wss and the proxy's host.",
			"security": []any{
				ref("#/components/securitySchemes/bearer"),
				ref("#/components/securitySchemes/queryToken"),
			},
		}},
		"channels": Schema{channelKey: Schema{
			"address":     path,
			"title":       "WebSocket endpoint",
			"description": "One connection carries every event: requests and replies match by id, pushes have none.",
			"messages":    b.channelMessages,
		}},
		"operations": b.operations,
		"components": Schema{
			"messages":        b.messages,
			"securitySchemes": securitySchemes(),
		},
		"x-close-codes": closeCodes(),
		"x-error-codes": errorCodes(),
	}, nil
}

// builder collects the messages and operations of the document.
type builder struct {
	messages        Schema // components.messages
	channelMessages Schema // the channel's references to them
	operations      Schema
}

func (b *builder) addEvent(event ws.EventContract) error {
	data, err := schemaOf(event.Request, inbound)
	if err != nil {
		return err
	}
	reply, err := schemaOf(event.Response, outbound)
	if err != nil {
		return err
	}
	request := event.Event + ".request"
	b.addMessage(request, event.Event, event.Summary,
		"Client to server. With an id the client gets a reply carrying the same id.", requestPayload(event.Event, data))
	b.addMessage(event.Event+".reply", event.Event, "Reply to "+event.Event,
		"Server to client, when the request had an id: code 0 and the event's data.", replyPayload(event.Event, reply))
	b.operations[event.Event] = Schema{
		"action":   "send",
		"channel":  ref("#/channels/" + channelKey),
		"title":    event.Event,
		"summary":  event.Summary,
		"messages": []any{ref(b.channelRef(request))},
		"reply": Schema{
			"channel":  ref("#/channels/" + channelKey),
			"messages": []any{ref(b.channelRef(event.Event + ".reply")), ref(b.channelRef("error.reply"))},
		},
	}
	return nil
}

func (b *builder) addPush(push Push) error {
	data, err := schemaOf(push.Data, outbound)
	if err != nil {
		return err
	}
	key := push.Event + ".push"
	description := "Server to client, unasked: no id, no code."
	if push.Stream {
		description += " Part of the room's stream: room and offset place it there; offsets count from 1 without gaps."
	}
	b.addMessage(key, push.Event, push.Summary, description, pushPayload(push.Event, data, push.Stream))
	b.operations["receive."+push.Event] = Schema{
		"action":   "receive",
		"channel":  ref("#/channels/" + channelKey),
		"title":    push.Event,
		"summary":  push.Summary,
		"messages": []any{ref(b.channelRef(key))},
	}
	return nil
}

func (b *builder) addMessage(key, event, summary, description string, payload Schema) {
	b.messages[key] = Schema{
		"name":        key,
		"title":       event,
		"summary":     summary,
		"description": description,
		"contentType": "application/json",
		"payload":     payload,
	}
	b.channelMessages[key] = ref("#/components/messages/" + key)
}

func (b *builder) channelRef(key string) string {
	return "#/channels/" + channelKey + "/messages/" + key
}

func ref(to string) Schema { return Schema{"$ref": to} }

// idSchema is a request's id, echoed verbatim in its reply.
func idSchema() Schema {
	return Schema{"type": []any{"string", "number"}, "maxLength": 62,
		"description": "asks for a reply, which carries the same id with the same JSON type; " +
			"at most 64 bytes as sent, a string's quotes included (code 66 past it, with no id to match)"}
}

func requestPayload(event string, data Schema) Schema {
	required := []any{"event"}
	if _, ok := data["required"]; ok {
		required = append(required, "data")
	}
	return Schema{
		"type":     "object",
		"required": required,
		"properties": Schema{
			"id":    idSchema(),
			"event": Schema{"const": event},
			"data":  data,
		},
	}
}

func replyPayload(event string, data Schema) Schema {
	return Schema{
		"type":     "object",
		"required": []any{"event", "code", "message", "data"},
		"properties": Schema{
			"id":      idSchema(),
			"event":   Schema{"const": event},
			"code":    Schema{"const": 0},
			"message": Schema{"type": "string"},
			"data":    data,
		},
	}
}

func errorReplyPayload() Schema {
	codes := []any{}
	for _, c := range errorCodes() {
		codes = append(codes, c["code"])
	}
	return Schema{
		"type":     "object",
		"required": []any{"event", "code", "message", "data"},
		"properties": Schema{
			"id":      idSchema(),
			"event":   Schema{"type": "string", "description": "the request's event, or \"error\""},
			"code":    Schema{"type": "integer", "description": fmt.Sprintf("one of %v, or 300 and over: the event's own", codes)},
			"message": Schema{"type": "string", "description": "what went wrong and how to fix it"},
			"data":    Schema{"type": "null"},
		},
	}
}

func pushPayload(event string, data Schema, stream bool) Schema {
	properties := Schema{"event": Schema{"const": event}, "data": data}
	required := []any{"event", "data"}
	if stream {
		properties["room"] = Schema{"type": "string", "description": "the room whose stream it belongs to"}
		properties["offset"] = Schema{"type": "integer", "minimum": 1,
			"description": "its place in the room's stream; give the last one received as since.offset to room.join to recover"}
		properties["epoch"] = Schema{"type": "string",
			"description": "the life of the stream that offset counts; one the client did not know means the stream started again (the server lost it) and earlier messages may be lost"}
		required = append(required, "room", "offset", "epoch")
	}
	return Schema{"type": "object", "required": required, "properties": properties}
}
