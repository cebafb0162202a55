package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/errors/gerror"
	"github.com/gogf/gf/v2/os/glog"
	"github.com/gogf/gf/v2/util/gconv"
	"github.com/gogf/gf/v2/util/gmeta"
)

// internalErrorMessage is all a client learns of a handler that failed
// without a code or panicked; the details go to the log.
const internalErrorMessage = "internal error: the server could not handle this event; it has been logged"

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// Router maps event names to controller methods. It is filled by Bind
// before the server starts and only read afterwards.
type Router struct {
	handlers map[string]*handler
	pure     map[string]bool // custom rules that PureRules named
}

// handler is one bound controller method.
type handler struct {
	event    string
	name     string // Controller.Method, for logs
	method   reflect.Value
	reqType  reflect.Type    // the struct the request pointer points to
	resType  reflect.Type    // the struct the reply's data is
	validate bool            // the request struct has v: tags
	memo     *validationMemo // data that passed the rules, nil when not kept
	defaults map[string]any  // d: tag values by JSON field name, applied before data
	// anyData: the request struct has no JSON field, so its data, any
	// JSON value, is ignored (ping), as the contract documents it.
	anyData bool
}

// NewRouter returns an empty Router.
func NewRouter() *Router {
	return &Router{handlers: make(map[string]*handler)}
}

// Bind registers every exported method of each controller, the way
// group.Bind does for HTTP: a method must look like
//
//	func (c *ControllerV1) RoomJoin(ctx context.Context, req *v1.RoomJoinReq) (res *v1.RoomJoinRes, err error)
//
// and its request struct must carry the event name in g.Meta, as in
// `g.Meta `event:"room.join"“. Any other method, a missing tag or an event
// bound twice is an error, reported before the server starts.
func (r *Router) Bind(controllers ...any) error {
	for _, ctrl := range controllers {
		value := reflect.ValueOf(ctrl)
		typ := value.Type()
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			h, err := newHandler(typ, m, value.Method(i))
			if err != nil {
				return err
			}
			if h.validate {
				h.memo = r.memoFor(h.reqType)
			}
			if prev, ok := r.handlers[h.event]; ok {
				return fmt.Errorf("ws router: event %q is bound twice, by %s and %s", h.event, prev.name, h.name)
			}
			r.handlers[h.event] = h
		}
	}
	return nil
}

func newHandler(ctrl reflect.Type, m reflect.Method, fn reflect.Value) (*handler, error) {
	name := strings.TrimPrefix(ctrl.String(), "*") + "." + m.Name
	t := fn.Type()
	if t.NumIn() != 2 || t.In(0) != contextType || t.In(1).Kind() != reflect.Pointer ||
		t.In(1).Elem().Kind() != reflect.Struct || t.NumOut() != 2 ||
		t.Out(0).Kind() != reflect.Pointer || t.Out(1) != errorType {
		return nil, fmt.Errorf("ws router: %s has signature %s; an event method must be "+
			"func(ctx context.Context, req *XxxReq) (res *XxxRes, err error)", name, t)
	}
	reqType := t.In(1).Elem()
	event := gmeta.Get(reflect.New(reqType).Interface(), "event").String()
	if event == "" {
		return nil, fmt.Errorf("ws router: %s: request type %s has no event name; add g.Meta `event:\"...\"`", name, reqType)
	}
	return &handler{
		event:    event,
		name:     name,
		method:   fn,
		reqType:  reqType,
		resType:  t.Out(0).Elem(),
		validate: hasValidationTags(reqType),
		defaults: defaultValues(reqType),
		anyData:  !hasDataFields(reqType),
	}, nil
}

// hasDataFields reports whether data fills the request struct t: t
// decodes itself (echo's embedded json.RawMessage), or has an exported
// field, its own or an embedded struct's (g.Meta has none); an embedded
// pointer counts as one, since encoding/json fills what it points to.
func hasDataFields(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) ||
		anyField(t, func(f reflect.StructField) bool {
			return f.IsExported() && f.Tag.Get("json") != "-" && (!f.Anonymous || f.Type.Kind() == reflect.Pointer)
		})
}

// anyField reports whether match holds for a field of the struct t or of
// a struct it embeds, as encoding/json and gvalid see both as t's own.
func anyField(t reflect.Type, match func(reflect.StructField) bool) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if match(f) {
			return true
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct && anyField(f.Type, match) {
			return true
		}
	}
	return false
}

// defaultValues returns the values of the request struct's d: (or
// default:) tags by JSON field name: ghttp applies them to a missing
// parameter, and so does the router to a missing field of data.
func defaultValues(t reflect.Type) map[string]any {
	var values map[string]any
	for i := range t.NumField() {
		f := t.Field(i)
		value, ok := f.Tag.Lookup("d")
		if !ok {
			value, ok = f.Tag.Lookup("default")
		}
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if values == nil {
			values = make(map[string]any)
		}
		values[name] = value
	}
	return values
}

