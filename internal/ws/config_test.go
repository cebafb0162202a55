package ws_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

func TestShippedConfigIsTheDefault(t *testing.T) {
	t.Parallel()
	got, err := ws.LoadConfig(context.Background(), wstest.Config(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := ws.DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("manifest/config/config.yaml differs from ws.DefaultConfig:\n got %+v\nwant %+v", got, want)
	}
}

func TestBadConfigNamesTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key   string
		value any
		want  string
	}{
		{"ws.sendQueueSize", -1, "ws.sendQueueSize must be greater than zero"},
		{"ws.maxMessageSize", 0, "ws.maxMessageSize must be greater than zero"},
		{"ws.readBufferSize", "big", "ws.readBufferSize: want a number"},
		{"ws.maxConnections", -5, "ws.maxConnections must not be negative"},
		{"ws.rateLimit.rate", -1, "ws.rateLimit.rate must not be negative"},
		{"ws.pingInterval", "60s", "ws.pingInterval (1m0s) must be shorter than ws.pongTimeout"},
		{"ws.writeTimeout", "60s", "ws.writeTimeout (1m0s) must be shorter than ws.pongTimeout"},
		{"ws.pongTimeout", "soon", `ws.pongTimeout: want a duration such as "10s", got "soon"`},
		{"ws.compression", "yes", "ws.compression: want true or false"},
		{"ws.allowedOrigins", "https://a.example", "ws.allowedOrigins: want a list of strings"},
		{"server.trustedProxies", []string{"10.0.0.1/33"}, "server.trustedProxies"},
		{"ws.auth.jwtSecret", "", "ws.auth.jwtSecret must not be empty"},
	} {
		_, err := ws.LoadConfig(context.Background(), wstest.Config(t, map[string]any{tc.key: tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %v: error %v, want one containing %q", tc.key, tc.value, err, tc.want)
		}
	}
}
