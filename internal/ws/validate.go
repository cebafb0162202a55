package ws

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/gogf/gf/v2/util/gvalid"
)

// Validating a request struct with gvalid costs tens of microseconds and
// kilobytes of garbage, more than the rest of a join. Many requests carry
// the same data (every member joining one room sends {"room":"lobby"}), so
// a handler whose rules depend on the data alone remembers the data that
// passed them.
const (
	memoEntries = 1024 // data remembered per event; then it starts over
	memoKeySize = 256  // longer data is always validated
)

// validationMemo is the data that passed a handler's rules.
type validationMemo struct {
	mu     sync.RWMutex
	passed map[string]struct{}
}

func (m *validationMemo) has(data []byte) bool {
	if m == nil || len(data) > memoKeySize {
		return false
	}
	m.mu.RLock()
	_, ok := m.passed[string(data)]
	m.mu.RUnlock()
	return ok
}

func (m *validationMemo) add(data []byte) {
	if m == nil || len(data) > memoKeySize {
		return
	}
	m.mu.Lock()
	if len(m.passed) >= memoEntries {
		clear(m.passed)
	}
	m.passed[string(data)] = struct{}{}
	m.mu.Unlock()
}

// check runs the request's rules on in, decoded from data, with Bail: the
// first failed rule is the answer, as ghttp gives it.
func (h *handler) check(ctx context.Context, in any, data json.RawMessage) error {
	if !h.validate || h.memo.has(data) {
		return nil
	}
	if err := gvalid.New().Bail().Data(in).Run(ctx); err != nil {
		return err
	}
	h.memo.add(data)
	return nil
}

// PureRules names custom gvalid rules whose verdict depends on the value
// alone, like gvalid's built-in rules; requests whose rules are all such
// are validated once per distinct data. Call it before Bind.
func (r *Router) PureRules(names ...string) {
	if r.pure == nil {
		r.pure = map[string]bool{}
	}
	for _, name := range names {
		r.pure[name] = true
	}
}

// memoFor returns a memo for a request type whose rules are gvalid's
// built-ins or pure, and nil when one may depend on more than the data
// (a custom rule that could ask a database, say).
func (r *Router) memoFor(t reflect.Type) *validationMemo {
	custom := gvalid.GetRegisteredRuleMap()
	for _, name := range ruleNames(t, map[reflect.Type]bool{}) {
		if _, ok := custom[name]; ok && !r.pure[name] {
			return nil
		}
	}
	return &validationMemo{passed: map[string]struct{}{}}
}

// ruleNames lists the rules of t's v: tags, nested structs included.
func ruleNames(t reflect.Type, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		for _, key := range []string{"v", "valid"} {
			rules, _, _ := strings.Cut(f.Tag.Get(key), "#")
			for rule := range strings.SplitSeq(rules, "|") {
				name, _, _ := strings.Cut(strings.TrimSpace(rule), ":")
				if name != "" {
					names = append(names, name)
				}
			}
		}
		names = append(names, ruleNames(f.Type, seen)...)
	}
	return names
}
