#!/usr/bin/env bash
# Runs the template and the reference hub (hack/refserver) side by side on
# this machine, every wsbench mode against each, alternating, and prints
# the ratios. Both servers run with the rate limit and connection caps off.
# Usage: hack/bench.sh [rounds]   (default 2 rounds of every mode)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/template-ws" .
go build -o "$tmp/refserver" ./hack/refserver
go build -o "$tmp/wsbench" ./hack/wsbench
go build -o "$tmp/benchratio" ./hack/benchratio

template_port=8200
reference_port=8100
mkdir -p "$tmp/config"
sed -e "s/address: \":8000\"/address: \"127.0.0.1:$template_port\"/" \
	-e 's/rate: 100 /rate: 0 /' \
	-e 's/maxConnections: 100000 /maxConnections: 0 /' \
	manifest/config/config.yaml >"$tmp/config/config.yaml"
grep -q "rate: 0 " "$tmp/config/config.yaml" && grep -q "maxConnections: 0 " "$tmp/config/config.yaml" ||
	{ echo "bench config: could not turn the rate limit and caps off" >&2; exit 1; }

(cd "$tmp" && GF_GCFG_PATH="$tmp/config" exec ./template-ws >"$tmp/template.log" 2>&1) &
pids+=($!)
"$tmp/refserver" -addr "127.0.0.1:$reference_port" >"$tmp/reference.log" 2>&1 &
pids+=($!)
template_pid=${pids[0]} # the subshell exec'd into the server
reference_pid=${pids[1]}
for port in $template_port $reference_port; do
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
done

src=127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4
results="$tmp/results.jsonl"
run() { # label port pid mode args...
	local label=$1 port=$2 pid=$3 mode=$4
	shift 4
	"$tmp/wsbench" -label "$label" -url "ws://127.0.0.1:$port/ws" -src "$src" -mode "$mode" \
		$([ "$mode" = idle ] && echo "-pid $pid") "$@" | tee -a "$results"
}
for round in $(seq "$rounds"); do
	echo "round $round of $rounds" >&2
	for side in template reference; do
		if [ $side = template ]; then port=$template_port pid=$template_pid; else port=$reference_port pid=$reference_pid; fi
		run $side $port $pid idle -conns 10000
		run $side $port $pid echo -conns 50 -inflight 16 -payload 64 -duration 5s
		run $side $port $pid fanout -members 2000 -messages 50 -payload 64
		run $side $port $pid handshake -concurrency 50 -duration 5s
	done
done
echo
"$tmp/benchratio" <"$results"
