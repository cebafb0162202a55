package cmd_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gfws/template-ws/internal/wstest"
)

// TestConfigFileMistakesStopTheServer edits the shipped config.yaml the way
// an operator might get it wrong and runs the binary on it: each mistake
// must stop the server before it listens, with a message naming the key
// and its fix, or the file and the line.
func TestConfigFileMistakesStopTheServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		old  string // the start of the shipped line to replace
		new  string
		want string // {file} stands for the file, {line} for new's line
	}{
		{"typo", "  maxConnections: 100000", "  maxConection: 2",
			"config ws.maxConection: unknown key; did you mean ws.maxConnections?"},
		{"burst outside rateLimit", "    burst: 200", "  burst: 5",
			"config ws.burst: unknown key; did you mean ws.rateLimit.burst?"},
		{"wrong case", `  type: "memory"`, `  type: "memory"` + "\n  presenceTtl: 5s",
			"config broker.presenceTtl: unknown key; did you mean broker.presenceTTL?"},
		// yaml.v3 puts both of these on the line of "ws:".
		{"over-indented key", `  handshakeTimeout: "10s"`, `   handshakeTimeout: "10s"`,
			"config {file}: line {line}: did not find expected key"},
		{"unclosed list", "  allowedOrigins: []", `  allowedOrigins: ["https://app.example.com"`,
			"config {file}: line {line}: did not find expected ',' or ']'"},
		// ghttp reads its own server keys in any case and ignores these,
		// which the product reads by their exact names.
		{"server key typo", "  trustedProxies:", `  trustedProxys: ["10.0.0.0/8"]`,
			"config server.trustedProxys: unknown key; did you mean server.trustedProxies?"},
		{"server key case", "  trustedProxies:", `  TrustedProxies: ["10.0.0.0/8"]`,
			"config server.TrustedProxies: unknown key; did you mean server.trustedProxies?"},
		{"server key typo, timeout", "  readHeaderTimeout:", `  readHeaderTimout: "2s"`,
			"config server.readHeaderTimout: unknown key; did you mean server.readHeaderTimeout?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			content, line := shippedConfigWith(t, tc.old, tc.new)
			s := launchWithFile(t, "config.yaml", content)
			if err := s.waitExit(t); err == nil {
				t.Fatalf("the server exited cleanly:\n%s", s.output)
			}
			want := strings.NewReplacer("{file}", filepath.Join(s.cmd.Dir, "config.yaml"), "{line}", strconv.Itoa(line)).
				Replace(tc.want)
			if !strings.Contains(s.output.String(), want) {
				t.Fatalf("output does not say %q:\n%s", want, s.output)
			}
			if strings.Contains(s.output.String(), "listening on") {
				t.Fatalf("the server listened before refusing its configuration:\n%s", s.output)
			}
		})
	}
}

// A server that finds no configuration file says, before it listens,
// that every key has its built-in default: the file was meant to be
// somewhere.
func TestNoConfigFileIsSaid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startIn(t, dir, "GF_GCFG_PATH="+dir)
	const want = "no configuration file was found, so every key has its built-in default"
	wstest.WaitFor(t, "the server to say it found no configuration file", func() bool {
		return strings.Contains(s.output.String(), want)
	})
}

// shippedConfigWith returns manifest/config/config.yaml, on a free port,
// with the line that starts with old replaced by new, and the number of
// that line.
func shippedConfigWith(t *testing.T, old, new string) (string, int) {
	t.Helper()
	shipped, err := os.ReadFile(filepath.Join(wstest.RepoRoot(t), "manifest", "config", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	content := strings.Replace(string(shipped), `address: ":8000"`,
		fmt.Sprintf(`address: "127.0.0.1:%d"`, wstest.FreePort(t)), 1)
	at := strings.Index(content, "\n"+old) + 1
	if at == 0 {
		t.Fatalf("the shipped config has no line starting with %q", old)
	}
	end := at + strings.IndexByte(content[at:], '\n')
	return content[:at] + new + content[end:], strings.Count(content[:at], "\n") + 1
}
