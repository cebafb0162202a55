#!/usr/bin/env bash
# Runs the template and the reference hub (hack/refserver) side by side on
# this machine, every wsbench mode against each, alternating, and prints
# the ratios. Both servers run with the rate limit and connection caps off.
# Three sections: load (idle, echo, fanout, handshake), rooms (one room
# filled with 10,000 members on each server, then the same and a
# cross-node fan-out through two template nodes sharing a redis-server,
# beside the join phase alone on two memory-broker nodes)
# and recovery (the template's fan-out with room history on against off,
# and the time a rejoin with since takes to replay 100 missed messages, on
# one node and through the two Redis nodes).
# Usage: hack/bench.sh [rounds]               (default 2 rounds of every section)
#        BENCH_ONLY=rooms hack/bench.sh 2     (one section: load, rooms or recovery)
#        BENCH_PROFILE=8 hack/bench.sh 1      (also an 8 s CPU profile of the
#                                              template node of every run, from
#                                              its start, and a heap profile of
#                                              its idle connections, in
#                                              bench-profiles/)
# Ratios want an even number of rounds: the machine's speed drifts over a
# run, and one round runs the Redis nodes after both servers' fills.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
only=${BENCH_ONLY:-}
profile=${BENCH_PROFILE:-}
profiles=$PWD/bench-profiles
case $only in
"" | load | rooms | recovery) ;;
*) echo "BENCH_ONLY=$only: want load, rooms or recovery" >&2; exit 2 ;;
esac
section() { [ -z "$only" ] || [ "$only" = "$1" ]; }
ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# Profiles of an earlier run would be listed with this one's.
if [ -n "$profile" ]; then rm -rf "$profiles"; fi
go build -o "$tmp/template-ws" .
go build -o "$tmp/refserver" ./hack/refserver
go build -o "$tmp/wsbench" ./hack/wsbench
go build -o "$tmp/benchratio" ./hack/benchratio

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # first port from $1 on that nothing listens
	local port=$1
	while listening "$port"; do port=$((port + 1)); done
	echo "$port"
}
wait_port() {
	for _ in $(seq 100); do
		listening "$1" && return
		sleep 0.1
	done
	echo "nothing listens on port $1 after 10s" >&2
	exit 1
}

# start_template name port [redis_port [history_size]]: the shipped
# configuration with the rate limit and connection caps off, on the memory
# broker or, given a Redis port, the redis broker; given a history size,
# rooms.history.size is that. Sets started_pid to the server's pid.
start_template() {
	local name=$1 port=$2 redis_port=${3:-} history_size=${4:-} conf="$tmp/$1/config.yaml"
	local edits=(-e "s/address: \":8000\"/address: \"127.0.0.1:$port\"/"
		-e 's/rate: 100 /rate: 0 /' -e 's/maxConnections: 100000 /maxConnections: 0 /')
	if [ -n "$redis_port" ]; then
		edits+=(-e 's/type: "memory" /type: "redis" /'
			-e "s/address: \"127.0.0.1:6379\"/address: \"127.0.0.1:$redis_port\"/")
	fi
	if [ -n "$history_size" ]; then
		edits+=(-e "s/^    size: 100 /    size: $history_size /")
	fi
	if [ -n "$profile" ]; then
		edits+=(-e 's/^  readHeaderTimeout: "10s"$/&\n  pprofEnabled: true/')
	fi
	mkdir -p "$tmp/$name"
	sed "${edits[@]}" manifest/config/config.yaml >"$conf"
	grep -q "rate: 0 " "$conf" && grep -q "maxConnections: 0 " "$conf" ||
		{ echo "bench config: could not turn the rate limit and caps off" >&2; exit 1; }
	if [ -n "$redis_port" ]; then
		grep -q 'type: "redis" ' "$conf" && grep -q "address: \"127.0.0.1:$redis_port\"" "$conf" ||
			{ echo "bench config: could not point the broker at Redis" >&2; exit 1; }
	fi
	if [ -n "$history_size" ]; then
		grep -q "^  history:" "$conf" && grep -q "^    size: $history_size " "$conf" ||
			{ echo "bench config: could not set rooms.history.size" >&2; exit 1; }
	fi
	# The subshell execs into the server, so its pid is the server's.
	(cd "$tmp" && GF_GCFG_PATH="$tmp/$name" exec ./template-ws >"$tmp/$name.log" 2>&1) &
	started_pid=$!
	pids+=("$started_pid")
}

