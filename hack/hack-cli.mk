# The gf CLI, built from the pinned version in hack/tools/gf.mod into
# bin/gf, so every developer and CI run the same generator. gf.mod is an
# alternate module file (go build -modfile), not a nested go.mod, so the
# tools travel with the template when `gf init -r` copies its module.

GF := $(ROOT_DIR)/bin/gf

.PHONY: cli.install
cli.install: $(GF)

$(GF): hack/tools/gf.mod hack/tools/gf.sum
	@mkdir -p $(dir $(GF))
	$(GO) build -modfile=hack/tools/gf.mod -o $(GF) github.com/gogf/gf/cmd/gf/v2
	@$(GF) -v | head -1
