package ws

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/gogf/gf/v2/errors/gcode"

	"github.com/gfws/template-ws/internal/edge"
)

// encodeReply builds a reply {"id","event","code","message","data"},
// without id when the request had none; data stays null on failure. Only
// data goes through encoding/json: the envelope is written directly.
func encodeReply(id json.RawMessage, event string, code gcode.Code, message string, data any) ([]byte, error) {
	payload, err := marshal(data)
	if err != nil {
		return nil, err
	}
	message = edge.Clip(message, maxReplyMessage)
	out := make([]byte, 0, len(id)+len(event)+len(message)+len(payload)+48)
	out = append(out, '{')
	if len(id) > 0 {
		out = append(out, `"id":`...)
		out = append(out, id...)
		out = append(out, ',')
	}
	out = append(out, `"event":`...)
	out = appendString(out, event)
	out = append(out, `,"code":`...)
	out = strconv.AppendInt(out, int64(code.Code()), 10)
	out = append(out, `,"message":`...)
	out = appendString(out, message)
	out = append(out, `,"data":`...)
	out = append(out, payload...)
	return append(out, '}'), nil
}

// appendString appends s as a JSON string: directly when it is printable
// ASCII without quotes or backslashes, as event names are, else through
// marshal, which escapes what JSON needs.
func appendString(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			quoted, _ := marshal(s)
			return append(out, quoted...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}

// scanEnvelope reads the top-level fields of a message without
// reflection: id and data as raw JSON, event as a string. It is the fast
// path of decodeRequest for the messages clients send, and reports false
// for anything it would not read exactly as encoding/json does (a frame
// that is not a valid JSON object, an escaped key, a key that only folds
// to a field's name, an event that is not a plain string); decodeRequest
// then takes the general path, which also words the errors.
func scanEnvelope(frame []byte) (request, bool) {
	var req request
	if !json.Valid(frame) {
		return req, false
	}
	i := skipSpace(frame, 0)
	if frame[i] != '{' {
		return req, false
	}
	for i = skipSpace(frame, i+1); frame[i] != '}'; {
		if frame[i] == ',' {
			i = skipSpace(frame, i+1)
		}
		keyEnd := bytes.IndexByte(frame[i+1:], '"') + i + 1
		key := frame[i+1 : keyEnd]
		if bytes.IndexByte(key, '\\') >= 0 {
			return req, false
		}
		start := skipSpace(frame, skipSpace(frame, keyEnd+1)+1) // past the colon
		end := skipValue(frame, start)
		value := frame[start:end]
		switch string(key) {
		case "id":
			req.ID = bytes.Clone(value)
		case "data":
			req.Data = bytes.Clone(value)
		case "event":
			if value[0] != '"' || bytes.IndexByte(value, '\\') >= 0 || !utf8.Valid(value) {
				return req, false
			}
			req.Event = string(value[1 : len(value)-1])
		default:
			if bytes.EqualFold(key, []byte("id")) || bytes.EqualFold(key, []byte("event")) || bytes.EqualFold(key, []byte("data")) {
				return req, false
			}
		}
		i = skipSpace(frame, end)
	}
	return req, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// isSpace reports whether c is whitespace between JSON tokens.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue returns the end of the JSON value at b[i:], which json.Valid
// has accepted as part of b.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	default: // a number, true, false or null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
			i++
		}
		return i
	}
}

// skipString returns the end of the JSON string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}