template_port=8200
reference_port=8100
# start_side template|reference (re)starts that server on its port and
# sets its pid: the idle mode measures a fresh process each round, so
# that memory the runtime returns from the round before does not count.
start_side() {
	if [ "$1" = template ]; then
		if [ -n "${template_pid:-}" ]; then kill "$template_pid"; wait "$template_pid" 2>/dev/null || true; fi
		start_template template $template_port
		template_pid=$started_pid
		wait_port $template_port
	else
		if [ -n "${reference_pid:-}" ]; then kill "$reference_pid"; wait "$reference_pid" 2>/dev/null || true; fi
		"$tmp/refserver" -addr "127.0.0.1:$reference_port" >"$tmp/reference.log" 2>&1 &
		reference_pid=$!
		pids+=("$reference_pid")
		wait_port $reference_port
	fi
}
start_side template
start_side reference

# Fan-out with room history on and off: two more template instances, alike
# but for rooms.history.size.
if section recovery; then
	history_on_port=$(free_port 8300)
	start_template history-on "$history_on_port" "" 100
	wait_port "$history_on_port"
	history_off_port=$(free_port $((history_on_port + 1)))
	start_template history-off "$history_off_port" "" 0
	wait_port "$history_off_port"
fi

# Two template nodes on the memory broker, each filling its own room: the
# cost of a second node without Redis, beside the Redis fill.
if section rooms; then
	pair_a_port=$(free_port 8210)
	start_template pair-a "$pair_a_port"
	pair_a_pid=$started_pid
	wait_port "$pair_a_port"
	pair_b_port=$(free_port $((pair_a_port + 1)))
	start_template pair-b "$pair_b_port"
	pair_b_pid=$started_pid
	wait_port "$pair_b_port"
fi

# Rooms through Redis: a redis-server of its own, with nothing saved, and
# two template nodes on it.
if section rooms || section recovery; then
	redis_port=$(free_port 6390)
	mkdir -p "$tmp/redis"
	redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" --save '' --appendonly no \
		>"$tmp/redis.log" 2>&1 &
	redis_pid=$!
	pids+=("$redis_pid")
	wait_port "$redis_port"
	node_a_port=$(free_port 8201)
	start_template node-a "$node_a_port" "$redis_port"
	node_a_pid=$started_pid
	wait_port "$node_a_port"
	node_b_port=$(free_port $((node_a_port + 1)))
	start_template node-b "$node_b_port" "$redis_port"
	node_b_pid=$started_pid
	wait_port "$node_b_port"
	for port in $node_a_port $node_b_port; do
		for _ in $(seq 100); do
			curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
			sleep 0.1
		done
		curl -sf "http://127.0.0.1:$port/readyz" >/dev/null ||
			{ echo "node on port $port not ready through Redis; see its log" >&2; exit 1; }
	done
fi

src=127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4
results="$tmp/results.jsonl"
url() { echo "ws://127.0.0.1:$1/ws"; }
# busy_jiffies prints the machine's busy and total CPU time so far.
busy_jiffies() {
	local _ user nice system idle iowait irq softirq steal
	read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
	echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}
