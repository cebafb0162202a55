#!/usr/bin/env bash
# Installs what the tests start for real when it is missing: nginx for the
# proxy tests, redis-server for the cluster tests, chromium for the
# demo page's browser test. As root it uses apt-get; otherwise it says what to install,
# and the tests that need a missing program skip with that reason.
# The template's scaffold test also runs the gf CLI: it is built here, once
# per machine, rather than within the test's time limit.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f scaffold_test.go ]; then
	go run ./hack/tools/gfcli -patched >/dev/null
fi

missing=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have nginx || missing+=(nginx)
have redis-server || missing+=(redis-server)
have chromium || missing+=(chromium)

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing for the tests: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	echo "the tests want: ${missing[*]} (sudo apt-get install ${missing[*]}); the tests that need them will skip" >&2
fi
