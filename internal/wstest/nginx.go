package wstest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago and that
// no other call in this process has returned. It is taken below the
// kernel's range of ephemeral ports: a port from that range may become,
// between this check and the listen of whatever the test starts on it,
// the source port of any connection the machine opens.
func FreePort(t testing.TB) int {
	t.Helper()
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	lowest, below := 10000, ephemeralPortsStart()
	if below-lowest < 1000 {
		// No room below the ephemeral range: the kernel chooses.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	for range 1000 {
		port := lowest + rand.IntN(below-lowest)
		if handedOut.ports[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		_ = l.Close()
		handedOut.ports[port] = true
		return port
	}
	t.Fatalf("no free loopback port between %d and %d", lowest, below)
	return 0
}

// handedOut is every port FreePort has returned in this process.
var handedOut = struct {
	mu    sync.Mutex
	ports map[int]bool
}{ports: make(map[int]bool)}

// ephemeralPortsStart is the first port the kernel gives outgoing
// connections (Linux's default when it cannot be read).
func ephemeralPortsStart() int {
	const linuxDefault = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return linuxDefault
	}
	first, err := strconv.Atoi(strings.Fields(string(b) + " x")[0])
	if err != nil {
		return linuxDefault
	}
	return first
}

// ShippedNginxConf returns manifest/deploy/nginx/<name> with each
// old -> new replacement applied. A replacement that matches nothing fails
// the test, so the tests follow every change to the shipped files.
func ShippedNginxConf(t testing.TB, name string, replacements ...string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(RepoRoot(t), "manifest", "deploy", "nginx", name))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	for i := 0; i+1 < len(replacements); i += 2 {
		if !strings.Contains(conf, replacements[i]) {
			t.Fatalf("%s no longer contains %q", name, replacements[i])
		}
		conf = strings.ReplaceAll(conf, replacements[i], replacements[i+1])
	}
	return conf
}

// NginxMainConf is an nginx.conf whose every file is under dir and whose
// http {} block is dir/site.conf: workers processes of connections each,
// the error log at errorLevel.
func NginxMainConf(dir string, workers, connections int, errorLevel string) string {
	main := fmt.Sprintf(`worker_processes %[2]d;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log %[4]s;
events { worker_connections %[3]d; }
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir, workers, connections, errorLevel)
	if connections > 1024 {
		// Each connection is a descriptor, a proxied one two.
		main = fmt.Sprintf("worker_rlimit_nofile %d;\n", connections+connections/4) + main
	}
	if os.Geteuid() == 0 {
		// Workers of a root master default to nobody, who cannot reach
		// dir (a test's temporary directory, a tool's work dir).
		main = "user root;\n" + main
	}
	return main
}

// StartNginx runs Debian's nginx in the foreground with httpConf inside
// its http {} block, waits until every port in ports accepts connections,
// and stops it when the test ends. The test is skipped when nginx is not
// installed; `make test` installs it.
func StartNginx(t testing.TB, httpConf string, ports ...int) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Skip("nginx is not installed: `make test` installs it (apt-get install nginx)")
		}
	}
	dir := t.TempDir()
	if params, err := os.ReadFile("/etc/nginx/fastcgi_params"); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "fastcgi_params"), params, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(httpConf), 0o644); err != nil {
		t.Fatal(err)
	}
	main := NginxMainConf(dir, 1, 1024, "info")
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off;")
	// Its own process group, so the workers go with the master.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	output := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nnginx error.log:\n%s", output, errLog)
		}
	})
	for _, port := range ports {
		WaitFor(t, fmt.Sprintf("nginx to listen on %d", port), func() bool {
			select {
			case <-exited:
				errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
				t.Fatalf("nginx exited:\n%s\n%s", output, errLog)
			default:
			}
			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
			if err != nil {
				return false
			}
			conn.Close()
			return true
		})
	}
}
