# loopp — the two entry points are `make demo` and `make test`; everything else is a step of those.
SHELL := /bin/bash
.DEFAULT_GOAL := build

NODE_MODULES_STAMP := node_modules/.installed
TSC := node_modules/.bin/tsc
BUF := node_modules/.bin/buf
GEN_STAMP := src/gen/.stamp
PROTOS := $(shell find proto -name '*.proto')
TEST_TIMEOUT_MS ?= 120000
NODE_TEST := node --test --test-concurrency=1 --test-timeout=$(TEST_TIMEOUT_MS)

.PHONY: install proto build interop-bin check-layers test test-unit test-integration test-interop demo clean bench soak fuzz

install: $(NODE_MODULES_STAMP)
$(NODE_MODULES_STAMP): package.json $(wildcard package-lock.json)
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	@touch $@

proto: $(GEN_STAMP)
# Shipped protos into src/gen (reached through src/gen.ts); test-only protos (proto/examples, proto/fixtures)
# into fixtures/gen, so they never land in the package's dist/src.
$(GEN_STAMP): $(NODE_MODULES_STAMP) buf.gen.yaml buf.gen.test.yaml buf.yaml $(PROTOS)
	rm -rf src/gen fixtures/gen
	$(BUF) generate --exclude-path proto/examples --exclude-path proto/fixtures
	$(BUF) generate --template buf.gen.test.yaml --path proto/examples --path proto/fixtures
	@touch $@

build: $(GEN_STAMP)
	$(TSC) -p tsconfig.json
	node scripts/prune-dist.js
	node scripts/make-bins.js

interop-bin:
	$(MAKE) -C go-interop

# The import rules between the layers of src/ (.dependency-cruiser.cjs); a violation prints the rule's name.
check-layers: $(GEN_STAMP)
	node_modules/.bin/depcruise src fixtures test --config .dependency-cruiser.cjs --output-type err

test: build interop-bin check-layers
	$(NODE_TEST) $$(find dist/test -name '*.test.js' | sort)

test-unit: build
	$(NODE_TEST) $$(find dist/test/unit -name '*.test.js' | sort)

test-integration: build
	$(NODE_TEST) $$(find dist/test/integration -name '*.test.js' | sort)

test-interop: build interop-bin
	$(NODE_TEST) $$(find dist/test/interop -name '*.test.js' | sort)

bench: build interop-bin
	node dist/test/bench/run.js --out dist/bench.json

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
.PHONY: docs-bench docs-soak
docs-bench: build
	node scripts/refresh-docs.js bench --json dist/bench.json --doc docs/performance.md

docs-soak: build
	node scripts/refresh-docs.js soak --json dist/soak.json --doc docs/reliability.md

demo: build interop-bin
	node dist/fixtures/demo/demo.js

clean:
	rm -rf dist bin src/gen fixtures/gen go-interop/bin
