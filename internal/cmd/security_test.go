package cmd_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gogf/gf/v2/encoding/gjson"
	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
)

// do sends a request and returns its status. A "Host" in header is the
// request's Host, which net/http takes from req.Host alone.
func (s *server) do(t *testing.T, method, path, body string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range header {
		if name == "Host" {
			req.Host = value
			continue
		}
		req.Header.Set(name, value)
	}
	resp, err := wstest.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestClientErrorsAreLoggedOnOneLineWithoutStack(t *testing.T) {
	t.Parallel()
	s := launch(t, map[string]any{"admin.token": "log-test-token"})
	wstest.WaitFor(t, "the server to answer /healthz", func() bool { return s.status("/healthz") == 200 })
	if code := s.do(t, "GET", "/api/v1/connections", "", nil); code != 401 {
		t.Fatalf("without the token: %d", code)
	}
	header := map[string]string{"Authorization": "Bearer log-test-token", "Content-Type": "application/json"}
	if code := s.do(t, "POST", "/api/v1/push", `{"event":"x"}`, header); code != 400 {
		t.Fatalf("push without a target: %d", code)
	}
	for _, want := range []string{`http 401 GET "/api/v1/connections"`, `http 400 POST "/api/v1/push"`} {
		wstest.WaitFor(t, "a notice "+want, func() bool {
			for line := range strings.Lines(s.output.String()) {
				if strings.Contains(line, "[NOTI]") && strings.Contains(line, want) {
					return true
				}
			}
			return false
		})
	}
	if out := s.output.String(); strings.Contains(out, "Stack") || strings.Contains(out, "[ERRO]") {
		t.Fatalf("a client error was logged as a server error:\n%s", out)
	}
}

func TestAccessLogMasksTheWebSocketToken(t *testing.T) {
	t.Parallel()
	s := launch(t, map[string]any{"server.accessLogEnabled": true})
	wstest.WaitFor(t, "the server to answer /healthz", func() bool { return s.status("/healthz") == 200 })
	wsURL := "ws" + strings.TrimPrefix(s.base, "http") + "/ws"
	token := wstest.Token(t, "change-me", "ann", time.Time{})
	wstest.DialWelcome(t, wsURL+"?room=lobby&token="+token, nil)
	const badToken = "forged.token.value"
	_, resp, err := websocket.DefaultDialer.Dial(wsURL+"?token="+badToken, nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("a bad token was not refused: %v %v", resp, err)
	}
	resp.Body.Close()
	wstest.WaitFor(t, "both handshakes in the access log", func() bool {
		return strings.Count(s.output.String(), "/ws?") >= 2
	})
	out := s.output.String()
	if strings.Contains(out, token) || strings.Contains(out, badToken) {
		t.Fatalf("the access log holds a token:\n%s", out)
	}
	for _, query := range []string{"/ws?room=lobby&token=*** ", "/ws?token=*** "} {
		if !strings.Contains(out, query) {
			t.Fatalf("the access log lacks %q:\n%s", query, out)
		}
	}
}

// Every secret value a shipped kustomize file sets is a placeholder, since
// no real secret belongs in the repository: the node must warn about each.
func TestKustomizeSecretsAreWarnedAbout(t *testing.T) {
	t.Parallel()
	configMaps, err := filepath.Glob(filepath.Join(wstest.RepoRoot(t), "manifest", "deploy", "kustomize", "*", "*", "configmap.yaml"))
	if err != nil || len(configMaps) == 0 {
		t.Fatalf("no kustomize configmap found: %v", err)
	}
	for _, file := range configMaps {
		manifest, err := gjson.LoadPath(file, gjson.Options{})
		if err != nil {
			t.Fatal(err)
		}
		config, err := gjson.LoadContent([]byte(manifest.Get("data").MapStrStr()["config.yaml"]))
		if err != nil || config.IsNil() {
			t.Fatalf("%s: no config.yaml in data: %v", file, err)
		}
		for _, key := range []string{"ws.auth.jwtSecret", "admin.token"} {
			value := config.Get(key).String()
			if value == "" {
				continue
			}
			s := launch(t, map[string]any{key: value})
			wstest.WaitFor(t, "the server to answer /healthz", func() bool { return s.status("/healthz") == 200 })
			if want := key + " is still the shipped placeholder"; !strings.Contains(s.output.String(), want) {
				t.Errorf("%s ships %s %q and the node does not warn about it:\n%s", file, key, value, s.output)
			}
		}
	}
}

func TestEdgeConfigMistakesStopTheServer(t *testing.T) {
	t.Parallel()
	for key, tc := range map[string]struct {
		value any
		want  string
	}{
		"server.readHeaderTimeout": {"soon", `config server.readHeaderTimeout: "soon" is not a positive duration`},
		"server.graceful":          {true, "config server.graceful: ghttp's reload hands listening sockets"},
	} {
		s := launch(t, map[string]any{key: tc.value})
		if err := s.waitExit(t); err == nil {
			t.Fatalf("%s = %v: the server started", key, tc.value)
		}
		if !strings.Contains(s.output.String(), tc.want) {
			t.Fatalf("%s = %v: output does not say %q:\n%s", key, tc.value, tc.want, s.output)
		}
	}
}

// Behind nginx every request reaches the node from 127.0.0.1: the admin
// API, the OpenAPI document, /metrics and pprof must still be closed to a client
// without the admin token, through the shipped file and through the two
// proxies an operator is likely to write: nginx's defaults (HTTP/1.0, no
// forwarding header, Host naming the node), and the usual headers.
func TestNginxDoesNotOpenTheAdminAPI(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"server.openapiPath": "/api.json", "server.swaggerPath": "/swagger", "server.pprofEnabled": true})
	shipped, bare, usual := wstest.FreePort(t), wstest.FreePort(t), wstest.FreePort(t)
	conf := wstest.ShippedNginxConf(t, "template-ws.conf",
		"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", shipped),
		"server 127.0.0.1:8000 ", fmt.Sprintf("server 127.0.0.1:%d ", nodePort(node)),
	) + fmt.Sprintf(`
server {
    listen 127.0.0.1:%[1]d;
    location / { proxy_pass http://127.0.0.1:%[3]d; }
}
server {
    listen 127.0.0.1:%[2]d;
    location / {
        proxy_pass http://127.0.0.1:%[3]d;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
}
`, bare, usual, nodePort(node))
	wstest.StartNginx(t, conf, shipped, bare, usual)
	json := map[string]string{"Content-Type": "application/json"}
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/api/v1/connections", ""},
		{"POST", "/api/v1/push", `{"all":true,"event":"x"}`},
		{"DELETE", "/api/v1/users/ann/connections", ""},
		{"GET", "/api.json", ""},
		{"GET", "/swagger/", ""},
		{"GET", "/metrics", ""},
		{"GET", "/debug/pprof/goroutine?debug=1", ""},
		{"GET", "/debug/pprof/cmdline", ""},
	} {
		for port, want := range map[int]int{bare: 401, usual: 401, node.App.HTTP.GetListenedPort(): 200} {
			s := &server{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
			if code := s.do(t, req.method, req.path, req.body, json); code != want {
				t.Errorf("%s %s on port %d: %d, want %d", req.method, req.path, port, code, want)
			}
		}
		// The shipped file may refuse these itself, before the node does.
		s := &server{base: fmt.Sprintf("http://127.0.0.1:%d", shipped)}
		if code := s.do(t, req.method, req.path, req.body, json); code == 200 {
			t.Errorf("%s %s through the shipped nginx file: 200", req.method, req.path)
		}
	}
	for _, port := range []int{shipped, bare, usual} {
		if code := (&server{base: fmt.Sprintf("http://127.0.0.1:%d", port)}).status("/healthz"); code != 200 {
			t.Errorf("/healthz through nginx on %d: %d", port, code)
		}
	}
}

// pprof is guarded as the admin API is, not only against proxies: a
// direct request must name this machine in its Host, which a web page that
// pointed a name of its own at 127.0.0.1 cannot, and must not come from a
// page of another site. /metrics still answers such a request: scrapers
// address a node by any name.
func TestPprofIsGuardedLikeTheAdminAPI(t *testing.T) {
	t.Parallel()
	node := wstest.Start(t, map[string]any{"server.pprofEnabled": true})
	s := &server{base: node.HTTPURL}
	rebound := map[string]string{"Host": "rebound.example:" + strconv.Itoa(nodePort(node))}
	for _, tc := range []struct {
		path   string
		header map[string]string
		want   int
	}{
		{"/debug/pprof/cmdline", nil, 200},
		{"/debug/pprof/cmdline", rebound, 401},
		{"/debug/pprof/cmdline", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"/metrics", rebound, 200},
	} {
		if got := s.do(t, "GET", tc.path, "", tc.header); got != tc.want {
			t.Errorf("GET %s (%v): %d, want %d", tc.path, tc.header, got, tc.want)
		}
	}
}
