package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

const (
	roomFillMembers  = 10000
	roomFillMessages = 10
	// joinParts is how many equal parts of the join order the result
	// reports separately, so a join's cost can be seen against the room's
	// size.
	joinParts = 10
)

type roomFillResult struct {
	Mode        string  `json:"mode"`
	Members     int     `json:"members"`
	Messages    int     `json:"messages"`
	ConnectSec  float64 `json:"connect_sec"`
	JoinSec     float64 `json:"join_sec"`
	JoinsPerSec float64 `json:"joins_per_sec"`
	JoinP50ms   float64 `json:"join_p50_ms"`
	JoinP99ms   float64 `json:"join_p99_ms"`
	// JoinMeanMsByTenth[k] is the mean join time of the k-th tenth of the
	// members to be answered, and JoinsPerSecByTenth[k] the rate at which
	// that tenth was answered: flat rows mean a join does not cost more in
	// a larger room.
	JoinMeanMsByTenth  []float64 `json:"join_mean_ms_by_tenth"`
	JoinsPerSecByTenth []float64 `json:"joins_per_sec_by_tenth"`
	// JoinServerCPUus is the CPU time, in microseconds per join, that the
	// -server-pids processes spent in the join phase, each and in sum;
	// JoinClientCPUus is this tool's own. On a machine whose cores are
	// all busy, the join phase takes about as long as their total.
	JoinServerCPUus      float64   `json:"join_server_cpu_us,omitempty"`
	JoinServerCPUusByPID []float64 `json:"join_server_cpu_us_by_pid,omitempty"`
	JoinClientCPUus      float64   `json:"join_client_cpu_us"`
	deliveryStats
	Label string `json:"label,omitempty"`
}

// runRoomFill connects every member first, then joins them all to one
// room while every connection keeps reading, then fans messages out to
// them. Connecting, joining and fanning out are timed apart.
func runRoomFill(cfg *config) (any, error) {
	r := newRoomRun(cfg)
	defer r.close()
	p := newPool(cfg.urls, cfg.srcs)
	start := time.Now()
	err := dialAll(cfg.members, func(i int) error {
		m, err := r.connect(p, strconv.Itoa(i), cfg.messages)
		r.members[i] = m
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	pids := append(slices.Clone(cfg.serverPIDs), os.Getpid())
	cpuBefore, err := ticksOf(pids)
	if err != nil {
		return nil, err
	}
	joinStart := time.Now()
	joins := newJoinLog(cfg.members)
	err = dialAll(cfg.members, func(i int) error {
		sent := time.Now()
		if err := r.join(r.members[i]); err != nil {
			return err
		}
		joins.add(sent, time.Now())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("join (%d of %d answered): %w", joins.n.Load(), cfg.members, err)
	}
	joinEnd := time.Now()
	cpuAfter, err := ticksOf(pids)
	if err != nil {
		return nil, err
	}
	var stats deliveryStats
	if cfg.messages > 0 {
		if err := r.joinPublisher(); err != nil {
			return nil, err
		}
		if stats, err = r.fanOut(); err != nil {
			return nil, err
		}
	}

	res := &roomFillResult{
		Mode: "roomfill", Members: cfg.members, Messages: cfg.messages,
		ConnectSec:    round(joinStart.Sub(start).Seconds(), 3),
		JoinSec:       round(joinEnd.Sub(joinStart).Seconds(), 3),
		JoinsPerSec:   perSec(int64(cfg.members), joinEnd.Sub(joinStart)),
		deliveryStats: stats,
		Label:         cfg.label,
	}
	res.JoinMeanMsByTenth, res.JoinsPerSecByTenth = joins.parts(joinStart)
	res.JoinP50ms, res.JoinP99ms = percentiles(joins.took)
	for i := range pids {
		us := round(float64(cpuAfter[i]-cpuBefore[i])*1e6/clockTicks/float64(cfg.members), 1)
		if i == len(pids)-1 {
			res.JoinClientCPUus = us
			break
		}
		res.JoinServerCPUusByPID = append(res.JoinServerCPUusByPID, us)
		res.JoinServerCPUus = round(res.JoinServerCPUus+us, 1)
	}
	return res, nil
}

// ticksOf reads the CPU time of each process so far, in clock ticks.
func ticksOf(pids []int) ([]int64, error) {
	ticks := make([]int64, len(pids))
	for i, pid := range pids {
		t, err := cpuTicks(pid)
		if err != nil {
			return nil, err
		}
		ticks[i] = t
	}
	return ticks, nil
}

// joinLog records each join in the order its reply came, so that entry k
// was answered when the room had about k+1 members (joins overlap, up to
// dialParallel at a time).
type joinLog struct {
	n    atomic.Int64
	took []int64 // ns
	at   []time.Time
}

func newJoinLog(n int) *joinLog {
	return &joinLog{took: make([]int64, n), at: make([]time.Time, n)}
}

func (l *joinLog) add(sent, answered time.Time) {
	i := l.n.Add(1) - 1
	l.took[i] = answered.Sub(sent).Nanoseconds()
	l.at[i] = answered
}

// parts splits the joins into joinParts equal runs in answer order and
// returns each run's mean join time and its rate, the time from the end of
// the previous run (or from start) to its last answer.
func (l *joinLog) parts(start time.Time) (meanMs, perSecond []float64) {
	n := len(l.took)
	k := min(joinParts, n)
	prevEnd := start
	for part := range k {
		lo, hi := part*n/k, (part+1)*n/k
		var sum int64
		end := prevEnd
		for i := lo; i < hi; i++ {
			sum += l.took[i]
			if l.at[i].After(end) {
				end = l.at[i]
			}
		}
		meanMs = append(meanMs, round(float64(sum)/float64(hi-lo)/1e6, 3))
		perSecond = append(perSecond, perSec(int64(hi-lo), end.Sub(prevEnd)))
		prevEnd = end
	}
	return meanMs, perSecond
}
