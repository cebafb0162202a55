package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	rssInterval   = 500 * time.Millisecond
	rssMaxWait    = 20 * time.Second
	idleReadSlack = 30 * time.Second
)

type idleResult struct {
	Mode         string `json:"mode"`
	Conns        int    `json:"conns"`
	RSSBeforeKB  int64  `json:"rss_before_kb"`
	RSSAfterKB   int64  `json:"rss_after_kb"`
	BytesPerConn int64  `json:"bytes_per_conn"`
	// CPUPercent is the server's CPU over -cpu-window once the
	// connections are idle, in percent of one core.
	CPUPercent *float64 `json:"cpu_percent,omitempty"`
	Label      string   `json:"label,omitempty"`
}

func runIdle(cfg *config) (any, error) {
	before, err := readRSS(cfg.pid)
	if err != nil {
		return nil, err
	}
	p := newPool(cfg.urls, cfg.srcs)
	conns := make([]*websocket.Conn, cfg.conns)
	var (
		closing atomic.Bool
		lost    atomic.Int64
		readers sync.WaitGroup
	)
	cleanup := func() {
		closing.Store(true)
		for _, c := range conns {
			closeConn(c)
		}
		readers.Wait()
	}
	// Readers keep running so that the server's pings are answered and a
	// connection the server drops is noticed.
	err = dialAll(cfg.conns, func(i int) error {
		c, err := p.dial(true)
		if err != nil {
			return err
		}
		conns[i] = c
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := c.NextReader(); err != nil {
					if !closing.Load() {
						lost.Add(1)
					}
					return
				}
			}
		}()
		return nil
	})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("dial: %w", err)
	}
	readEnd := time.Now().Add(rssMaxWait + cfg.cpuWindow + idleReadSlack)
	for _, c := range conns {
		_ = c.SetReadDeadline(readEnd)
	}

	after, err := readRSS(cfg.pid)
	stable := false
	for end := time.Now().Add(rssMaxWait); err == nil && time.Now().Before(end); {
		time.Sleep(rssInterval)
		var cur int64
		if cur, err = readRSS(cfg.pid); err != nil {
			break
		}
		diff := cur - after
		after = cur
		if diff < 0 {
			diff = -diff
		}
		if diff*100 < after {
			stable = true
			break
		}
	}
	var cpu *float64
	if err == nil && cfg.cpuWindow > 0 {
		cpu, err = cpuPercent(cfg.pid, cfg.cpuWindow)
	}
	n := lost.Load()
	cleanup()
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, fmt.Errorf("%d of %d connections were closed while idle", n, cfg.conns)
	}
	if !stable {
		fmt.Fprintf(os.Stderr, "wsbench: RSS still changing after %s; reporting the last sample\n", rssMaxWait)
	}
	return &idleResult{
		Mode: "idle", Conns: cfg.conns, RSSBeforeKB: before, RSSAfterKB: after,
		BytesPerConn: (after - before) * 1024 / int64(cfg.conns), CPUPercent: cpu, Label: cfg.label,
	}, nil
}

func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmRSS %q: %w", v, err)
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status: has the process exited?", pid)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux architecture Go runs on.
const clockTicks = 100

// cpuPercent measures pid's CPU over window, in percent of one core.
func cpuPercent(pid int, window time.Duration) (*float64, error) {
	start, err := cpuTicks(pid)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	time.Sleep(window)
	end, err := cpuTicks(pid)
	if err != nil {
		return nil, err
	}
	pct := round(float64(end-start)/clockTicks/time.Since(began).Seconds()*100, 3)
	return &pct, nil
}

// cpuTicks returns pid's user and system time so far, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading CPU time: %w", err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis, where utime and stime are the 12th
	// and 13th.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat: %q %q", pid, fields[11], fields[12])
	}
	return utime + stime, nil
}
