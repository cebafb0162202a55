#!/usr/bin/env bash
# Installs what the tests start for real when it is missing: nginx for the
# proxy tests, redis-server for the cluster tests, chromium for the
# demo page's browser test. As root it uses apt-get; otherwise it says what to install,
# and the tests that need a missing program skip with that reason.
# The template's scaffold test also runs the gf CLI: it is built here, once
# per machine, rather than within the test's time limit. So is the
# @asyncapi/parser the event contract's test checks /asyncapi.json with,
# and the TypeScript compiler it checks ws-client.d.ts with, into the
# user's cache (the versions are parserVersion and typescriptVersion in
# internal/contract); without npm those tests skip.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f scaffold_test.go ]; then
	go run ./hack/tools/gfcli -patched >/dev/null
fi

# npm_package DIR PACKAGE VERSION installs PACKAGE@VERSION into the cache
# directory the contract tests look in, when it is not there yet.
npm_package() {
	local prefix="${XDG_CACHE_HOME:-$HOME/.cache}/$1/$3"
	[ -f "$prefix/node_modules/$2/package.json" ] && return 0
	if command -v npm >/dev/null 2>&1; then
		npm install --no-audit --no-fund --prefix "$prefix" "$2@$3" >/dev/null ||
			echo "could not install $2 into $prefix; the event contract's test will try again" >&2
	else
		echo "the event contract's tests want npm (for $2); they will skip" >&2
	fi
}
npm_package asyncapi-parser @asyncapi/parser 3.6.3
npm_package typescript typescript 5.6.3

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
