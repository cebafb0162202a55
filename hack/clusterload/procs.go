package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gfws/template-ws/internal/wstest"
)

// proc is a child process of the run: a node, redis-server or nginx.
type proc struct {
	cmd  *exec.Cmd
	port int
	done chan struct{}
}

// started is every process the run started and its work dir. The
// processes run in process groups of their own (so that nginx's workers
// go with their master), which a Ctrl-C at the terminal does not reach:
// the run kills them itself however it ends.
var started struct {
	mu    sync.Mutex
	dir   string
	procs []*proc
	ended bool
}

// start runs bin in dir, its output appended to dir/name.log (a node
// restarted under its name adds to the log of the one killed).
func start(name, dir string, port int, bin string, env []string, args ...string) *proc {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	must(err)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		panic(err)
	}
	p := &proc{cmd: cmd, port: port, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); out.Close(); close(p.done) }()
	started.mu.Lock()
	defer started.mu.Unlock()
	if started.ended {
		p.killGroup() // the run is ending: the cleanup has passed
	} else {
		started.procs = append(started.procs, p)
	}
	return p
}

// cleanUp kills every process the run started and removes the work dir
// unless -keep is set. The end of main, a failure (a panic in main) and
// a signal all come here; the first does the work.
func cleanUp() {
	started.mu.Lock()
	defer started.mu.Unlock()
	if started.ended {
		return
	}
	started.ended = true
	for _, p := range started.procs {
		p.killGroup()
	}
	if started.dir == "" {
		return
	}
	if *keep {
		logf("work dir kept: %s", started.dir)
	} else if err := os.RemoveAll(started.dir); err != nil {
		logf("work dir: %v", err)
	}
}

// cleanUpOnSignal ends the run on SIGINT, SIGTERM or SIGHUP, exiting
// with the signal's number plus 128, as a shell reports a process it
// killed.
func cleanUpOnSignal() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-signals
		logf("%s: stopping the processes", sig)
		cleanUp()
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) signal(sig syscall.Signal) { _ = syscall.Kill(p.pid(), sig) }

func (p *proc) killGroup() { _ = syscall.Kill(-p.pid(), syscall.SIGKILL); <-p.done }

func waitPort(port int, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	panic(fmt.Sprintf("nothing listens on %d after %s", port, within))
}

func waitReady(port int, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	panic(fmt.Sprintf("node on %d not ready after %s", port, within))
}

func startRedis(dir string, port int) *proc {
	p := start("redis", dir, port, "redis-server", nil, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--maxclients", "20000")
	waitPort(port, 10*time.Second)
	return p
}

// startNode runs the shipped config with the rate limit and the
// connection cap off (as hack/bench.sh does) on the redis broker, its
// broker.nodeId name and its rooms.history.size -history.
func startNode(bin, root, dir, name string, port, redisPort int) *proc {
	raw, err := os.ReadFile(filepath.Join(root, "manifest/config/config.yaml"))
	must(err)
	conf := string(raw)
	for _, r := range [][2]string{
		{`address: ":8000"`, fmt.Sprintf(`address: "127.0.0.1:%d"`, port)},
		{"rate: 100 ", "rate: 0 "},
		{"maxConnections: 100000 ", "maxConnections: 0 "},
		{`type: "memory" `, `type: "redis" `},
		{`address: "127.0.0.1:6379"`, fmt.Sprintf(`address: "127.0.0.1:%d"`, redisPort)},
		{`nodeId: "" `, fmt.Sprintf(`nodeId: "%s" `, name)},
		{`level: "all"`, `level: "` + *logLevel + `"`},
		{"size: 100 ", fmt.Sprintf("size: %d ", *historySize)},
	} {
		if !strings.Contains(conf, r[0]) {
			panic("config.yaml has no " + r[0])
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	nd := filepath.Join(dir, name)
	must(os.MkdirAll(nd, 0o755))
	must(os.WriteFile(filepath.Join(nd, "config.yaml"), []byte(conf), 0o644))
	p := start(name, nd, port, bin, []string{"GF_GCFG_PATH=" + nd})
	waitReady(port, 20*time.Second)
	return p
}

// startNginx runs the shipped template-ws.conf with both nodes in its
// upstream, its listen port and access log moved, in an nginx whose main
// context allows the connections of the run.
func startNginx(root, dir string, front int, nodes ...int) *proc {
	raw, err := os.ReadFile(filepath.Join(root, "manifest/deploy/nginx/template-ws.conf"))
	must(err)
	conf := string(raw)
	line := regexp.MustCompile(`server 127\.0\.0\.1:8000([^;]*);`)
	params := line.FindStringSubmatch(conf)
	var servers []string
	for _, n := range nodes {
		servers = append(servers, fmt.Sprintf("server 127.0.0.1:%d%s;", n, params[1]))
	}
	conf = line.ReplaceAllLiteralString(conf, strings.Join(servers, "\n    "))
	conf = strings.Replace(conf, "listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d reuseport;", front), 1)
	conf = strings.Replace(conf, "/var/log/nginx/access.log", filepath.Join(dir, "nginx-access.log"), 1)
	nd := filepath.Join(dir, "nginx")
	must(os.MkdirAll(nd, 0o755))
	must(os.WriteFile(filepath.Join(nd, "site.conf"), []byte(conf), 0o644))
	mainConf := wstest.NginxMainConf(nd, 2, 16000, "warn")
	must(os.WriteFile(filepath.Join(nd, "nginx.conf"), []byte(mainConf), 0o644))
	p := start("nginx", nd, front, "nginx", nil, "-p", nd, "-c", filepath.Join(nd, "nginx.conf"), "-g", "daemon off;")
	waitPort(front, 10*time.Second)
	return p
}

// usage is a process's resident memory and CPU time.
type usage struct {
	rssMB float64
	cpu   time.Duration
}

func sample(pid int) usage {
	var u usage
	if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(raw)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		st, _ := strconv.ParseInt(fields[12], 10, 64)
		u.cpu = time.Duration(ut+st) * 10 * time.Millisecond
		rss, _ := strconv.ParseInt(fields[21], 10, 64)
		u.rssMB = float64(rss*4096) / (1 << 20)
	}
	return u
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func readFile(path string) string {
	raw, _ := os.ReadFile(path)
	return string(raw)
}
