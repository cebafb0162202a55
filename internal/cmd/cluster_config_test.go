package cmd

import (
	"context"
	"strings"
	"testing"

	"github.com/gogf/gf/v2/os/gcfg"
)

// broker.presenceTTL must be a duration of at least 300ms; a 0 is refused
// rather than read as the default, and so is a typo.
func TestPresenceTTLIsChecked(t *testing.T) {
	for _, value := range []string{`0`, `"0s"`, `"100ms"`, `15`, `"fifteen seconds"`} {
		adapter, err := gcfg.NewAdapterContent("broker:\n  type: redis\n  presenceTTL: " + value + "\n")
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = newBroker(context.Background(), gcfg.NewWithAdapter(adapter), 0)
		if err == nil || !strings.Contains(err.Error(), "config broker.presenceTTL: want a duration of at least 300ms") {
			t.Errorf("presenceTTL %s: %v", value, err)
		}
	}
}
