package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gogf/gf/v2/errors/gcode"
)

// ErrorEvent is the event of a reply to input that has no usable event.
const ErrorEvent = "error"

// Bounds on what a reply carries back of a request, so that a reply is
// never much larger than the server's own words: an event name or id over
// its bound is refused without being echoed, and a message is cut.
const (
	maxEventName    = 64
	maxIDLength     = 64
	maxReplyMessage = 512
)

// request is a client message: {"id","event","data"}.
type request struct {
	ID    json.RawMessage `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// push is a server message nobody asked for.
type push struct {
	Event string `json:"event"`
	Data  any    `json:"data"`
}

// decodeRequest parses one client message. Its error is the message the
// client gets with code 66. Whatever it returns of the request is safe to
// echo in the reply: an id or event over its bound is dropped.
func decodeRequest(frame []byte) (request, error) {
	req, ok := scanEnvelope(frame)
	var err error
	if !ok {
		req = request{}
		err = json.Unmarshal(frame, &req)
	}
	eventErr := req.boundEvent()
	idErr := req.boundID()
	switch {
	case err != nil:
		return req, describeJSONError(err)
	case eventErr != nil:
		return req, eventErr
	case idErr != nil:
		return req, idErr
	case req.Event == "":
		return req, errors.New("the message has no event: add \"event\" naming what to do, such as \"echo\"")
	}
	return req, nil
}

// boundEvent drops an event name longer than maxEventName.
func (req *request) boundEvent() error {
	if n := len(req.Event); n > maxEventName {
		req.Event = ""
		return fmt.Errorf("the event name is %d bytes; an event name is at most %d", n, maxEventName)
	}
	return nil
}

// boundID drops an id that is null, longer than maxIDLength or neither a
// string nor a number.
func (req *request) boundID() error {
	id := req.ID
	req.ID = nil
	switch {
	case isNull(id):
		return nil
	case len(id) > maxIDLength:
		return fmt.Errorf("id is %d bytes of JSON; an id is at most %d", len(id), maxIDLength)
	case id[0] != '"' && !isJSONNumber(id):
		return errors.New("id must be a string or a number")
	}
	req.ID = id
	return nil
}

func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return errors.New("a message must be a JSON object such as {\"event\":\"echo\",\"data\":{}}; got a JSON " + typeErr.Value)
		}
		return errors.New("field " + typeErr.Field + " must not be a JSON " + typeErr.Value)
	}
	return errors.New("the message is not valid JSON: " + err.Error())
}

// peekEnvelope returns the id and event of a message without validating
// it, so a refusal can still be matched by the client.
func peekEnvelope(frame []byte) (json.RawMessage, string) {
	req, _ := decodeRequest(frame)
	if req.Event == "" {
		return req.ID, ErrorEvent
	}
	return req.ID, req.Event
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(raw, []byte("null"))
}

// isJSONNumber reports whether raw, which has parsed as JSON, is a number.
// Its size does not matter: the id is echoed as sent, never converted.
func isJSONNumber(raw json.RawMessage) bool {
	return raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')
}

// EncodePush builds the frame of a server push {"event","data"}.
func EncodePush(event string, data any) ([]byte, error) {
	return marshal(push{Event: event, Data: data})
}

// StreamPush returns push, a frame of EncodePush, with the envelope fields
// of a room stream's message, "room", "offset" and "epoch", before its
// data. The offset is known only once the stream has taken the message,
// so each node adds it to the frame it received.
func StreamPush(push []byte, room string, offset uint64, epoch string) []byte {
	at := bytes.Index(push, []byte(`,"data":`))
	if at < 0 {
		return push // not a push of EncodePush
	}
	roomJSON, _ := marshal(room)
	epochJSON, _ := marshal(epoch)
	out := make([]byte, 0, len(push)+len(roomJSON)+len(epochJSON)+40)
	out = append(out, push[:at]...)
	out = append(out, `,"room":`...)
	out = append(out, roomJSON...)
	out = append(out, `,"offset":`...)
	out = strconv.AppendUint(out, offset, 10)
	out = append(out, `,"epoch":`...)
	out = append(out, epochJSON...)
	return append(out, push[at:]...)
}

// marshal encodes v as JSON without escaping <, > and &: the frames go to
// WebSocket clients, not into HTML, and escaping would grow them sixfold.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// reply queues a reply on c. A reply that cannot be encoded is a bug in a
// response type: the client gets code 50 rather than nothing.
func (c *Conn) reply(id json.RawMessage, event string, code gcode.Code, message string, data any) {
	frame, err := encodeReply(id, event, code, message, data)
	if err != nil {
		c.logError("encode reply for event "+event, err)
		frame, _ = encodeReply(id, event, gcode.CodeInternalError, internalErrorMessage, nil)
	}
	c.Send(frame)
}
