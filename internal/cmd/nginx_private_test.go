package cmd_test

import (
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/wstest"
)

// shippedNginxFiles are the files under manifest/deploy/nginx/.
var shippedNginxFiles = []string{"template-ws.conf", "template-ws-tls.conf", "template-ws-fastcgi.conf"}

// The admin API, its documents and the metrics are served by every node,
// but no shipped nginx file passes them on: nginx answers 404 itself.
// Not parallel: its control calls the admin API, which uses the hub, the
// process's service; a node another test starts meanwhile would register
// its own.
func TestNginxAnswersTheOperatorRoutesItself(t *testing.T) {
	node := wstest.Start(t, map[string]any{
		"server.openapiPath": "/api.json", "server.swaggerPath": "/swagger", "fastcgi.address": "127.0.0.1:0",
	})
	operatorOnly := []string{
		"GET /api/v1/connections", "GET /api/v1/rooms/lobby", "POST /api/v1/push",
		"DELETE /api/v1/users/alice/connections", "GET /api.json", "GET /swagger/", "GET /metrics",
	}
	// The control: a loopback client reaches each of them on the node.
	for _, route := range operatorOnly {
		if status, body := request(t, wstest.HTTP, node.HTTPURL, route); status == http.StatusNotFound {
			t.Fatalf("%s on the node itself: %d %s; the test proves nothing", route, status, body)
		}
	}
	// Other spellings of them: nginx normalises a path before it picks a
	// location, and the node's router reads an encoded slash as part of a
	// segment, so /api/v1/rooms/..%2F..%2F.. is "/" to one and an admin
	// route to the other.
	disguised := []string{
		"GET /metrics/", "GET //api/v1/connections", "GET /%61pi/v1/connections", "GET /api.json/",
		"GET /swagger", "GET /ws/../metrics", "GET /api/v1/rooms/..%2F..%2F..",
		"DELETE /api/v1/users/x%2F..%2F..%2F..%2Fws/connections",
	}
	for _, name := range shippedNginxFiles {
		t.Run(name, func(t *testing.T) {
			front := startShippedNginx(t, name, node)
			// nginx's own error page, not the node's JSON or text: 404, or
			// 400 for an encoded slash.
			refusedByNginx := func(route string, statuses ...int) {
				status, body := request(t, front.client, front.base, route)
				if !slices.Contains(statuses, status) || !strings.Contains(body, "<center>nginx") {
					t.Errorf("%s through nginx: %d %.200s", route, status, body)
				}
			}
			for _, route := range operatorOnly {
				refusedByNginx(route, http.StatusNotFound)
			}
			for _, route := range disguised {
				refusedByNginx(route, http.StatusNotFound, http.StatusBadRequest)
			}
			if status, _ := request(t, front.client, front.base, "GET /healthz"); status != http.StatusOK {
				t.Errorf("healthz through nginx: %d", status)
			}
		})
	}
}

// request sends "METHOD /path" to base with an empty body and returns the
// status and body.
func request(t *testing.T, client *http.Client, base, route string) (int, string) {
	t.Helper()
	method, path, _ := strings.Cut(route, " ")
	req, err := http.NewRequest(method, base+path, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, base+path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// A browser's token travels in the query of /ws; the shipped files log /ws
// without it.
func TestNginxAccessLogLeavesOutTheToken(t *testing.T) {
	t.Parallel()
	const secret = "logged-secret"
	node := wstest.Start(t, map[string]any{"ws.auth.jwtSecret": secret, "fastcgi.address": "127.0.0.1:0"})
	token := wstest.Token(t, secret, "alice", time.Now().Add(time.Hour))
	for _, name := range shippedNginxFiles {
		t.Run(name, func(t *testing.T) {
			front := startShippedNginx(t, name, node)
			c, welcome := front.dialWelcome(t, "?token="+token, nil)
			if !strings.Contains(string(welcome.Data), `"userId":"alice"`) {
				t.Fatalf("welcome %s: the token did not reach the node", welcome.Data)
			}
			// nginx writes a WebSocket's line when the connection ends.
			c.Close()
			var log string
			wstest.WaitFor(t, "nginx to log the /ws request", func() bool {
				raw, _ := os.ReadFile(front.accessLog)
				log = string(raw)
				return strings.Contains(log, `" 101 `)
			})
			if strings.Contains(log, token) || !strings.Contains(log, `"GET /ws HTTP/1.1" 101 `) {
				t.Fatalf("the access log holds more than GET /ws:\n%s", log)
			}
		})
	}
}
