# Day-to-day gf CLI targets. Generated code is committed; `make ctrl
# service` on a clean checkout must leave `git status` clean.

# Regenerate api/*/*.go interfaces and controller stubs from api/, then
# the JS client's declarations (gen-client, in the root Makefile), so that
# a new event reaches the typed clients in the same step. After gen ctrl:
# the declarations come from the controller the stubs complete.
.PHONY: ctrl
ctrl:
	@$(GF) gen ctrl
	@$(MAKE) --no-print-directory gen-client

# Regenerate internal/service interfaces from internal/logic.
.PHONY: service
service:
	@$(GF) gen service

# Run with gf run: rebuilds and restarts on every change to a Go file of
# the module (hack/config.yaml). Clients reconnect after each restart.
.PHONY: run-dev
run-dev:
	@$(gf_run) run main.go

# Build the binary with the settings of hack/config.yaml.
.PHONY: build
build:
	@$(GF) build -ew
