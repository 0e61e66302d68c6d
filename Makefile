# Aegis for Go — build, test, lint, fuzz and benchmark the multi-module workspace (go.work).
#
#   make [build]      go build every module; commands apps/cmd/* into ./bin
#   make test         every module's tests, race detector on, through the pinned Ginkgo CLI
#   make test-services  the service suites against a real Redis and S3 server it installs, starts and stops,
#                     then make interop
#   make interop      privacypass-ts (npm, pinned; needs Node.js 20+ and npm) against a real aegisd on loopback:
#                     token types 1 and 2 issued, verified, spent on a PUT and a GET, replays refused
#   make lint         gofmt, go vet, go mod tidy drift, dependency rule, workspace consistency, wire diff,
#                     module zips valid
#   make tidy         go mod tidy of every module (siblings from the working tree; scripts/tidy-check.sh --write)
#   make consumer-check  the binaries and libraries as a team gets them from a module proxy: the working tree
#                     published into a file GOPROXY, go install / go get of it outside the workspace
#   make release VERSION=vX.Y.Z  sets the version the modules require of each other, checks, prints the tags
#                     to push (pushes nothing); docs/releasing.md
#   make fuzz         every fuzz target for FUZZTIME (default 10s) each, one at a time
#   make bench        the figures of docs/performance.md: BENCHCOUNT rounds (default 5), one table, doc regenerated
#                     (BENCHTIME optional); bench-smoke: every benchmark once
#   make load         aegis-load against a real aegisd on loopback (LOAD_CLIENTS, LOAD_DURATION, LOAD_TOKEN_TYPE, LOAD_RELAY),
#                     tokens fetched during the run: requests/s and fetch share; then the same through
#                     aegis-relay (LOAD_RELAY=1, the default; 0: direct only); scripts/load.sh
#   make run          the demo: aegis (CLI) against aegisd on loopback, scripts/run-demo.sh
#   make mutants      every deliberate bug of scripts/mutants.txt must make its named tests fail (a few minutes)
#   make ci           what .ci/run runs: lint + test + consumer-check, then fuzz (5s each), then bench-smoke
#   make tools        build the pinned ginkgo and wire (scripts/tools/go.mod), and modtool, into bin/tools
#   make wire         regenerate wire_gen.go of every injector under apps
#   make clean        remove bin/ and stray test binaries and coverage files
#
# The module list below is the one place modules are listed; the scripts read it (exported) and
# `make lint-workspace` checks that go.work uses exactly these modules.

MODULES := domain crypto anonymize adapters apps benchmarks fuzz

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:
# Targets share bin/tools and print long reports: run them one at a time (go parallelises inside each).
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

GO ?= go
FUZZTIME ?= 10s
BENCHTIME ?=
BENCHCOUNT ?= 5
TEST_TIMEOUT ?= 10m
# `make test RACE=` runs without the race detector (for machines without a C compiler).
RACE ?= --race
# Ginkgo gets the module's test packages listed explicitly (see scripts/test.sh: same set as `-r`, but build
# tags respected); `make test TAGS=integration` adds build tags.
GINKGO_FLAGS ?= --randomize-all --fail-on-pending --fail-on-empty $(RACE) --keep-going \
                --timeout=$(TEST_TIMEOUT) $(if $(CI),--no-color)
TAGS ?=
ARGS ?=

export GO MODULES FUZZTIME BENCHTIME BENCHCOUNT GINKGO_FLAGS TAGS

LINT_CHECKS := fmt vet tidy deps workspace wire zip
VERSION ?=

.PHONY: build test test-services interop lint $(addprefix lint-,$(LINT_CHECKS)) tidy consumer-check release fuzz bench \
        bench-smoke load run ci tools wire clean help mutants

build:
	@bash scripts/build.sh

test:
	@bash scripts/test.sh

# The suites that need Redis and an S3 server (list: scripts/test-services.sh); `make test` skips them.
test-services:
	@bash scripts/test-services.sh

# An independent Privacy Pass client against aegisd (scripts/interop.sh); test-services runs it too.
interop:
	@bash scripts/interop.sh

# Every check runs even when an earlier one fails; the summary names the failing ones.
lint:
	@failed=""; \
	for c in $(LINT_CHECKS); do \
	  printf '\n== lint-%s\n' "$$c"; \
	  $(MAKE) lint-$$c || failed="$$failed lint-$$c"; \
	done; \
	if [ -n "$$failed" ]; then printf '\nlint: FAILED:%s\n' "$$failed"; exit 1; fi; \
	printf '\nlint: all checks passed\n'

lint-fmt:
	@bash scripts/gofmt-check.sh
lint-vet:
	@bash scripts/vet.sh
lint-tidy:
	@bash scripts/tidy-check.sh
lint-deps:
	@bash scripts/depcheck.sh
lint-workspace:
	@bash scripts/workspace-check.sh
lint-wire:
	@bash scripts/wire.sh diff
lint-zip:
	@bash scripts/zip-check.sh

tidy:
	@bash scripts/tidy-check.sh --write

consumer-check:
	@bash scripts/consumer-check.sh

release:
	@bash scripts/release.sh "$(VERSION)"

fuzz:
	@bash scripts/fuzz.sh

# The mutation check: each deliberate bug of scripts/mutants.txt, applied to a scratch copy of the tree, must make
# its named tests fail (scripts/mutants.sh; docs/testing.md, "Mutation check"). A few minutes, without -race.
mutants:
	@bash scripts/mutants.sh

bench:
	@bash scripts/bench.sh full

bench-smoke:
	@bash scripts/bench.sh smoke

load:
	@bash scripts/load.sh

# The CLI against a real aegisd on loopback (scripts/run-demo.sh). The library demo: go run ./apps/cmd/aegis-demo
run:
	@bash scripts/run-demo.sh

# lint, test and consumer-check all run (so one report shows all), then fuzz and bench-smoke when they passed.
ci:
	@start=$$(date +%s); rc=0; \
	$(MAKE) lint || rc=1; \
	$(MAKE) test || rc=1; \
	$(MAKE) consumer-check || rc=1; \
	if [ $$rc -ne 0 ]; then echo "ci: FAILED (lint, test or consumer-check), fuzz and bench-smoke not run"; exit 1; fi; \
	$(MAKE) fuzz FUZZTIME=5s; \
	$(MAKE) bench-smoke; \
	echo "ci: all stages passed in $$(( $$(date +%s) - start ))s"

tools:
	@bash -c 'source scripts/lib.sh && ensure_tools && ls "$$TOOLS_BIN"'

wire:
	@bash scripts/wire.sh gen

clean:
	rm -rf bin
	find $(MODULES) -type f -not -path '*/testdata/*' \
	  \( -name '*.test' -o -name '*.coverprofile' -o -name 'coverage.*' -o -name 'cover.out' \) -delete

help:
	@sed -n 's/^#   //p' Makefile
