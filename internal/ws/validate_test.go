package ws_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/gogf/gf/v2/frame/g"
	"github.com/gogf/gf/v2/util/gvalid"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// seatsLeft is what the "seat-free" rule consults: a verdict that depends
// on more than the value, as a rule asking a database would.
var seatsLeft atomic.Int64

func init() {
	gvalid.RegisterRule("seat-free", func(_ context.Context, in gvalid.RuleFuncInput) error {
		if seatsLeft.Add(-1) < 0 {
			return errors.New("no seat is free")
		}
		return nil
	})
}

type BookReq struct {
	g.Meta `event:"book"`
	Seat   string `json:"seat" v:"required|seat-free"`
}

type BookRes struct{}

type booker struct{}

func (booker) Book(context.Context, *BookReq) (*BookRes, error) { return &BookRes{}, nil }

// A handler remembers data that passed its rules only when every rule is
// gvalid's own or named pure: a custom rule is asked every time, and data
// that failed is checked again.
func TestRulesRunAgainUnlessPure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pure  bool
		codes []int // of three identical requests, with one seat free
	}{
		{"a custom rule is asked every time", false, []int{0, 51, 51}},
		{"a pure rule's verdict is remembered", true, []int{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			router := ws.NewRouter()
			if tc.pure {
				router.PureRules("seat-free")
			}
			if err := router.Bind(booker{}); err != nil {
				t.Fatal(err)
			}
			c, _ := wstest.DialWelcome(t, serveRouter(t, router), nil)
			seatsLeft.Store(1)
			for i, want := range tc.codes {
				if got := c.Call(i, "book", map[string]string{"seat": "12A"}).CodeOf(t); got != want {
					t.Fatalf("request %d: code %d, want %d", i+1, got, want)
				}
			}
			// Data that failed is never remembered as passing.
			for i := range 2 {
				if got := c.Call(i, "book", map[string]string{}).CodeOf(t); got != 51 {
					t.Fatalf("request without a seat, %d: code %d, want 51", i+1, got)
				}
			}
		})
	}
}
