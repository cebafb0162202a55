package contract

import (
	"bytes"
	"fmt"
	"go/format"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/gfws/template-ws/internal/ws"
)

// goClientHeader opens pkg/wsclient/events.go.
const goClientHeader = `// Code generated from the event contract (the structs of api/ws/v1) by
// make gen-client. DO NOT EDIT.

package wsclient

import (
	"context"
	"encoding/json"
%s)
`

// GoClient renders the typed methods of package wsclient: one per event,
// taking its request struct and returning its reply struct, and an On
// method per push with its data struct. The output is gofmt'ed and
// sorted, so it changes only when the contract does.
func GoClient(router *ws.Router, pushes []Push) ([]byte, error) {
	var body bytes.Buffer
	imports := goImports{}
	for _, event := range router.Contracts() {
		name := TypeName(event.Event)
		request, reply := imports.name(event.Request), imports.name(event.Response)
		writeGoDoc(&body, name+" sends "+event.Event, event.Summary, "and returns its reply; a refusal is an *Error with the server's code.")
		fmt.Fprintf(&body, "func (c *Client) %s(ctx context.Context, req *%s) (*%s, error) {\n", name, request, reply)
		fmt.Fprintf(&body, "\treply := new(%s)\n\tif err := c.Request(ctx, %q, req, reply); err != nil {\n\t\treturn nil, err\n\t}\n\treturn reply, nil\n}\n\n", reply, event.Event)
	}
	for _, push := range pushes {
		name := "On" + TypeName(push.Event)
		data := imports.name(push.Data)
		writeGoDoc(&body, name+" registers fn for "+push.Event, push.Summary, "and returns a function that removes it.")
		fmt.Fprintf(&body, "func (c *Client) %s(fn func(*%s, Message)) (remove func()) {\n", name, data)
		fmt.Fprintf(&body, "\treturn c.On(%q, func(m Message) {\n\t\tdata := new(%s)\n\t\tif json.Unmarshal(m.Data, data) == nil {\n\t\t\tfn(data, m)\n\t\t}\n\t})\n}\n\n", push.Event, data)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, goClientHeader, imports.block())
	out.WriteString("\n")
	out.Write(bytes.TrimRight(body.Bytes(), "\n"))
	out.WriteString("\n")
	formatted, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("contract: the Go client does not compile: %w", err)
	}
	return formatted, nil
}

// writeGoDoc writes a method's comment: what it does, with the event's
// summary in brackets.
func writeGoDoc(out *bytes.Buffer, does, summary, rest string) {
	if summary != "" {
		does += " (" + strings.ToLower(summary[:1]) + strings.TrimSuffix(summary[1:], ".") + ")"
	}
	fmt.Fprintf(out, "// %s\n// %s\n", does, rest)
}

// goImports names the packages of the contract's structs: api/ws/v1 is
// wsv1, so that api/ws/v2 could sit beside it.
type goImports map[string]string // import path -> name

func (g goImports) name(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	alias, ok := g[pkg]
	if !ok {
		alias = path.Base(path.Dir(pkg)) + path.Base(pkg)
		g[pkg] = alias
	}
	return alias + "." + t.Name()
}

func (g goImports) block() string {
	var b strings.Builder
	b.WriteString("\n")
	for _, pkg := range slices.Sorted(maps.Keys(g)) {
		fmt.Fprintf(&b, "\t%s %q\n", g[pkg], pkg)
	}
	return b.String()
}
