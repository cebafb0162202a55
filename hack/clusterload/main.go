// Command clusterload runs two template nodes on one redis-server behind
// the shipped nginx upstream, connects thousands of clients spread over
// rooms through nginx, publishes steadily, kills one node with SIGKILL,
// then restarts it and drains the other, and reports how the clients came
// back: time, recoveries, gaps and duplicates in every client's offsets,
// refusals, and the processes' memory and CPU. Not part of `make test`.
// Every process it started, and its work dir, are gone when it exits,
// Ctrl-C or a failure included. From the repository's root, with a
// descriptor for each client:
//
//	ulimit -n 20000
//	go build -o /tmp/server . && go run ./hack/clusterload -bin /tmp/server
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	bin         = flag.String("bin", "", "the server binary (required)")
	root        = flag.String("root", ".", "the repository, for the shipped config and nginx file")
	nClients    = flag.Int("clients", 10000, "clients")
	perRoom     = flag.Int("per-room", 10, "clients per small room")
	bigRooms    = flag.Int("big", 3, "rooms of 1,000 clients (the first ones, also in their small room)")
	smallRate   = flag.Float64("small-rate", 0.5, "messages per second to each small room")
	bigRate     = flag.Float64("big-rate", 2, "messages per second to each big room")
	publishers  = flag.Int("publishers", 20, "publishing connections for the small rooms")
	dialRate    = flag.Int("dial-rate", 1000, "first connections per second")
	steady      = flag.Duration("steady", 15*time.Second, "publishing before and after each event")
	backWithin  = flag.Duration("back-within", 90*time.Second, "how long clients get to come back")
	historySize = flag.Int("history", 100, "rooms.history.size of the nodes")
	logLevel    = flag.String("log-level", "all", "logger.level of the nodes")
	basePort    = flag.Int("port", 18000, "first port: redis, node A, node B, nginx")
	skipRolling = flag.Bool("no-rolling", false, "stop after the kill")
	extra       = flag.Int("extra", 0, "topic rooms each client is also in")
	topics      = flag.Int("topics", 200, "topic rooms (with -extra)")
	topicRate   = flag.Float64("topic-rate", 8, "messages per second to each topic room")
	quick       = flag.Duration("quick-restart", 0, "restart node-a under its old nodeId this long after the kill, before the dead node's presence lapses")
	sameID      = flag.Bool("same-id", false, "restart node-a under its old broker.nodeId")
	keep        = flag.Bool("keep", false, "keep the work dir (configs, the processes' logs) after the run")
)

var t0 = time.Now()

func logf(format string, args ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
}

