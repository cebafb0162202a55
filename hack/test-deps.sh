#!/usr/bin/env bash
# Installs what the tests start for real when it is missing: nginx for the
# proxy tests, redis-server for the cluster tests, chromium for the
# demo page's browser test. As root it uses apt-get; otherwise it says what to install,
# and the tests that need a missing program skip with that reason.
# The template's scaffold test also runs the gf CLI: it is built here, once
# per machine, rather than within the test's time limit. So is the
# @asyncapi/parser the event contract's test checks /asyncapi.json with,
# into the user's cache (the version is parserVersion in
# internal/contract/asyncapi_test.go); without npm that test skips.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f scaffold_test.go ]; then
	go run ./hack/tools/gfcli -patched >/dev/null
fi

asyncapi_parser="${XDG_CACHE_HOME:-$HOME/.cache}/asyncapi-parser/3.6.3"
if [ ! -f "$asyncapi_parser/node_modules/@asyncapi/parser/package.json" ]; then
	if command -v npm >/dev/null 2>&1; then
		npm install --no-audit --no-fund --prefix "$asyncapi_parser" @asyncapi/parser@3.6.3 >/dev/null ||
			echo "could not install @asyncapi/parser into $asyncapi_parser; the event contract's test will try again" >&2
	else
		echo "the event contract's test wants npm (for @asyncapi/parser); it will skip" >&2
	fi
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