// hasValidationTags reports whether gvalid has anything to check in t, so
// that requests without rules skip the validator.
func hasValidationTags(t reflect.Type) bool {
	return anyField(t, func(f reflect.StructField) bool {
		return f.Tag.Get("v") != "" || f.Tag.Get("valid") != ""
	})
}

// Events returns the bound event names, sorted.
func (r *Router) Events() []string {
	names := make([]string, 0, len(r.handlers))
	for name := range r.handlers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// EventContract is what the event contract needs to know of one bound
// event: its name, its request and reply structs and the summary of its
// request's g.Meta.
type EventContract struct {
	Event    string
	Summary  string
	Request  reflect.Type
	Response reflect.Type
}

// Contracts returns the bound events' contracts, sorted by event name.
func (r *Router) Contracts() []EventContract {
	contracts := make([]EventContract, 0, len(r.handlers))
	for _, event := range r.Events() {
		h := r.handlers[event]
		contracts = append(contracts, EventContract{
			Event:    event,
			Summary:  gmeta.Get(reflect.New(h.reqType).Interface(), "summary").String(),
			Request:  h.reqType,
			Response: h.resType,
		})
	}
	return contracts
}

// Open queues the welcome push, the first message of every connection.
func (r *Router) Open(c *Conn) {
	c.Push("welcome", map[string]any{
		"connId":       c.id,
		"userId":       c.userID,
		"node":         c.server.node,
		"pingInterval": c.server.cfg.PingInterval.Milliseconds(),
	})
}

// HandleMessage dispatches one message of c to its event's method, on c's
// reader goroutine. Binary messages get code 59: the envelope is JSON.
func (r *Router) HandleMessage(c *Conn, binary bool, frame []byte) {
	defer c.runAfterReply()
	if binary {
		c.reply(nil, ErrorEvent, gcode.CodeNotSupported,
			"binary frames are not supported: send each message as a JSON text frame", nil)
		return
	}
	req, err := decodeRequest(frame)
	if err != nil {
		event := req.Event
		if event == "" {
			event = ErrorEvent
		}
		c.reply(req.ID, event, gcode.CodeInvalidRequest, err.Error(), nil)
		return
	}
	h := r.handlers[req.Event]
	if h == nil {
		c.reply(req.ID, req.Event, gcode.CodeNotFound,
			fmt.Sprintf("unknown event %q; this server handles: %s", req.Event, strings.Join(r.Events(), ", ")), nil)
		return
	}
	in := reflect.New(h.reqType)
	if h.defaults != nil {
		if err := gconv.Struct(h.defaults, in.Interface()); err != nil {
			c.logError(h.name+" default values", err)
		}
	}
	if !isNull(req.Data) && !h.anyData {
		if err := decodeData(req.Data, in.Interface()); err != nil {
			c.reply(req.ID, req.Event, gcode.CodeValidationFailed, "data does not fit event "+req.Event+": "+err.Error(), nil)
			return
		}
	}
	if err := h.check(c.ctx, in.Interface(), req.Data); err != nil {
		c.reply(req.ID, req.Event, gcode.CodeValidationFailed, err.Error(), nil)
		return
	}
	res, err := h.call(c, in)
	if err != nil {
		code := gerror.Code(err)
		if code == gcode.CodeNil || code == gcode.CodeInternalError {
			c.logError(h.name, err)
			c.reply(req.ID, req.Event, gcode.CodeInternalError, internalErrorMessage, nil)
			return
		}
		c.reply(req.ID, req.Event, code, err.Error(), nil)
		return
	}
	if req.ID != nil {
		c.reply(req.ID, req.Event, gcode.CodeOK, "", res)
	}
}

// decodeData decodes a request's data, which decodeRequest has found to
// be valid JSON: a type that decodes itself, such as echo's raw JSON, gets
// it directly rather than after one more validating pass.
func decodeData(data json.RawMessage, into any) error {
	if self, ok := into.(json.Unmarshaler); ok {
		return self.UnmarshalJSON(data)
	}
	return json.Unmarshal(data, into)
}

// call runs the handler, turning a panic into an error without a code so
// the client sees code 50 and the stack goes to the log.
func (h *handler) call(c *Conn, in reflect.Value) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in %s: %v\n%s", h.name, p, debug.Stack())
		}
	}()
	out := h.method.Call([]reflect.Value{reflect.ValueOf(c.ctx), in})
	if e, _ := out[1].Interface().(error); e != nil {
		return nil, e
	}
	return out[0].Interface(), nil
}

func (c *Conn) logError(what string, err error) {
	glog.Errorf(c.ctx, "ws conn=%s user=%q %s: %+v", c.id, c.userID, what, err)
}
