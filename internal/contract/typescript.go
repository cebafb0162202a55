package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/gfws/template-ws/internal/ws"
)

// Where a node serves TypeScript's declarations of the JS client: those of
// the plain script ws-client.js, and those of its ES module entry
// ws-client.mjs, which re-export the first.
const (
	ClientDeclarationsPath       = "/ws-client.d.ts"
	ClientModuleDeclarationsPath = "/ws-client.d.mts"
)

// TypeScript renders the declarations of resource/public/ws-client.js from
// the same schemas as the document: an interface per event's request and
// reply data and per push's data, the maps from event to them, and a
// WsClient typed by those maps. The output is sorted, so it changes only
// when the contract does.
func TypeScript(router *ws.Router, pushes []Push) ([]byte, error) {
	var out, eventMap bytes.Buffer
	// The client emits error and rejoined itself, beside the server's pushes.
	pushMap := []string{`  "error": ErrorReply;`, `  "rejoined": Rejoined;`}
	out.WriteString(tsHeader)
	for _, event := range router.Contracts() {
		name := TypeName(event.Event)
		request, err := schemaOf(event.Request, inbound)
		if err != nil {
			return nil, err
		}
		reply, err := schemaOf(event.Response, outbound)
		if err != nil {
			return nil, err
		}
		writeDeclaration(&out, name+"Request", event.Summary, request)
		writeDeclaration(&out, name+"Reply", "The reply to "+event.Event+".", reply)
		fmt.Fprintf(&eventMap, "  %q: { request: %sRequest; reply: %sReply };\n", event.Event, name, name)
	}
	for _, push := range pushes {
		data, err := schemaOf(push.Data, outbound)
		if err != nil {
			return nil, err
		}
		name := TypeName(push.Event) + "Push"
		writeDeclaration(&out, name, push.Summary, data)
		pushMap = append(pushMap, fmt.Sprintf("  %q: %s;", push.Event, name))
	}
	fmt.Fprintf(&out, "/** EventMap names each event's request and reply data. */\nexport interface EventMap {\n%s}\n\n", eventMap.String())
	sort.Strings(pushMap)
	fmt.Fprintf(&out, "/**\n * PushMap names the data each on() handler gets: the server's pushes, and the\n"+
		" * client's own rejoined and error. An application's own pushes (POST\n"+
		" * /api/v1/push) are added by augmenting it: declare module \"./ws-client.js\" {\n"+
		" * interface PushMap { \"orders.shipped\": { id: string } } }.\n */\n"+
		"export interface PushMap {\n%s\n}\n", strings.Join(pushMap, "\n"))
	out.WriteString(tsClient)
	return out.Bytes(), nil
}

// TypeName is event in PascalCase, as the generated clients name their
// types and methods: room.join is RoomJoin.
func TypeName(event string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(event, func(r rune) bool { return r == '.' || r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// writeDeclaration writes an interface for an object schema with fields,
// and a type alias for any other.
func writeDeclaration(out *bytes.Buffer, name, summary string, schema Schema) {
	writeDoc(out, "", summary)
	if _, ok := schema["properties"]; ok {
		fmt.Fprintf(out, "export interface %s %s\n\n", name, tsType(schema, ""))
		return
	}
	fmt.Fprintf(out, "export type %s = %s;\n\n", name, tsType(schema, ""))
}

func writeDoc(out *bytes.Buffer, indent, text string) {
	if text != "" {
		fmt.Fprintf(out, "%s/** %s */\n", indent, strings.ReplaceAll(text, "*/", "*\\/"))
	}
}

// tsType is the TypeScript type of schema; indent is that of the line it
// starts on, for the fields of an object.
func tsType(schema Schema, indent string) string {
	if enum, ok := schema["enum"].([]any); ok {
		literals := make([]string, 0, len(enum))
		for _, v := range enum {
			literal, _ := json.Marshal(v)
			literals = append(literals, string(literal))
		}
		return strings.Join(literals, " | ")
	}
	switch schema["type"] {
	case "string":
		return "string"
	case "boolean":
		return "boolean"
	case "integer", "number":
		return "number"
	case "array":
		items, _ := schema["items"].(Schema)
		item := tsType(items, indent)
		if strings.ContainsAny(item, " |") {
			return "Array<" + item + ">"
		}
		return item + "[]"
	case "object":
		if properties, ok := schema["properties"].(Schema); ok {
			return objectType(properties, schema, indent)
		}
		values, _ := schema["additionalProperties"].(Schema)
		return "Record<string, " + tsType(values, indent) + ">"
	}
	return "unknown"
}

func objectType(properties, schema Schema, indent string) string {
	required := map[string]bool{}
	names, _ := schema["required"].([]string)
	for _, name := range names {
		required[name] = true
	}
	var b bytes.Buffer
	b.WriteString("{\n")
	inner := indent + "  "
	for _, name := range slices.Sorted(maps.Keys(properties)) {
		field := properties[name].(Schema)
		writeDoc(&b, inner, fieldDoc(field))
		optional := "?"
		if required[name] {
			optional = ""
		}
		fmt.Fprintf(&b, "%s%s%s: %s;\n", inner, name, optional, tsType(field, inner))
	}
	b.WriteString(indent + "}")
	return b.String()
}

// fieldDoc is a field's description with the rules the server checks.
func fieldDoc(field Schema) string {
	parts := []string{}
	if text, ok := field["description"].(string); ok {
		parts = append(parts, text)
	}
	if rules, ok := field["x-rules"].(string); ok {
		parts = append(parts, "rules: "+rules)
	}
	if value, ok := field["default"]; ok {
		text, _ := json.Marshal(value)
		parts = append(parts, "default "+string(text))
	}
	return strings.Join(parts, "; ")
}
