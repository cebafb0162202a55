# The gf CLI of the targets in hack/hack.mk. GF=/path/to/gf, on the
# command line or in the environment, picks one. Otherwise
# hack/tools/gfcli answers a gf on PATH of the version pinned in
# hack/tools/gf.mod, or builds that version once per machine into the
# user's cache directory. gf.mod is an alternate module file, not a nested
# go.mod, so the pin travels with the module when `gf init -r` copies it.

gf_cli = $(or $(shell $(GO) run ./hack/tools/gfcli $(1)),$(error no gf CLI: see the message above))

ifeq ($(origin GF),undefined)
GF = $(call gf_cli)
# gf run as released leaves every server it replaces as a zombie, and
# drops a change saved while it builds; only the cached build carries the
# fixes (hack/tools/gfcli/build.go).
gf_run = $(call gf_cli,-patched)
else
gf_run = $(GF)
endif

# Print the path of the gf CLI the targets run, building it if needed.
.PHONY: cli.install
cli.install:
	@echo $(GF)
