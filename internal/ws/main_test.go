package ws_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gfws/template-ws/internal/wstest"
)

// TestMain fails the package when a test leaves a goroutine behind: every
// connection's reader and writer must end with it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, wstest.FrameworkGoroutines()...)
}
