package ws

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gogf/gf/v2/errors/gcode"
)

// The fast path must read every message it accepts exactly as
// encoding/json does, and leave the rest to it.
func TestScanEnvelopeAgreesWithEncodingJSON(t *testing.T) {
	for _, frame := range []string{
		`{"id":"42","event":"echo","data":{"text":"hi"}}`,
		` { "event" : "room.join" , "id" : 7 , "data" : { "room" : "a" } } `,
		"{\n\t\"event\":\"echo\",\r\n\"data\":[1,{\"a\":\"}]\\\"\"},[]]}",
		`{"event":"echo","data":"a \"quoted\" \\ string"}`,
		`{"event":"echo","data":-1.5e3,"id":-0}`,
		`{"event":"echo","data":true,"extra":{"id":"not this one"}}`,
		`{"event":"echo","data":null,"id":null}`,
		`{"event":"a","event":"b","data":1,"data":2}`,
		`{"event":"echo","x":[{"y":[]}],"data":false}`,
		`{}`,
		`{"id":"1"}`,
	} {
		var want request
		if err := json.Unmarshal([]byte(frame), &want); err != nil {
			t.Fatalf("%s: %v", frame, err)
		}
		got, ok := scanEnvelope([]byte(frame))
		if !ok || !bytes.Equal(got.ID, want.ID) || got.Event != want.Event || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: fast path %v read id %s event %q data %s; encoding/json: id %s event %q data %s",
				frame, ok, got.ID, got.Event, got.Data, want.ID, want.Event, want.Data)
		}
	}
	for _, frame := range []string{
		`{"EVENT":"echo"}`,             // encoding/json folds keys
		`{"ev\u0065nt":"echo"}`,        // an escaped key
		`{"event":"\u0065cho"}`,        // an escaped event
		`{"event":7}`,                  // not a string: a typed error
		`{"event":null}`,               // null leaves the event empty
		`["event","echo"]`,             // not an object
		`{"event":"echo"`,              // not JSON
		`{"event":"echo","data":{}}x`,  // trailing bytes
		"{\"event\":\"\xff\"}",         // not UTF-8: encoding/json replaces it
		`{"event":"echo","data":[1,]}`, // invalid inside data
	} {
		if _, ok := scanEnvelope([]byte(frame)); ok {
			t.Errorf("%s: the fast path took a message it must leave to encoding/json", frame)
		}
	}
}

// encodeReply writes the envelope itself; it must be the frame
// encoding/json writes of the same reply.
func TestEncodeReplyAgreesWithEncodingJSON(t *testing.T) {
	type reply struct {
		ID      json.RawMessage `json:"id,omitempty"`
		Event   string          `json:"event"`
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    any             `json:"data"`
	}
	for _, r := range []reply{
		{ID: json.RawMessage(`"42"`), Event: "echo", Data: json.RawMessage(`{"a":1}`)},
		{ID: json.RawMessage(`-7`), Event: "room.join", Code: 51, Message: "room is required"},
		{Event: "error", Code: 66, Message: "line\nbreak, \"quotes\", \\, <tag> & \u2028 é \x01"},
		{Event: `we"ird\event`, Code: 65, Message: "unknown event"},
		{ID: json.RawMessage(`"x"`), Event: "ping", Data: map[string]int64{"time": 1}},
	} {
		want, err := marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeReply(r.ID, r.Event, gcode.New(r.Code, "", nil), r.Message, r.Data)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("encodeReply: %s (%v)\nencoding/json: %s", got, err, want)
		}
	}
}
