package ws_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"
	"github.com/gogf/gf/v2/frame/g"
	"github.com/gogf/gf/v2/net/ghttp"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// GreetReq and GreetRes are what a team adds to api/ws/v1 for a new event.
type GreetReq struct {
	g.Meta `event:"greet" summary:"Greet someone by name"`
	Name   string `json:"name" v:"required|length:1,10#name is required|name must be 1 to 10 characters"`
	Times  int    `json:"times" d:"1" v:"between:1,3#times must be 1 to 3"`
}

type GreetRes struct {
	Text string `json:"text"`
	User string `json:"user"`
}

// greeter is a controller with one event method, written as `gf gen ctrl`
// would stub it.
type greeter struct{}

var errNameTaken = gcode.New(301, "name taken", nil)

func (greeter) Greet(ctx context.Context, req *GreetReq) (*GreetRes, error) {
	switch req.Name {
	case "taken":
		return nil, gerror.NewCode(errNameTaken, "the name taken is already in use")
	case "stranger":
		return nil, gerror.NewCode(gcode.CodeNotAuthorized, "strangers may not be greeted")
	case "boom":
		panic("greeter exploded")
	case "oops":
		return nil, errors.New("database password is hunter2")
	case "coded":
		return nil, gerror.NewCode(gcode.CodeInternalError, "database password is hunter2")
	}
	return &GreetRes{Text: strings.Repeat("hello ", req.Times) + req.Name, User: ws.FromContext(ctx).UserID()}, nil
}

// serveRouter runs the transport with router on a bare ghttp server.
func serveRouter(t *testing.T, router *ws.Router) string {
	t.Helper()
	cfg := ws.DefaultConfig()
	srv := ws.NewServer(cfg, "test-node", router, ws.Hooks{})
	base := wstest.Serve(t, func(s *ghttp.Server) {
		s.Group(cfg.Path, func(group *ghttp.RouterGroup) {
			group.Middleware(ghttp.MiddlewareHandlerResponse)
			group.ALL("/", srv.Handle)
		})
	})
	t.Cleanup(func() { srv.Drain(wstest.ShutdownContext(t)) })
	return "ws" + strings.TrimPrefix(base, "http") + cfg.Path
}

func TestBoundControllerIsServedWithValidation(t *testing.T) {
	t.Parallel()
	router := ws.NewRouter()
	if err := router.Bind(greeter{}); err != nil {
		t.Fatal(err)
	}
	c, _ := wstest.DialWelcome(t, serveRouter(t, router), nil)

	ok := c.Call("1", "greet", map[string]any{"name": "ann"})
	if ok.CodeOf(t) != 0 || !strings.Contains(string(ok.Data), `"text":"hello ann"`) ||
		!strings.Contains(string(ok.Data), `"user":"anon-`) {
		t.Fatalf("greet: %+v data %s", ok, ok.Data)
	}
	// A field left out takes its d: default; one given overrides it.
	if r := c.Call("d", "greet", map[string]any{"name": "bo", "times": 2}); !strings.Contains(string(r.Data), `"hello hello bo"`) {
		t.Fatalf("greet twice: %+v %s", r, r.Data)
	}
	if two := c.Call("b", "greet", map[string]any{"name": "abcdefghijk", "times": 9}); strings.Contains(two.Message, "1 to 3") {
		t.Fatalf("validation went on after the first failed rule: %q", two.Message)
	}
	for _, tc := range []struct {
		name    string
		data    any
		code    int
		message string
	}{
		{"missing field", map[string]any{}, 51, "name is required"},
		{"too long", map[string]any{"name": "abcdefghijk"}, 51, "1 to 10 characters"},
		// Bail: the first failed rule answers, not every one.
		{"two bad fields", map[string]any{"name": "abcdefghijk", "times": 9}, 51, "1 to 10 characters"},
		{"wrong shape", []int{1}, 51, "data does not fit event greet"},
		{"business error", map[string]any{"name": "taken"}, 301, "already in use"},
		{"not authorized", map[string]any{"name": "stranger"}, 61, "strangers"},
		{"panic", map[string]any{"name": "boom"}, 50, "internal error"},
		{"plain error", map[string]any{"name": "oops"}, 50, "internal error"},
		{"error coded internal", map[string]any{"name": "coded"}, 50, "internal error"},
	} {
		got := c.Call(tc.name, "greet", tc.data)
		if got.CodeOf(t) != tc.code || !got.HasText(tc.message) {
			t.Errorf("%s: code %d message %q, want %d containing %q", tc.name, got.CodeOf(t), got.Message, tc.code, tc.message)
		}
		if strings.Contains(got.Message, "hunter2") || strings.Contains(got.Message, "exploded") {
			t.Errorf("%s: internals leaked to the client: %q", tc.name, got.Message)
		}
	}
	// A failed request without an id still gets its error.
	c.Send(map[string]any{"event": "greet", "data": map[string]any{}})
	if got := c.Read(); got.CodeOf(t) != 51 || got.ID != nil || got.Event != "greet" {
		t.Fatalf("failed request without id: %+v", got)
	}
}

