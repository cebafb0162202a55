# The gf CLI, built from the pinned version in hack/tools/go.mod into
# bin/gf, so every developer and CI run the same generator.

GF := $(ROOT_DIR)/bin/gf

.PHONY: cli.install
cli.install: $(GF)

$(GF): hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(dir $(GF))
	cd hack/tools && $(GO) build -o $(GF) github.com/gogf/gf/cmd/gf/v2
	@$(GF) -v | head -1
