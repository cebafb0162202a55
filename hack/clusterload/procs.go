package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a child process of the run: a node, redis-server or nginx.
type proc struct {
	name string
	cmd  *exec.Cmd
	dir  string
	port int
	done chan struct{}
}

func start(name, dir string, port int, bin string, env []string, args ...string) *proc {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	must(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	must(cmd.Start())
	p := &proc{name: name, cmd: cmd, dir: dir, port: port, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	return p
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
// connection cap off (as hack/bench.sh does) on the redis broker.
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
	main := fmt.Sprintf(`worker_processes 2;
worker_rlimit_nofile 20000;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 16000; }
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, nd)
	if os.Geteuid() == 0 {
		main = "user root;\n" + main
	}
	must(os.WriteFile(filepath.Join(nd, "nginx.conf"), []byte(main), 0o644))
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