func main() {
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "-bin is required")
		os.Exit(2)
	}
	var lim syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	cleanUpOnSignal()
	defer cleanUp()
	dir, err := os.MkdirTemp("", "clusterload-")
	must(err)
	started.mu.Lock()
	started.dir = dir
	started.mu.Unlock()
	logf("work dir %s, nofile %d", dir, lim.Cur)
	*root, _ = filepath.Abs(*root)
	// A run of fewer than 1,000 clients a big room has fewer big rooms.
	*bigRooms = min(*bigRooms, (*nClients+999)/1000)
	redisPort, portA, portB, nginxPort := *basePort, *basePort+1, *basePort+2, *basePort+3
	redis := startRedis(dir, redisPort)
	a := startNode(*bin, *root, dir, "node-a", portA, redisPort)
	b := startNode(*bin, *root, dir, "node-b", portB, redisPort)
	ngx := startNginx(*root, dir, nginxPort, portA, portB)
	// procs is each role's current process, for the monitor.
	procs := map[string]*proc{"redis": redis, "node-a": a, "node-b": b, "nginx": ngx}
	var procsMu sync.Mutex
	url := fmt.Sprintf("ws://127.0.0.1:%d/ws", nginxPort)

	clients := make([]*client, *nClients)
	for i := range clients {
		c := &client{id: i, rooms: []string{fmt.Sprintf("r%04d", i / *perRoom)}}
		if i < *bigRooms*1000 {
			c.rooms = append(c.rooms, fmt.Sprintf("big%d", i/1000))
		}
		for k := 0; k < *extra; k++ {
			c.rooms = append(c.rooms, fmt.Sprintf("t%03d", (i+k*(*topics / *extra))%*topics))
		}
		clients[i] = c
	}
	nSmall := (*nClients + *perRoom - 1) / *perRoom
	var pubs []*client
	for p := 0; p < *publishers; p++ {
		c := &client{id: -1 - p, send: true}
		for r := p; r < nSmall; r += *publishers {
			c.rooms = append(c.rooms, fmt.Sprintf("r%04d", r))
		}
		pubs = append(pubs, c)
	}
	for k := 0; k < *bigRooms; k++ {
		pubs = append(pubs, &client{id: -100 - k, send: true, rooms: []string{fmt.Sprintf("big%d", k)}})
	}
	for p := 0; *extra > 0 && p < (*topics+49)/50; p++ {
		c := &client{id: -200 - p, send: true, rate: *topicRate}
		for r := p * 50; r < min(*topics, (p+1)*50); r++ {
			c.rooms = append(c.rooms, fmt.Sprintf("t%03d", r))
		}
		pubs = append(pubs, c)
	}
	total := int64(len(clients) + len(pubs))
	stop := make(chan struct{})
	go monitor(procs, &procsMu, clients, stop)

	logf("connecting %d clients (%d small rooms, %d big) and %d publishers through nginx :%d", len(clients), nSmall, *bigRooms, len(pubs), nginxPort)
	tick := time.NewTicker(time.Second / time.Duration(*dialRate))
	for _, c := range append(append([]*client{}, pubs...), clients...) {
		<-tick.C
		go c.run(url, stop)
	}
	tick.Stop()
	waitAll(total, 60*time.Second, "first joins")
	logf("per node: %v", perNode(clients))
	pubStop := make(chan struct{})
	var pubWG sync.WaitGroup
	startPublishing(pubs, nSmall, pubStop, &pubWG)
	time.Sleep(*steady)

	// Kill -9 node A.
	victims := onNode(clients, "node-a")
	logf("SIGKILL node-a (pid %d) with %d of the clients", a.pid(), len(victims))
	killed, rejoinsBefore := time.Now(), rejoinsSoFar()
	a.signal(syscall.SIGKILL)
	<-a.done
	if *quick > 0 {
		time.Sleep(*quick)
		a = startNode(*bin, *root, dir, "node-a", portA, redisPort)
		procsMu.Lock()
		procs["node-a"] = a
		procsMu.Unlock()
		logf("node-a back under its old nodeId %.1fs after the kill", time.Since(killed).Seconds())
	}
	awaitReturn(victims, killed, rejoinsBefore, total)
	checkMemberCounts(clients, pubs, fmt.Sprintf("http://127.0.0.1:%d", portB), 30*time.Second)

	if !*skipRolling && *quick == 0 {
		logf("restart node-a on :%d", portA)
		name := "node-a2"
		if *sameID {
			name = "node-a"
		}
		a2 := startNode(*bin, *root, dir, name, portA, redisPort)
		procsMu.Lock()
		procs["node-a"] = a2
		procsMu.Unlock()
		victims = onNode(clients, "node-b")
		logf("SIGTERM node-b (pid %d) with %d of the clients", b.pid(), len(victims))
		drained, rejoinsBefore := time.Now(), rejoinsSoFar()
		b.signal(syscall.SIGTERM)
		awaitReturn(victims, drained, rejoinsBefore, total)
		select {
		case <-b.done:
			logf("node-b exited %.1fs after SIGTERM", time.Since(drained).Seconds())
		case <-time.After(20 * time.Second):
			logf("node-b still running 20s after SIGTERM")
		}
		time.Sleep(*steady)
	}

	close(pubStop)
	pubWG.Wait()
	time.Sleep(3 * time.Second)
	live := portA
	if *skipRolling {
		live = portB
	}
	checkTails(clients, fmt.Sprintf("http://127.0.0.1:%d", live))
	checkMemberCounts(clients, pubs, fmt.Sprintf("http://127.0.0.1:%d", live), 30*time.Second)
	report()
	errLog, _ := os.ReadFile(filepath.Join(dir, "nginx", "error.log"))
	logf("nginx error.log: %d lines", strings.Count(string(errLog), "\n"))
	summarizeNginx(string(errLog))
	close(stop)
}

func startPublishing(pubs []*client, nSmall int, stop <-chan struct{}, wg *sync.WaitGroup) {
	logf("publishing: %.2f/s to each of %d small rooms, %.2f/s to each big room", *smallRate, nSmall, *bigRate)
	for _, p := range pubs {
		rate := *smallRate * float64(len(p.rooms))
		if strings.HasPrefix(p.rooms[0], "big") {
			rate = *bigRate
		}
		if p.rate > 0 {
			rate = p.rate * float64(len(p.rooms))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Duration(float64(time.Second) / rate))
			defer t.Stop()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				case <-t.C:
					p.publish(p.rooms[seq%len(p.rooms)], seq)
				}
			}
		}()
	}
}

