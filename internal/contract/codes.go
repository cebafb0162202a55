package contract

import (
	"fmt"
	"strings"
)

// closeCodeList is section 4 of the wire contract: the close codes and
// what a client should do on each.
var closeCodeList = []struct {
	code       int
	when, then string
}{
	{1000, "normal close by either side", "stop"},
	{1001, "the node is shutting down (reason `server shutting down`)", "reconnect with jitter, to another node behind the proxy, and recover its rooms"},
	{1002, "protocol error (bad framing, unmasked client frame)", "stop (a bug)"},
	{1007, "a text frame that is not valid UTF-8", "stop (a bug)"},
	{1008, "a message whose frames did not all arrive within 10s of its first (ws.pongTimeout if shorter)", "stop (a bug)"},
	{1009, "a message over ws.maxMessageSize", "stop (a bug)"},
	{1011, "unexpected server failure", "reconnect with backoff"},
	{4008, "slow consumer: its send queue overflowed (reason `slow consumer`)", "reconnect with backoff and recover its rooms"},
	{4029, "it stayed over its rate limit (reason `rate limit`)", "reconnect after backoff"},
	{4401, "its token expired (reason `token expired`)", "reconnect only with a new token"},
	{4403, "kicked by the admin API (reason `kicked`), or by the application with a reason of its own", "not reconnect"},
}

// errorCodeList is the reply codes of section 2 of the wire contract.
var errorCodeList = []struct {
	code    int
	meaning string
}{
	{50, "internal error: the handler failed; the message never leaks internals"},
	{51, "validation failed: data does not fit the event's schema"},
	{58, "not implemented: the event's method is still the stub make ctrl wrote"},
	{59, "binary frames are not supported"},
	{61, "not authorized, such as room.send to a room not joined"},
	{63, "rate limited, or over rooms.maxPerConnection"},
	{65, "unknown event"},
	{66, "invalid request: not JSON, not an object, or no event"},
}

func closeCodes() []map[string]any {
	codes := make([]map[string]any, 0, len(closeCodeList))
	for _, c := range closeCodeList {
		codes = append(codes, map[string]any{"code": c.code, "when": c.when, "clientShould": c.then})
	}
	return codes
}

func errorCodes() []map[string]any {
	codes := make([]map[string]any, 0, len(errorCodeList))
	for _, c := range errorCodeList {
		codes = append(codes, map[string]any{"code": c.code, "meaning": c.meaning})
	}
	return codes
}

func info() Schema {
	var text strings.Builder
	text.WriteString("Every message is one JSON object in a text frame.\n\n" +
		"- request: `{\"id\", \"event\", \"data\"}`; `id` (string or number) is optional and asks for a reply\n" +
		"- reply: `{\"id\", \"event\", \"code\", \"message\", \"data\"}`; code 0 is success\n" +
		"- push: `{\"event\", \"data\"}`, plus `\"room\"`, `\"offset\"` and `\"epoch\"` for a room's stream\n\n" +
		"The first message of a connection is the `welcome` push. " +
		"Admin pushes (`POST /api/v1/push`) carry any event and data the operator gives.\n\n" +
		"## Reply codes\n\n| code | meaning |\n|---|---|\n")
	for _, c := range errorCodeList {
		fmt.Fprintf(&text, "| %d | %s |\n", c.code, c.meaning)
	}
	text.WriteString("| 300+ | the event's own business errors |\n\n## Close codes\n\n| code | when | a client should |\n|---|---|---|\n")
	for _, c := range closeCodeList {
		fmt.Fprintf(&text, "| %d | %s | %s |\n", c.code, c.when, c.then)
	}
	return Schema{
		"title":       "WebSocket events",
		"version":     "1",
		"description": text.String(),
		"license":     Schema{"name": "MIT"},
	}
}

func securitySchemes() Schema {
	return Schema{
		"bearer": Schema{
			"type":         "http",
			"scheme":       "bearer",
			"bearerFormat": "JWT",
			"description": "Authorization: Bearer <jwt> on the upgrade request: HS256 signed with ws.auth.jwtSecret, " +
				"sub is the user id. Without a token, while ws.auth.required is false, the user is anon-<connId>.",
		},
		"queryToken": Schema{
			"type":        "httpApiKey",
			"name":        "token",
			"in":          "query",
			"description": "The same JWT as ?token=<jwt>, for browsers, which cannot set headers on the upgrade.",
		},
	}
}
