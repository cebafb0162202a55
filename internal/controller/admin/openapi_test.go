package admin_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/rules"
	"github.com/gfws/template-ws/internal/wstest"
)

// openAPI is the part of /api.json these tests read.
type openAPI struct {
	Paths map[string]map[string]struct {
		Security    []map[string][]string `json:"security"`
		RequestBody struct {
			Content map[string]struct {
				Schema schema `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
		Parameters []struct {
			Name   string `json:"name"`
			Schema schema `json:"schema"`
		} `json:"parameters"`
		Responses map[string]struct {
			Description string `json:"description"`
			Content     map[string]struct {
				Schema struct {
					Ref        string         `json:"$ref"`
					Properties map[string]any `json:"properties"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
	Components struct {
		SecuritySchemes map[string]any `json:"securitySchemes"`
		Schemas         map[string]struct {
			Type       string            `json:"type"`
			Properties map[string]schema `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

// schema is the part of a parameter's or a property's schema that states
// its rule.
type schema struct {
	Ref       string   `json:"$ref"`
	Type      string   `json:"type"`
	Minimum   *float64 `json:"minimum"`
	Maximum   *float64 `json:"maximum"`
	MaxLength *int     `json:"maxLength"`
	Pattern   string   `json:"pattern"`
}

func fetchOpenAPI(t *testing.T) openAPI {
	t.Helper()
	node := startNode(t)
	resp, err := wstest.HTTP.Get(node.HTTPURL + "/api.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc openAPI
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestOpenAPIDocumentsEveryAdminPath(t *testing.T) {
	doc := fetchOpenAPI(t)
	// Beside the refusals every request may get (400, 401, 403, 500),
	// those of each operation's own.
	for _, want := range []struct {
		method, path string
		refusals     []string
	}{
		{"post", "/api/v1/push", []string{"415", "503"}},
		{"get", "/api/v1/connections", nil},
		{"delete", "/api/v1/connections/{connId}", []string{"404", "503"}},
		{"get", "/api/v1/rooms/{room}", []string{"503"}},
		{"delete", "/api/v1/users/{user}/connections", []string{"503"}},
	} {
		method, path := want.method, want.path
		op, ok := doc.Paths[path][method]
		if !ok {
			t.Errorf("/api.json lacks %s %s", method, path)
			continue
		}
		if len(op.Security) == 0 {
			t.Errorf("%s %s declares no security", method, path)
		}
		// Every answer is {"code","message","data"}: the operation's own
		// response in data, null in a refusal, which says why.
		for _, status := range append([]string{"200", "400", "401", "403", "500"}, want.refusals...) {
			answer, ok := op.Responses[status]
			if !ok {
				t.Errorf("%s %s documents no %s answer", method, path, status)
				continue
			}
			body := answer.Content["application/json"].Schema
			fields := map[string]bool{}
			for name := range body.Properties {
				fields[name] = true
			}
			for name := range doc.Components.Schemas[strings.TrimPrefix(body.Ref, "#/components/schemas/")].Properties {
				fields[name] = true
			}
			if !fields["code"] || !fields["message"] || !fields["data"] {
				t.Errorf("%s %s documents its %s answer without code, message and data: %+v", method, path, status, body)
			}
			if status != "200" && !strings.HasPrefix(answer.Description, "code ") {
				t.Errorf("%s %s: the %s answer's description names no code: %q", method, path, status, answer.Description)
			}
		}
	}
	if doc.Components.SecuritySchemes["BearerAuth"] == nil {
		t.Errorf("no BearerAuth security scheme")
	}
}

// The rules the API checks its parameters by are the ones /api.json
// states, so that a client generated from it refuses what the API would
// and sends what it takes.
func TestOpenAPIStatesTheRulesOfParameters(t *testing.T) {
	doc := fetchOpenAPI(t)
	params := map[string]schema{}
	for _, p := range doc.Paths["/api/v1/rooms/{room}"]["get"].Parameters {
		params[p.Name] = p.Schema
	}
	if limit := params["limit"]; limit.Minimum == nil || *limit.Minimum != 1 || limit.Maximum == nil || *limit.Maximum != 1000 {
		t.Errorf("limit's schema %+v, want minimum 1 and maximum 1000", limit)
	}
	if after := params["after"]; after.MaxLength == nil || *after.MaxLength != 256 {
		t.Errorf("after's schema %+v, want maxLength 256", after)
	}
	if room := params["room"]; room.Pattern != rules.RoomPattern {
		t.Errorf("the room path parameter's pattern %q, want the room rule's %q", room.Pattern, rules.RoomPattern)
	}
	pushBody := doc.Paths["/api/v1/push"]["post"].RequestBody.Content["application/json"].Schema.Ref
	push := doc.Components.Schemas[strings.TrimPrefix(pushBody, "#/components/schemas/")].Properties
	if push["room"].Pattern != rules.RoomPattern {
		t.Errorf("a push's room pattern %q, want the room rule's %q", push["room"].Pattern, rules.RoomPattern)
	}
	// A push's data is any JSON value, a number or a string as well as an
	// object.
	data := push["data"]
	if data.Ref != "" {
		data.Type = doc.Components.Schemas[strings.TrimPrefix(data.Ref, "#/components/schemas/")].Type
	}
	if data.Type != "" {
		t.Errorf("a push's data is typed %q; it takes any JSON value", data.Type)
	}
}
