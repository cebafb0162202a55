package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// do makes one request with the given headers and returns the response's
// status and body.
func do(t *testing.T, method, url string, header map[string]string, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
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
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// send makes one request and decodes the API's answer.
func send(t *testing.T, method, url string, header map[string]string, body string) apiResponse {
	t.Helper()
	status, raw := do(t, method, url, header, body)
	res := apiResponse{Status: status}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("%s %s: body %q is not the API's shape: %v", method, url, raw, err)
	}
	return res
}

// status answers a GET's status code.
func status(t *testing.T, url string, header map[string]string) int {
	t.Helper()
	code, _ := do(t, "GET", url, header, "")
	return code
}

// forwardingHeaders are the marks of a proxy, each of which must close the
// admin API to a request without the token.
var forwardingHeaders = map[string]string{
	"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9", "Forwarded": "for=203.0.113.9",
	"Via": "1.1 nginx", "X-Forwarded-Host": "example.com", "X-Forwarded-Proto": "https",
}

func TestEmptyAdminTokenRefusesProxiedRequests(t *testing.T) {
	node := wstest.Start(t, nil)
	api := node.HTTPURL + "/api/v1/connections"
	if res := send(t, "GET", api, nil, ""); res.Status != 200 || res.Code != 0 {
		t.Fatalf("direct loopback request: %+v", res)
	}
	for name, value := range forwardingHeaders {
		res := send(t, "GET", api, map[string]string{name: value}, "")
		if res.Status != 401 || res.Code != 61 || !strings.Contains(res.Message, "set admin.token") ||
			!strings.Contains(res.Message, name) {
			t.Errorf("with %s: %+v", name, res)
		}
	}
	// nginx's own default towards upstreams: HTTP/1.0 and no header added.
	addr := strings.TrimPrefix(node.HTTPURL, "http://")
	raw := wstest.RawRequest(t, addr, "GET /api/v1/connections HTTP/1.0", "Host: "+addr)
	if raw.Status != 401 || !strings.Contains(raw.Body, "HTTP/1.0") {
		t.Errorf("HTTP/1.0: %d %s", raw.Status, raw.Body)
	}
	// A page can point a name of its own at 127.0.0.1 and call the API as
	// its own origin.
	for _, host := range []string{"rebound.example:8000", "rebound-localhost:8000", "localhost.rebound.example"} {
		res := send(t, "GET", api, map[string]string{"Host": host}, "")
		if res.Status != 401 || res.Code != 61 || !strings.Contains(res.Message, `"`+host+`"`) {
			t.Errorf("addressed to another name, %s: %+v", host, res)
		}
	}
	for _, host := range []string{"localhost:8000", "LOCALHOST.", "127.0.0.2", "127.0.0.1.:8000", "[::1]:8000", "[::ffff:127.0.0.1]:8000"} {
		if res := send(t, "GET", api, map[string]string{"Host": host}, ""); res.Status != 200 {
			t.Errorf("addressed to %s: %+v", host, res)
		}
	}
}

func TestProxiedRequestsNeedTheAdminToken(t *testing.T) {
	for _, token := range []string{"", adminToken} {
		node := wstest.Start(t, map[string]any{
			"admin.token": token, "server.openapiPath": "/api.json", "server.swaggerPath": "/swagger",
		})
		paths := []string{"/api.json", "/swagger", "/swagger/", "/metrics"}
		for _, path := range paths {
			if res := status(t, node.HTTPURL+path, nil); res != 200 {
				t.Errorf("token %q: direct %s: %d", token, path, res)
			}
		}
		for _, path := range append(paths, "/swagger/index.html", "/metrics/", "/api.json/", "/SWAGGER/", "/Metrics") {
			for name, value := range forwardingHeaders {
				if got := status(t, node.HTTPURL+path, map[string]string{name: value}); got == 200 {
					t.Errorf("token %q: %s with %s answered 200", token, path, name)
				}
			}
		}
		res := send(t, "GET", node.HTTPURL+"/metrics", map[string]string{"Via": "1.1 nginx"}, "")
		if res.Status != 401 || res.Code != 61 || !strings.Contains(res.Message, "Authorization: Bearer <admin.token>") {
			t.Errorf("token %q: proxied /metrics: %+v", token, res)
		}
		if token == "" {
			continue
		}
		// With the token, from anywhere, by any name.
		for _, path := range append(paths, "/api/v1/connections") {
			header := map[string]string{"Via": "1.1 nginx", "Authorization": "Bearer " + token, "Host": "admin.example"}
			if got := status(t, node.HTTPURL+path, header); got != 200 {
				t.Errorf("proxied %s with the token: %d", path, got)
			}
		}
	}
}

