package wsclient

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// handlers are the callbacks registered with On and OnRejoined.
type handlers struct {
	mu       sync.Mutex
	next     int
	byEvent  map[string]map[int]func(Message)
	onRejoin map[int]func(Rejoined)
}

func (h *handlers) add(event string, fn func(Message)) (remove func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byEvent == nil {
		h.byEvent = map[string]map[int]func(Message){}
	}
	if h.byEvent[event] == nil {
		h.byEvent[event] = map[int]func(Message){}
	}
	h.next++
	key := h.next
	h.byEvent[event][key] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.byEvent[event], key)
	}
}

func (h *handlers) addRejoined(fn func(Rejoined)) (remove func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.onRejoin == nil {
		h.onRejoin = map[int]func(Rejoined){}
	}
	h.next++
	key := h.next
	h.onRejoin[key] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.onRejoin, key)
	}
}

// emit calls event's handlers in the order they were added, outside the
// lock, so that a handler may add or remove handlers.
func (h *handlers) emit(event string, m Message) {
	h.mu.Lock()
	fns := inOrder(h.byEvent[event])
	h.mu.Unlock()
	for _, fn := range fns {
		fn(m)
	}
}

func (h *handlers) rejoined(r Rejoined) {
	h.mu.Lock()
	fns := inOrder(h.onRejoin)
	h.mu.Unlock()
	for _, fn := range fns {
		fn(r)
	}
}

func inOrder[F any](byKey map[int]F) []F {
	keys := make([]int, 0, len(byKey))
	for key := range byKey {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	fns := make([]F, len(keys))
	for i, key := range keys {
		fns[i] = byKey[key]
	}
	return fns
}

// defaulted are, per request type, the JSON names of its fields with a d:
// default.
var defaulted sync.Map // reflect.Type -> []defaultedField

type defaultedField struct {
	index []int
	name  string
}

// withoutZeroDefaults is data, or, when some of its fields with a d:
// default are zero, a map of its JSON without them.
func withoutZeroDefaults(data any) any {
	v := reflect.ValueOf(data)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return data
	}
	var zero []string
	for _, f := range defaultedFields(v.Type()) {
		if v.FieldByIndex(f.index).IsZero() {
			zero = append(zero, f.name)
		}
	}
	if len(zero) == 0 {
		return data
	}
	encoded, err := json.Marshal(data)
	var fields map[string]json.RawMessage
	if err != nil || json.Unmarshal(encoded, &fields) != nil {
		return data
	}
	for _, name := range zero {
		delete(fields, name)
	}
	return fields
}

func defaultedFields(t reflect.Type) []defaultedField {
	if known, ok := defaulted.Load(t); ok {
		return known.([]defaultedField)
	}
	var fields []defaultedField
	for _, f := range reflect.VisibleFields(t) {
		if _, ok := f.Tag.Lookup("d"); !ok || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		fields = append(fields, defaultedField{index: f.Index, name: name})
	}
	defaulted.Store(t, fields)
	return fields
}
