package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/gogf/gf/v2/errors/gcode"
)

// ErrorEvent is the event of a reply to input that has no usable event.
const ErrorEvent = "error"

// request is a client message: {"id","event","data"}.
type request struct {
	ID    json.RawMessage `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// reply answers a request; Data stays null on failure.
type reply struct {
	ID      json.RawMessage `json:"id,omitempty"`
	Event   string          `json:"event"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    any             `json:"data"`
}

// push is a server message nobody asked for.
type push struct {
	Event string `json:"event"`
	Data  any    `json:"data"`
}

// decodeRequest parses one client message. Its error is the message the
// client gets with code 66.
func decodeRequest(frame []byte) (request, error) {
	var req request
	if err := json.Unmarshal(frame, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return req, errors.New("a message must be a JSON object such as {\"event\":\"echo\",\"data\":{}}; got a JSON " + typeErr.Value)
			}
			return req, errors.New("field " + typeErr.Field + " must not be a JSON " + typeErr.Value)
		}
		return req, errors.New("the message is not valid JSON: " + err.Error())
	}
	if isNull(req.ID) {
		req.ID = nil
	}
	if req.ID != nil && req.ID[0] != '"' && !isJSONNumber(req.ID) {
		id := req.ID
		req.ID = nil
		return req, errors.New("id must be a string or a number; got " + string(id))
	}
	if req.Event == "" {
		return req, errors.New("the message has no event: add \"event\" naming what to do, such as \"echo\"")
	}
	return req, nil
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

func isJSONNumber(raw json.RawMessage) bool {
	_, err := strconv.ParseFloat(string(raw), 64)
	return err == nil && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

func encodeReply(id json.RawMessage, event string, code gcode.Code, message string, data any) ([]byte, error) {
	return json.Marshal(reply{ID: id, Event: event, Code: code.Code(), Message: message, Data: data})
}

// EncodePush builds the frame of a server push {"event","data"}.
func EncodePush(event string, data any) ([]byte, error) {
	return json.Marshal(push{Event: event, Data: data})
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
