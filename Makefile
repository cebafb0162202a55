# The two commands a newcomer needs: `make run` and `make test`.
# gf CLI targets (ctrl, service, build, run-dev, ...) live in hack/hack.mk.

GO ?= go

.DEFAULT_GOAL := run

# Run the server with manifest/config/config.yaml (in-memory broker, demo
# page at http://localhost:8000/).
.PHONY: run
run:
	$(GO) run .

# What `make test` runs: every package, with the race detector. Narrow it
# with e.g. PKGS=./internal/ws/ TESTFLAGS="-count=1 -run TestPingAndEcho".
PKGS      ?= ./...
TESTFLAGS ?= -race -count=1

# Check formatting and vet, install what the tests start (nginx, Redis,
# Chromium) when missing, then run the tests. Tests start real servers on
# loopback ports.
.PHONY: test
test: lint test-deps
	$(GO) test $(TESTFLAGS) $(PKGS)

.PHONY: test-deps
test-deps:
	@hack/test-deps.sh

# The template beside a hand-written gorilla hub: every load mode, then
# the ratios (see BENCHMARKS.md), then the Go benchmarks, which run
# whether or not every ratio met its target; it fails after them if one
# did not. Takes a few minutes.
.PHONY: bench
bench:
	@status=0; hack/bench.sh || status=$$?; \
	$(GO) test -run XXX -bench . -benchmem ./internal/ws/ ./internal/broker/ ./internal/logic/hub/ || status=1; \
	exit $$status

# gofmt and go vet, as CI runs them.
.PHONY: lint
lint:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt would change the files above: run gofmt -w . (or gofmt -w on each)" && exit 1)
	$(GO) vet ./...

# Rewrite the clients' code that follows the event contract after changing
# api/ws/v1: resource/public/ws-client.d.ts, the JS client's TypeScript
# declarations, and pkg/wsclient/events.go, the Go client's typed methods.
# make ctrl runs it too.
.PHONY: gen-client
gen-client:
	$(GO) run ./hack/gencontract

include ./hack/hack-cli.mk
include ./hack/hack.mk