type noEventReq struct{ g.Meta }
type wrongShape struct{}

func (wrongShape) Greet(req *GreetReq) (*GreetRes, error) { return nil, nil }

type untagged struct{}

func (untagged) Thing(ctx context.Context, req *noEventReq) (*GreetRes, error) { return nil, nil }

func TestBindRejectsWhatItCannotServe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		controllers []any
		want        string
	}{
		{"wrong signature", []any{wrongShape{}}, "func(ctx context.Context, req *XxxReq) (res *XxxRes, err error)"},
		{"no event tag", []any{untagged{}}, "add g.Meta `event:"},
		{"event bound twice", []any{greeter{}, greeter{}}, `event "greet" is bound twice`},
	} {
		err := ws.NewRouter().Bind(tc.controllers...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestContractsDescribeBoundEvents checks what the event contract is
// built from: each event's request and reply structs and summary.
func TestContractsDescribeBoundEvents(t *testing.T) {
	t.Parallel()
	router := ws.NewRouter()
	if err := router.Bind(greeter{}); err != nil {
		t.Fatal(err)
	}
	want := []ws.EventContract{{
		Event:    "greet",
		Summary:  "Greet someone by name",
		Request:  reflect.TypeFor[GreetReq](),
		Response: reflect.TypeFor[GreetRes](),
	}}
	if got := router.Contracts(); !reflect.DeepEqual(got, want) {
		t.Errorf("Contracts() = %+v, want %+v", got, want)
	}
}

// RoomRef is a part several requests share, embedded as Go code does.
type RoomRef struct {
	Room string `json:"room" v:"required#room is required"`
}

type TopicReq struct {
	g.Meta `event:"topic" summary:"A request whose fields an embedded struct holds"`
	RoomRef
}

type TopicRes struct {
	Room string `json:"room"`
}

type topics struct{}

func (topics) Topic(_ context.Context, req *TopicReq) (*TopicRes, error) {
	return &TopicRes{Room: req.Room}, nil
}

// The fields of an embedded struct are the request's own: its data is
// decoded into them and checked by their rules.
func TestEmbeddedRequestFieldsAreDecoded(t *testing.T) {
	router := ws.NewRouter()
	if err := router.Bind(topics{}); err != nil {
		t.Fatal(err)
	}
	c, _ := wstest.DialWelcome(t, serveRouter(t, router), nil)
	if got := c.Call("1", "topic", map[string]any{"room": "lobby"}); got.CodeOf(t) != 0 || string(got.Data) != `{"room":"lobby"}` {
		t.Fatalf("topic with a room: %+v %s", got, got.Data)
	}
	if got := c.Call("2", "topic", map[string]any{}); got.CodeOf(t) != 51 || got.Message != "room is required" {
		t.Fatalf("topic without a room: %+v", got)
	}
}