// waitAll waits until all total clients and publishers are in every room
// of theirs, for within at most, and says how long that took.
func waitAll(total int64, within time.Duration, what string) {
	start := time.Now()
	for time.Since(start) < within {
		if fullyIn.Load() == total {
			logf("%s: all %d in their rooms after %.2fs", what, total, time.Since(start).Seconds())
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	logf("%s: only %d of %d in their rooms after %s", what, fullyIn.Load(), total, within)
}

func onNode(clients []*client, node string) []*client {
	var out []*client
	for _, c := range clients {
		c.mu.Lock()
		if c.node == node && c.conn != nil {
			out = append(out, c)
		}
		c.mu.Unlock()
	}
	return out
}

func perNode(clients []*client) map[string]int {
	out := map[string]int{}
	for _, c := range clients {
		c.mu.Lock()
		if c.conn != nil {
			out[c.node]++
		}
		c.mu.Unlock()
	}
	return out
}

// rejoins counts the rejoins answered recovered true and false.
type rejoins struct{ recovered, unrecovered int64 }

func rejoinsSoFar() rejoins { return rejoins{recTrue.Load(), recFalse.Load()} }

// awaitReturn waits until every client is in its rooms again and reports
// how long the victims took from the event, and the rejoins since before
// it (with -quick-restart, many come before awaitReturn is called).
func awaitReturn(victims []*client, event time.Time, before rejoins, total int64) {
	// Let the victims notice first.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && fullyIn.Load() == total {
		time.Sleep(10 * time.Millisecond)
	}
	waitAll(total, *backWithin, "after the event")
	var took []float64
	missing := 0
	for _, c := range victims {
		c.mu.Lock()
		if c.backAt.After(event) {
			took = append(took, c.backAt.Sub(event).Seconds())
		} else {
			missing++
		}
		c.mu.Unlock()
	}
	sort.Float64s(took)
	q := func(f float64) float64 {
		if len(took) == 0 {
			return -1
		}
		return took[int(f*float64(len(took)-1))]
	}
	logf("victims back: %d of %d; p50 %.2fs p90 %.2fs p99 %.2fs max %.2fs; not back %d; rejoins recovered true %d false %d; per node %v",
		len(took), len(victims), q(.5), q(.9), q(.99), q(1), missing,
		recTrue.Load()-before.recovered, recFalse.Load()-before.unrecovered, perNode(victims))
}

// checkTails compares every client's last offset of each room with the
// room's offset on the node: a client behind it lost the end of the
// stream.
func checkTails(clients []*client, base string) {
	final := map[string]uint64{}
	behind, ahead := 0, 0
	for _, c := range clients {
		c.mu.Lock()
		rooms := append([]string(nil), c.rooms...)
		c.mu.Unlock()
		for _, room := range rooms {
			off, ok := final[room]
			if !ok {
				resp, err := http.Get(base + "/api/v1/rooms/" + room + "?limit=1")
				if err != nil {
					logf("rooms API: %v", err)
					return
				}
				var body struct {
					Data struct {
						Offset uint64 `json:"offset"`
					} `json:"data"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				off = body.Data.Offset
				final[room] = off
			}
			c.mu.Lock()
			last := c.streams[room].last
			c.mu.Unlock()
			if last < off {
				behind++
				events.add("client behind the room's final offset", fmt.Sprintf("%s client %d last %d final %d", room, c.id, last, off))
			} else if last > off {
				ahead++
			}
		}
	}
	logf("tail check over %d rooms: %d client-rooms behind, %d ahead", len(final), behind, ahead)
}

func report() {
	logf("sent %d acked %d delivered %d", sent.Load(), acked.Load(), delivered.Load())
	logf("duplicates %d, gaps %d (%d messages), lost on recovered:false %d, short replays %d, live before reply %d, epoch changes %d",
		dups.Load(), gapEvents.Load(), gapMsgs.Load(), lostUnrecovered.Load(), shortReplay.Load(), lateLive.Load(), epochJumps.Load())
	logf("rejoins: recovered:true %d, recovered:false %d", recTrue.Load(), recFalse.Load())
	fmt.Print(events.dump())
}

func summarizeNginx(log string) {
	kinds := map[string]int{}
	for _, line := range strings.Split(log, "\n") {
		if i := strings.Index(line, "] "); i > 0 && line != "" {
			s := line[i+2:]
			if j := strings.Index(s, ", client"); j > 0 {
				s = s[:j]
			}
			if j := strings.Index(s, ": "); j > 0 && strings.Contains(s[:j], "#") {
				s = s[j+2:]
			}
			if strings.HasPrefix(s, "*") {
				if j := strings.IndexByte(s, ' '); j > 0 {
					s = s[j+1:]
				}
			}
			kinds[s]++
		}
	}
	for k, v := range kinds {
		fmt.Printf("  nginx %6d  %s\n", v, k)
	}
}