// FastCGI is a gateway: nginx sets REMOTE_ADDR to the client, which may be
// on the same machine, and need not add a forwarding header.
func TestFastCGIRequestsCountAsProxied(t *testing.T) {
	node := wstest.Start(t, map[string]any{"fastcgi.address": "127.0.0.1:0"})
	for path, want := range map[string]int{"/api/v1/connections": 401, "/metrics": 401, "/healthz": 200} {
		res := wstest.FastCGIGet(t, node.FastCGIAddr, path, nil)
		if res.Status != want {
			t.Errorf("%s over FastCGI: %d %s", path, res.Status, res.Body)
		}
		if want == 401 && !strings.Contains(res.Body, "FastCGI") {
			t.Errorf("%s over FastCGI: %s", path, res.Body)
		}
	}
}

func TestAdminRefusesCrossSiteRequests(t *testing.T) {
	node := wstest.Start(t, map[string]any{"ws.auth.jwtSecret": secret})
	api := node.HTTPURL + "/api/v1/push"
	ann, _ := dialAs(t, node, "ann")
	const body = `{"user":"ann","event":"forged"}`
	for _, header := range []map[string]string{
		{"Origin": "https://attacker.example", "Content-Type": "text/plain"},
		{"Origin": "https://attacker.example", "Content-Type": "application/json"},
		{"Origin": "null", "Content-Type": "application/json"},
		{"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
		{"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"},
	} {
		res := send(t, "POST", api, header, body)
		if res.Status != 403 || res.Code != 62 || !strings.Contains(res.Message, "another site") {
			t.Errorf("%v: %+v", header, res)
		}
	}
	res := send(t, "POST", api, map[string]string{"Content-Type": "text/plain"}, body)
	if res.Status != 415 || res.Code != 66 || !strings.Contains(res.Message, "Content-Type: application/json") {
		t.Errorf("text/plain body: %+v", res)
	}
	for _, contentType := range []string{"", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		if res := send(t, "POST", api, map[string]string{"Content-Type": contentType}, body); res.Status != 415 {
			t.Errorf("Content-Type %q: %+v", contentType, res)
		}
	}
	// What browsers send from the API's own origin, and JSON with a charset.
	for _, header := range []map[string]string{
		{"Origin": node.HTTPURL, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"},
		{"Sec-Fetch-Site": "none", "Content-Type": "application/json; charset=utf-8"},
	} {
		res := send(t, "POST", api, header, `{"user":"ann","event":"allowed"}`)
		if res.Status != 200 || string(res.Data) != `{"delivered":1}` {
			t.Fatalf("%v: %+v", header, res)
		}
	}
	// Nothing refused was delivered: the first push ann gets is an allowed one.
	if m := ann.Read(); m.Event != "allowed" {
		t.Fatalf("ann got %+v first", m)
	}
}

// A refusal quotes what it needs of the request, clipped: a path, Host or
// Origin of kilobytes comes back as a short quote, as a handshake's does.
func TestGuardRefusalsQuoteLittleOfTheRequest(t *testing.T) {
	node := wstest.Start(t, map[string]any{"server.swaggerPath": "/swagger"})
	long := strings.Repeat("a", 4000)
	for what, res := range map[string]apiResponse{
		"a proxied ops path": send(t, "GET", node.HTTPURL+"/swagger/"+long, map[string]string{"Via": "1.1 nginx"}, ""),
		"a Host":             send(t, "GET", node.HTTPURL+"/api/v1/connections", map[string]string{"Host": long + ".example"}, ""),
		"an Origin": send(t, "POST", node.HTTPURL+"/api/v1/push",
			map[string]string{"Origin": "https://" + long + ".example", "Content-Type": "application/json"}, `{"user":"ann","event":"x"}`),
	} {
		if res.Status < 400 || len(res.Message) > 600 || !strings.Contains(res.Message, "aaa…") {
			t.Errorf("%s of 4000 bytes: %d, message of %d bytes: %.200s", what, res.Status, len(res.Message), res.Message)
		}
	}
}
