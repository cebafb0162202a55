package main

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// monitor prints, every second, the clients' state and each process's
// memory and CPU (percent of one core), with Redis's used_memory.
func monitor(procs map[string]*proc, mu *sync.Mutex, clients []*client, stop <-chan struct{}) {
	last := map[int]usage{}
	lastDelivered := delivered.Load()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		var b strings.Builder
		mu.Lock()
		var redisPort int
		for _, name := range []string{"node-a", "node-b", "redis", "nginx"} {
			p := procs[name]
			select {
			case <-p.done:
				fmt.Fprintf(&b, " %s=dead", name)
				continue
			default:
			}
			pids := []int{p.pid()}
			if name == "nginx" {
				pids = append(pids, children(p.pid())...)
			}
			var rss float64
			var cpu float64
			for _, pid := range pids {
				u := sample(pid)
				rss += u.rssMB
				if l, ok := last[pid]; ok {
					cpu += float64(u.cpu-l.cpu) / float64(time.Second) * 100
				}
				last[pid] = u
			}
			fmt.Fprintf(&b, " %s=%.0fMB/%.0f%%", name, rss, cpu)
			if name == "redis" {
				redisPort = p.port
			}
		}
		mu.Unlock()
		d := delivered.Load()
		fmt.Printf("[%6.1fs] conn %5d in %5d | deliv/s %6d dup %d gap %d rec t/f %d/%d |%s redis.used=%s\n",
			time.Since(t0).Seconds(), connected.Load(), fullyIn.Load(), d-lastDelivered, dups.Load(), gapEvents.Load(),
			recTrue.Load(), recFalse.Load(), b.String(), redisInfo(redisPort, "used_memory_human"))
		lastDelivered = d
	}
}

func children(pid int) []int {
	var out []int
	raw := readFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, f := range strings.Fields(raw) {
		var c int
		fmt.Sscan(f, &c)
		out = append(out, c)
	}
	return out
}

func redisInfo(port int, field string) string {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return "?"
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(conn, "INFO memory\r\n")
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "?"
		}
		if strings.HasPrefix(line, field+":") {
			return strings.TrimSpace(strings.TrimPrefix(line, field+":"))
		}
	}
}
