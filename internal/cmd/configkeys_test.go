package cmd

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gogf/gf/v2/encoding/gjson"
	"github.com/gogf/gf/v2/os/gcfg"
)

// configData returns the configuration data settings (dotted keys) make.
func configData(t *testing.T, settings map[string]any) map[string]any {
	t.Helper()
	j := gjson.New(map[string]any{})
	for k, v := range settings {
		if err := j.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return j.Map()
}

func TestConfigKeysNameTheClosestKnownKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want string
	}{
		{"ws.maxConection", "config ws.maxConection: unknown key; did you mean ws.maxConnections?"},
		{"ws.maxconnections", "config ws.maxconnections: unknown key; did you mean ws.maxConnections?"},
		{"ws.burst", "config ws.burst: unknown key; did you mean ws.rateLimit.burst?"},
		{"ws.rateLimit.brust", "config ws.rateLimit.brust: unknown key; did you mean ws.rateLimit.burst?"},
		{"ws.ratelimit.rate", "config ws.ratelimit: unknown key; did you mean ws.rateLimit?"},
		{"ws.auth.jwtSecert", "config ws.auth.jwtSecert: unknown key; did you mean ws.auth.jwtSecret?"},
		{"ws.nodeId", "config ws.nodeId: unknown key; did you mean broker.nodeId?"},
		{"rooms.history.sise", "config rooms.history.sise: unknown key; did you mean rooms.history.size?"},
		{"broker.presenceTtl", "config broker.presenceTtl: unknown key; did you mean broker.presenceTTL?"},
		{"admin.tokn", "config admin.tokn: unknown key; did you mean admin.token?"},
		{"ws.colour", "config ws.colour: unknown key, and no known key is close to it; ws has path, allowedOrigins, "},
		{"fastcgi.listen", "config fastcgi.listen: unknown key, and no known key is close to it; fastcgi has address"},
		{"rooms.history.keep", "config rooms.history.keep: unknown key, and no known key is close to it; rooms.history has size, ttl"},
		{"brokers.type", "config brokers: unknown section; did you mean broker?"},
		{"Broker.type", "config Broker: unknown section; did you mean broker?"},
		{"Admin.token", "config Admin: unknown section; did you mean admin?"},
		{"room.maxPerConnection", "config room: unknown section; did you mean rooms?"},
		{"WS.path", "config WS: unknown section; did you mean ws?"},
	} {
		err := checkConfigKeys(configData(t, map[string]any{tc.key: 2}))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.key, err, tc.want)
		}
	}
}

func TestConfigKeysRefuseAValueWhereASectionBelongs(t *testing.T) {
	err := checkConfigKeys(configData(t, map[string]any{"ws.rateLimit": 5}))
	want := "config ws.rateLimit: want a section with the keys rate, burst, got 5"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestConfigKeysAcceptEveryKnownKeyAndOtherSections(t *testing.T) {
	settings := map[string]any{
		"server.anything":       1,
		"redis.default.address": "127.0.0.1:6379",
		"logger.level":          "all",
		"database.default.link": "x",
		// An application's own sections, one letter from ours.
		"aws.region": "x", "os.name": "x", "wss.url": "x", "broken.x": 1, "admins.list": "x", "booms.x": 1,
	}
	for _, key := range knownConfigKeys {
		section, _, _ := strings.Cut(key, ".")
		if !slices.Contains(checkedConfigSections, section) {
			t.Errorf("known key %s is outside the checked sections %v", key, checkedConfigSections)
		}
		settings[key] = 1
	}
	if err := checkConfigKeys(configData(t, settings)); err != nil {
		t.Fatal(err)
	}
	// An empty section ("ws:" with nothing under it) reads as no section.
	if err := checkConfigKeys(map[string]any{"ws": nil}); err != nil {
		t.Fatal(err)
	}
}

// TestConfigKeysAcceptTheShippedAndDocumentedKeys guards the list against
// the shipped file and the README's table: a key either names that the
// check refuses would stop every server that follows them.
func TestConfigKeysAcceptTheShippedAndDocumentedKeys(t *testing.T) {
	// Decoded as GoFrame's file adapter decodes it, without the adapter,
	// whose file watcher outlives the test.
	shipped, err := os.ReadFile(filepath.Join("..", "..", "manifest", "config", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := gjson.LoadContentType(gjson.ContentTypeYaml, shipped, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkConfigKeys(j.Map()); err != nil {
		t.Fatalf("shipped config: %v", err)
	}

	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := regexp.MustCompile("`((?:"+strings.Join(checkedConfigSections, "|")+`)\.[A-Za-z.]+)`+"`").
		FindAllStringSubmatch(string(readme), -1)
	if len(documented) == 0 {
		t.Fatal("found no documented key in README.md")
	}
	for _, m := range documented {
		if !slices.Contains(knownConfigPaths, m[1]) {
			t.Errorf("README.md documents %s, which the configuration check refuses", m[1])
		}
	}
}

func TestConfigCheckWorksOnContentConfigs(t *testing.T) {
	adapter, err := gcfg.NewAdapterContent(`{"ws": {"path": "/ws", "maxConection": 2}}`)
	if err != nil {
		t.Fatal(err)
	}
	err = checkConfig(context.Background(), gcfg.NewWithAdapter(adapter))
	want := "config ws.maxConection: unknown key; did you mean ws.maxConnections?"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestYAMLErrorNamesTheLineOfTheMistake(t *testing.T) {
	valid := []string{
		"a: 1",
		"ws:",
		"  path: /ws",
		"  # a comment",
		"  pongTimeout: 60s",
		`  handshakeTimeout: "10s"`,
		"  x: 1",
		"  y: 2",
		"b: 2",
	}
	for _, tc := range []struct {
		line    int // 1-based line of valid replaced by mistake
		mistake string
		want    string
	}{
		{7, "  x: [1,", "line 7: did not find expected ',' or ']'"},
		{7, "   x: 1", "line 7: did not find expected key"},
		{7, " x: 1", "line 7: did not find expected key"},
		{7, "\tx: 1", "line 7: found character that cannot start any token"},
		{7, `  x: "abc`, "line 7: found unexpected end of stream"},
		{7, "  x: a: b", "line 7: mapping values are not allowed in this context"},
		{7, "  x", "line 7: could not find expected ':'"},
		{6, "   handshakeTimeout: 10s", "line 6: mapping values are not allowed in this context"},
		{9, "b: [2", "line 9: did not find expected ',' or ']'"},
		{1, "a: [1", "line 1: did not find expected ',' or ']'"},
		{7, "  path: /other", `line 7: mapping key "path" already defined at line 3`},
	} {
		lines := slices.Clone(valid)
		lines[tc.line-1] = tc.mistake
		where, problem, failed := yamlError([]byte(strings.Join(lines, "\n") + "\n"))
		if got := where + problem; !failed || got != tc.want {
			t.Errorf("%q on line %d: got %q (failed %v), want %q", tc.mistake, tc.line, got, failed, tc.want)
		}
	}
	if _, _, failed := yamlError([]byte(strings.Join(valid, "\n"))); failed {
		t.Error("valid YAML reported as failing")
	}
}

// A configuration directory that does not exist stops the server with
// GoFrame's word for it, not a nil pointer's: GoFrame's default instance
// is nil then.
func TestAMissingConfigDirectoryIsNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	t.Setenv("GF_GCFG_PATH", missing)
	err := checkConfig(context.Background(), nil)
	want := `config: configuration directory path "` + missing + `" does not exist`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}
