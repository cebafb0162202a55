package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
)

// walkthroughFiles are the files of the README's "Adding an event"
// walkthrough, in the order of its Go blocks.
var walkthroughFiles = []string{
	"api/ws/v1/chat.go",
	"internal/controller/ws/ws_v1_chat_typing.go",
	"internal/controller/ws/ws_v1_chat_typing_test.go",
	"api/admin/v1/online.go",
	"internal/controller/admin/admin_v1_online.go",
}

// readmeWalkthrough returns the walkthrough's files as the README shows
// them, by path, so that the test writes what a team copies from it.
func readmeWalkthrough(t *testing.T) map[string]string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(readme), "\n## Adding an event\n")
	if !found {
		t.Fatal(`README.md has no section "## Adding an event"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?ms)^( *)```go\n(.*?)^ *```\n").FindAllStringSubmatch(section, -1)
	if len(blocks) != len(walkthroughFiles) {
		t.Fatalf("README.md's walkthrough has %d Go blocks, want %d: %v", len(blocks), len(walkthroughFiles), walkthroughFiles)
	}
	files := make(map[string]string)
	for i, block := range blocks {
		lines := strings.Split(block[2], "\n")
		for j, line := range lines {
			lines[j] = strings.TrimPrefix(line, block[1])
		}
		files[walkthroughFiles[i]] = strings.Join(lines, "\n")
	}
	return files
}

func writeFiles(t *testing.T, app string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func addEventAndEndpoint(t *testing.T, app string, env []string, gf string) {
	// The API definitions first; make ctrl writes the stubs the rest fill.
	definitions, filled := make(map[string]string), make(map[string]string)
	for name, content := range readmeWalkthrough(t) {
		if strings.HasPrefix(name, "api/") {
			definitions[name] = content
		} else {
			filled[name] = content
		}
	}
	writeFiles(t, app, definitions)
	run(t, app, env, "make", "ctrl", "GF="+gf)
	for name := range filled {
		if strings.HasSuffix(name, "_test.go") {
			continue // the team's own test, not a stub
		}
		if _, err := os.Stat(filepath.Join(app, name)); err != nil {
			t.Fatalf("make ctrl did not write the stub %s: %v", name, err)
		}
	}
	declarations, err := os.ReadFile(filepath.Join(app, "resource", "public", "ws-client.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(declarations), "\n  \"chat.typing\": { request: ChatTypingRequest; reply: ChatTypingReply };\n") {
		t.Fatalf("after make ctrl, the EventMap of resource/public/ws-client.d.ts has no chat.typing:\n%s", declarations)
	}
	goClient, err := os.ReadFile(filepath.Join(app, "pkg", "wsclient", "events.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(goClient), "func (c *Client) ChatTyping(ctx context.Context, req *wsv1.ChatTypingReq) (*wsv1.ChatTypingRes, error) {") {
		t.Fatalf("after make ctrl, pkg/wsclient/events.go has no ChatTyping method:\n%s", goClient)
	}
	writeFiles(t, app, filled)
	// As copied from the README, the files pass the app's make lint.
	if unformatted := run(t, app, env, "gofmt", "-l", "api", "internal"); unformatted != "" {
		t.Fatalf("the README's walkthrough files are not gofmt-formatted:\n%s", unformatted)
	}
	run(t, app, env, "go", "build", "-o", "bin/myapp", ".")

	served := startApp(t, app, env, filepath.Join(app, "bin", "myapp"))
	defer served.stop()
	documentsEvent(t, served.base, "chat.typing")
	run(t, app, env, "go", "test", "-count=1", "-run", "TestChatTypingReachesTheOtherMembers", "./internal/controller/ws/")
	c, _ := wstest.DialWelcome(t, "ws"+strings.TrimPrefix(served.base, "http")+"/ws", nil)
	if r := c.Call("2", "chat.typing", map[string]string{}); r.CodeOf(t) != 51 {
		t.Fatalf("chat.typing without a room: %+v", r)
	}
	resp, err := wstest.HTTP.Get(served.base + "/api/v1/online")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"data":{"connections":1}`) {
		t.Fatalf("GET /api/v1/online: %d %s", resp.StatusCode, body)
	}
}

// documentsEvent fails unless the app's /asyncapi.json has a send
// operation for event: the document follows the bound controller, with
// no step of its own.
func documentsEvent(t *testing.T, base, event string) {
	t.Helper()
	resp, err := wstest.HTTP.Get(base + "/asyncapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Operations map[string]struct{ Action string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("GET /asyncapi.json: status %d: %v", resp.StatusCode, err)
	}
	if op, ok := doc.Operations[event]; !ok || op.Action != "send" {
		t.Fatalf("/asyncapi.json has no send operation for %s: %+v", event, doc.Operations)
	}
}

// startedApp is a command serving the app on a free port.
type startedApp struct {
	base   string // http://127.0.0.1:port
	pid    int
	output *wstest.SyncBuffer
	stop   func() // kills it with its children
}