# quiet waits, at most 10 s, until the machine is at most 5% busy over
# 200 ms. A run's servers and the kernel go on working for seconds after
# the run ends (closing 10,000 sockets, freeing memory): a run started
# meanwhile was measured at up to twice its own CPU a join.
quiet() {
	local busy0 total0 busy1 total1
	for _ in $(seq 50); do
		read -r busy0 total0 < <(busy_jiffies)
		sleep 0.2
		read -r busy1 total1 < <(busy_jiffies)
		if [ $(((busy1 - busy0) * 100)) -le $(((total1 - total0) * 5)) ]; then return; fi
	done
	echo "the machine is still busy after 10 s; measuring anyway" >&2
}
run() { # label mode args...
	local label=$1 mode=$2 port profiler=""
	shift 2
	quiet
	if [ -n "$profile" ] && [ "$label" != reference ]; then
		# The node profiled is the first -url's.
		port=$(printf '%s\n' "$@" | sed -n 's#^ws://127.0.0.1:\([0-9]*\)/ws.*#\1#p' | head -1)
		mkdir -p "$profiles"
		if [ "$mode" = idle ]; then
			# What the held connections keep: the heap once they are all
			# up, well inside the CPU window.
			(sleep 25 && curl -sf -o "$profiles/$label-$mode-$round.heap" \
				"http://127.0.0.1:$port/debug/pprof/heap?gc=1") &
		else
			curl -sf -o "$profiles/$label-$mode-$round.pprof" \
				"http://127.0.0.1:$port/debug/pprof/profile?seconds=$profile" &
		fi
		profiler=$!
	fi
	"$tmp/wsbench" -label "$label" -src "$src" -mode "$mode" "$@" | tee -a "$results"
	if [ -n "$profiler" ]; then
		wait "$profiler" || echo "no profile of $label $mode: is pprof on?" >&2
	fi
}
# through_redis runs the rooms section's runs on the two Redis nodes,
# after the join phase of the same fill on the two memory nodes.
through_redis() {
	run two-nodes roomfill -url "$(url $pair_a_port),$(url $pair_b_port)" \
		-server-pids "$pair_a_pid,$pair_b_pid" -members 10000 -messages 0
	# Members split over both nodes, the publisher on node A.
	run redis roomfill -url "$(url $node_a_port),$(url $node_b_port)" \
		-server-pids "$node_a_pid,$node_b_pid,$redis_pid" -members 10000 -messages 10 -payload 64
	# Every member on node A; the publisher on A, then on B.
	run redis fanout -url "$(url $node_a_port)" -members 10000 -messages 10 -payload 64
	run redis crossnode -url "$(url $node_a_port)" -publish-url "$(url $node_b_port)" \
		-members 10000 -messages 10 -payload 64
}
for round in $(seq "$rounds"); do
	echo "round $round of $rounds" >&2
	# Odd rounds run the template, the reference, then the Redis nodes;
	# even rounds the other way round: the machine's speed drifts, and
	# this way the drift weighs on each side alike.
	sides=(template reference)
	if [ $((round % 2)) -eq 0 ]; then
		sides=(reference template)
		if section rooms; then through_redis; fi
	fi
	for side in "${sides[@]}"; do
		if section load; then
			[ "$round" -eq 1 ] || start_side $side
		fi
		if [ $side = template ]; then port=$template_port pid=$template_pid; else port=$reference_port pid=$reference_pid; fi
		if section load; then
			# 30 s of idle CPU spans a ping interval (25 s) of every connection.
			run $side idle -url "$(url $port)" -pid "$pid" -conns 10000 -cpu-window 30s
			run $side echo -url "$(url $port)" -conns 50 -inflight 16 -payload 64 -duration 5s
			run $side fanout -url "$(url $port)" -members 2000 -messages 50 -payload 64
			run $side handshake -url "$(url $port)" -concurrency 50 -duration 5s
		fi
		if section rooms; then
			run $side roomfill -url "$(url $port)" -server-pids "$pid" -members 10000 -messages 10 -payload 64
		fi
	done
	if [ $((round % 2)) -eq 1 ] && section rooms; then through_redis; fi
	if section recovery; then
		# On, off, off, on: drift over the round weighs on both alike.
		for side in history-on history-off history-off history-on; do
			if [ $side = history-on ]; then port=$history_on_port; else port=$history_off_port; fi
			run $side fanout -url "$(url $port)" -members 2000 -messages 50 -payload 64
		done
		# 100 messages missed, 100 rejoins each; through Redis the
		# publisher is on node A and the rejoins on node B.
		run memory recover -url "$(url $history_on_port)" -messages 100 -joins 100 -payload 64
		run redis recover -url "$(url $node_b_port)" -publish-url "$(url $node_a_port)" \
			-messages 100 -joins 100 -payload 64
	fi
done
echo
status=0
"$tmp/benchratio" ${only:+-only "$only"} <"$results" || status=$?
if [ -n "$profile" ]; then
	for p in "$profiles"/*.pprof; do
		echo
		echo "## $(basename "$p" .pprof)"
		go tool pprof -top -nodecount=25 "$tmp/template-ws" "$p" 2>/dev/null | sed -n '1,32p'
	done
	for p in "$profiles"/*.heap; do
		[ -e "$p" ] || continue
		echo
		echo "## $(basename "$p" .heap) (in use)"
		go tool pprof -top -sample_index=inuse_space -nodecount=25 "$tmp/template-ws" "$p" 2>/dev/null | sed -n '1,32p'
	done
fi
exit $status
