package cmd_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/gfws/template-ws/internal/wstest"
)

// binary is the server built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "template-ws-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "template-ws")
	// Built as the Dockerfile builds it: static, without cgo.
	build := exec.Command("go", "build", "-trimpath", "-o", binary, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic("build the server: " + err.Error())
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(wstest.FrameworkGoroutines()...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// server is the built binary running with a config file of its own, the
// way an operator runs it: GF_GCFG_PATH and GF_GCFG_FILE.
type server struct {
	cmd    *exec.Cmd
	output *wstest.SyncBuffer
	exited chan error
	base   string // http://127.0.0.1:port
}

func launch(t *testing.T, overrides map[string]any) *server {
	t.Helper()
	return launchOn(t, wstest.FreePort(t), overrides)
}

// launchOn is launch on port, so that a node can come back where its
// clients, or nginx's upstream, know it.
func launchOn(t *testing.T, port int, overrides map[string]any) *server {
	t.Helper()
	settings := wstest.Merge(map[string]any{"server.address": fmt.Sprintf("127.0.0.1:%d", port)}, overrides)
	s := launchWithFile(t, "config.json", wstest.ConfigJSON(t, settings))
	s.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	return s
}

// launchWithFile runs the binary with content as its configuration file,
// named name in a directory of its own.
func launchWithFile(t *testing.T, name, content string) *server {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return startIn(t, dir, "GF_GCFG_PATH="+dir, "GF_GCFG_FILE="+name)
}

// startIn runs the binary in dir, with env added to the test's own.
func startIn(t *testing.T, dir string, env ...string) *server {
	t.Helper()
	s := &server{
		cmd:    exec.Command(binary),
		output: &wstest.SyncBuffer{},
		exited: make(chan error, 1),
	}
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("server output:\n%s", s.output)
		}
	})
	return s
}

func (s *server) waitExit(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.exited:
		s.exited <- err
		return err
	case <-time.After(wstest.Timeout):
		t.Fatalf("the server did not exit within %s", wstest.Timeout)
		return nil
	}
}

func (s *server) status(path string) int {
	resp, err := wstest.HTTP.Get(s.base + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestSIGTERMDrainsConnectionsAndExitsZero(t *testing.T) {
	t.Parallel()
	s := launch(t, map[string]any{"ws.shutdownTimeout": "5s"})
	wstest.WaitFor(t, "the server to answer /readyz", func() bool { return s.status("/readyz") == 200 })
	wsURL := "ws" + strings.TrimPrefix(s.base, "http") + "/ws"

	// Holds the drain open by not reading, so the node's state while
	// draining can be observed.
	lingering, _ := wstest.DialWelcome(t, wsURL, nil)
	if r := lingering.Call("1", "echo", "before"); r.CodeOf(t) != 0 {
		t.Fatalf("echo before shutdown: %+v", r)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wstest.WaitFor(t, "/readyz to turn 503 while draining", func() bool { return s.status("/readyz") == 503 })
	if code := s.status("/healthz"); code != 200 {
		t.Fatalf("/healthz while draining: %d", code)
	}
	_, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err == nil || resp == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("upgrade while draining: %v %v", resp, err)
	}
	resp.Body.Close()

	if reason := lingering.ExpectClose(websocket.CloseGoingAway); reason != "server shutting down" {
		t.Fatalf("close reason %q", reason)
	}
	if err := s.waitExit(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, s.output)
	}
}

func TestSIGINTWithNoConnectionsExitsZero(t *testing.T) {
	t.Parallel()
	s := launch(t, nil)
	wstest.WaitFor(t, "the server to answer /healthz", func() bool { return s.status("/healthz") == 200 })
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := s.waitExit(t); err != nil {
		t.Fatalf("exit after SIGINT: %v", err)
	}
}

func TestBadConfigStopsTheServerNamingTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key   string
		value any
		want  string
	}{
		{"broker.type", "kafka", `config broker.type: unknown broker "kafka"`},
		{"ws.pingInterval", "90s", "ws.pingInterval (1m30s) must be shorter than ws.pongTimeout"},
		{"ws.sendQueueSize", -3, "ws.sendQueueSize must be greater than zero"},
	} {
		s := launch(t, map[string]any{tc.key: tc.value})
		err := s.waitExit(t)
		if err == nil {
			t.Fatalf("%s = %v: the server started", tc.key, tc.value)
		}
		if !strings.Contains(s.output.String(), tc.want) {
			t.Fatalf("%s = %v: output does not say %q:\n%s", tc.key, tc.value, tc.want, s.output)
		}
	}
}

func TestPlaceholderSecretIsWarnedAbout(t *testing.T) {
	t.Parallel()
	s := launch(t, nil)
	wstest.WaitFor(t, "the placeholder warning", func() bool {
		return strings.Contains(s.output.String(), "ws.auth.jwtSecret is still the shipped placeholder")
	})
	quiet := launch(t, map[string]any{"ws.auth.jwtSecret": "a-real-secret"})
	wstest.WaitFor(t, "the second server to answer", func() bool { return quiet.status("/healthz") == 200 })
	if strings.Contains(quiet.output.String(), "placeholder") {
		t.Fatalf("warned with a real secret:\n%s", quiet.output)
	}
}
