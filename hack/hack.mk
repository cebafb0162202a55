# Day-to-day gf CLI targets. Generated code is committed; `make ctrl
# service` on a clean checkout must leave `git status` clean.

# Regenerate api/*/*.go interfaces and controller stubs from api/.
.PHONY: ctrl
ctrl: cli.install
	@$(GF) gen ctrl

# Regenerate internal/service interfaces from internal/logic.
.PHONY: service
service: cli.install
	@$(GF) gen service

# Run with gf run: rebuilds and restarts on changes under the watch paths
# of hack/config.yaml. Clients reconnect after each restart.
.PHONY: run-dev
run-dev: cli.install
	@$(GF) run main.go

# Build the binary with the settings of hack/config.yaml.
.PHONY: build
build: cli.install
	@$(GF) build -ew