// startApp runs cmd (with args) in app with extra environment, on a free
// port, and returns once it answers /healthz. The port goes into the app's
// own manifest/config/config.yaml: GF_GCFG_FILE would also redirect the gf
// CLI, a GoFrame program, away from hack/config.yaml.
func startApp(t *testing.T, app string, env []string, cmd ...string) startedApp {
	t.Helper()
	port := wstest.FreePort(t)
	// JSON is YAML too.
	cfg := wstest.ConfigJSON(t, map[string]any{"server.address": fmt.Sprintf("127.0.0.1:%d", port)})
	if err := os.WriteFile(filepath.Join(app, "manifest", "config", "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	proc := exec.Command(cmd[0], cmd[1:]...)
	proc.Dir = app
	proc.Env = append(os.Environ(), env...)
	proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	output := &wstest.SyncBuffer{}
	proc.Stdout, proc.Stderr = output, output
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = proc.Wait(); close(exited) }()
	started := startedApp{base: fmt.Sprintf("http://127.0.0.1:%d", port), pid: proc.Process.Pid, output: output}
	started.stop = func() {
		_ = syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("output of %s:\n%s", cmd[0], output)
		}
	}
	wstest.WaitWithin(t, 3*time.Minute, "the app to answer /healthz", func() bool {
		resp, err := wstest.HTTP.Get(started.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return started
}

// gfRunRestarts starts the app with `gf run main.go`, changes a source
// file, and waits for a new process to serve, then saves a change while
// gf run builds another and waits for it to be served too. gf run must
// report no error and leave no zombie of the servers it replaced.
func gfRunRestarts(t *testing.T, app string, env []string, gf string) {
	hold := newLinkHold(t)
	gfRun := startApp(t, app, env, gf, "run", "main.go", "-e", "-toolexec="+hold.script)
	defer gfRun.stop()
	url := "ws" + strings.TrimPrefix(gfRun.base, "http") + "/ws"
	nodeOf := func() string {
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			return ""
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(wstest.Timeout))
		var welcome struct{ Data struct{ Node string } }
		if err := conn.ReadJSON(&welcome); err != nil {
			return ""
		}
		return welcome.Data.Node
	}
	first := nodeOf()
	if first == "" {
		t.Fatal("no welcome from the app under gf run")
	}
	touched := filepath.Join(app, "internal", "controller", "ws", "ws_v1_chat_typing.go")
	// gf run sets its watches up in the background; like a person saving
	// again, touch the file until the restart shows.
	touch := func() {
		f, err := os.OpenFile(touched, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteString("\n// A change gf run notices.\n")
		f.Close()
	}
	lastTouch := time.Time{}
	wstest.WaitWithin(t, 3*time.Minute, "gf run to restart the server", func() bool {
		if time.Since(lastTouch) > 5*time.Second {
			touch()
			lastTouch = time.Now()
		}
		node := nodeOf()
		return node != "" && node != first
	})
	// A change saved while gf run builds the one before, after the build
	// has read the sources, is built after it.
	hold.arm()
	touch()
	wstest.WaitWithin(t, 3*time.Minute, "gf run's build to link", hold.linking)
	const savedDuringBuild = "a change saved during a build"
	if err := os.WriteFile(filepath.Join(filepath.Dir(touched), "saved_during_build.go"),
		[]byte("package ws\n\nfunc init() { println(\""+savedDuringBuild+"\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hold.release()
	wstest.WaitWithin(t, 3*time.Minute, "gf run to serve "+savedDuringBuild, func() bool {
		return strings.Contains(gfRun.output.String(), savedDuringBuild)
	})
	for line := range strings.SplitSeq(gfRun.output.String(), "\n") {
		if !serverLogLine.MatchString(line) && strings.Contains(strings.ToLower(line), "error") {
			t.Errorf("gf run reported: %s", line)
		}
	}
	if zombies := zombiesOf(t, gfRun.pid); len(zombies) > 0 {
		t.Errorf("gf run left the servers it replaced unreaped: %s", strings.Join(zombies, ", "))
	}
}

// linkHold is a -toolexec script for go build that, while armed, holds
// the link step until released: a build in the middle, its sources read.
type linkHold struct {
	script, armed, linked string
	t                     *testing.T
}

func newLinkHold(t *testing.T) *linkHold {
	dir := t.TempDir()
	h := &linkHold{script: filepath.Join(dir, "toolexec.sh"), armed: filepath.Join(dir, "armed"), linked: filepath.Join(dir, "linking"), t: t}
	script := "#!/bin/sh\n" +
		"if [ \"$(basename \"$1\")\" = link ] && [ -e " + h.armed + " ]; then\n" +
		"\ttouch " + h.linked + "\n" +
		"\twhile [ -e " + h.armed + " ]; do sleep 0.05; done\n" +
		"fi\n" +
		"exec \"$@\"\n"
	if err := os.WriteFile(h.script, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.release)
	return h
}

// arm makes the next link wait.
func (h *linkHold) arm() {
	if err := os.WriteFile(h.armed, nil, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// linking reports whether a link waits.
func (h *linkHold) linking() bool {
	_, err := os.Stat(h.linked)
	return err == nil
}

// release lets links go on.
func (h *linkHold) release() { _ = os.Remove(h.armed) }

// serverLogLine matches the server's own log lines, which gf run passes
// through; gf run's lines have no timestamp.
var serverLogLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)

// zombiesOf lists the children of pid that have exited without being
// reaped, from /proc. Without /proc it skips the check.
func zombiesOf(t *testing.T, pid int) []string {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		t.Log("no /proc: cannot look for zombies")
		return nil
	}
	var zombies []string
	for _, file := range stats {
		data, err := os.ReadFile(file)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		stat := string(data)
		end := strings.LastIndexByte(stat, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(stat[end+1:])
		if len(fields) >= 2 && fields[0] == "Z" && fields[1] == strconv.Itoa(pid) {
			zombies = append(zombies, stat[:end+1])
		}
	}
	return zombies
}
