package wstest

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Redis is a redis-server the test started on a loopback port.
type Redis struct {
	Port   int
	t      testing.TB
	cmd    *exec.Cmd
	exited chan struct{}
	dir    string // where SAVE writes, and Start loads, dump.rdb; "" for none
}

// StartRedis runs Debian's redis-server on a free port, without
// persistence, and stops it when the test ends. The test is skipped when
// redis-server is not installed; `make test` installs it.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return StartRedisIn(t, "")
}

// StartRedisIn is StartRedis with its data in dir ("" for none): a SAVE
// writes it there, and each Start loads what the last SAVE wrote, as a
// Redis restored from a snapshot older than its last writes does.
func StartRedisIn(t testing.TB, dir string) *Redis {
	t.Helper()
	r := &Redis{Port: FreePort(t), t: t, dir: dir}
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// Addr is host:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.Port) }

// Start (re)starts the server on its port and waits until it answers.
func (r *Redis) Start() {
	r.t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		r.t.Skip("redis-server is not installed: `make test` installs it (apt-get install redis-server)")
	}
	args := []string{"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no"}
	if r.dir != "" {
		args = append(args, "--dir", r.dir)
	}
	r.cmd = exec.Command(bin, args...)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	output := &SyncBuffer{}
	r.cmd.Stdout, r.cmd.Stderr = output, output
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(r.cmd, r.exited)
	WaitFor(r.t, fmt.Sprintf("redis-server to listen on %d", r.Port), func() bool {
		select {
		case <-r.exited:
			r.t.Fatalf("redis-server exited:\n%s", output)
		default:
		}
		conn, err := net.DialTimeout("tcp", r.Addr(), time.Second)
		if err != nil {
			return false
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte("PING\r\n")); err != nil {
			return false
		}
		reply := make([]byte, 7)
		n, _ := conn.Read(reply)
		return string(reply[:n]) == "+PONG\r\n"
	})
}

// Kill stops the server at once, as a crash would.
func (r *Redis) Kill() {
	if r.cmd == nil {
		return
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	<-r.exited
	r.cmd = nil
}
